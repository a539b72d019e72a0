"""What the video-loader hooks install: main's ``VideoMediaIO`` subclass, 1.2's
``async_load_video``, and the ``FrameList`` they hand to TensorRT-LLM.

Nothing here imports TensorRT-LLM: its classes come in as arguments (``make_*``).

Every video we load carries ``raw_bytes_hash`` (where TensorRT-LLM's ``VideoData`` has the
field): the BLAKE3 hex digest of the source bytes, the digest TensorRT-LLM computes itself,
so ``VideoData.update_hash`` hashes that instead of every frame. ``hash_source`` (a 2026
server default) therefore needs nothing of the stock decoder. ``extract_audio`` requests
use TensorRT-LLM's own decoder (counted in ``stats()``, logged once).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InvalidMediaError
from ...types import VideoFrames
from ...video.policy import server_policy
from ...video.source import MediaSource, resolve_source
from . import _policy
from ._resize import resize_target
from ._settings import active_processor, count, fallback, settings, warn_once

__all__ = [
    "VIDEO_FORMATS",
    "FrameArray",
    "FrameList",
    "LoadedClip",
    "MediaLoadExecutor",
    "VideoRequest",
    "loaded_clip",
    "make_async_load_video",
    "make_video_media_io",
    "source_hash",
    "trtllm_float",
]

VIDEO_FORMATS = ("pt", "np", "pil")


class _Default(int):
    """TensorRT-LLM's signature default (an int equal to it) that we can tell from a given value."""


_DEFAULT_NUM_FRAMES = _Default(_policy.STOCK_NUM_FRAMES)
_DEFAULT_FPS = _Default(_policy.STOCK_FPS)


@dataclass(frozen=True)
class VideoRequest:
    """TensorRT-LLM's video media-io kwargs as given: ``num_frames`` / ``fps`` are None when
    the request (and server) left them at the loader's defaults."""

    num_frames: int | None = None
    fps: float | None = None
    format: str = "pt"
    device: str = "cpu"

    @classmethod
    def from_trtllm(cls, num_frames: Any, fps: Any, format: str, device: str) -> "VideoRequest":
        if format not in VIDEO_FORMATS:
            raise ValueError(f"video format must be one of {', '.join(map(repr, VIDEO_FORMATS))}; got {format!r}")
        return cls(
            num_frames=None if num_frames is _DEFAULT_NUM_FRAMES or num_frames is None else int(num_frames),
            fps=None if fps is _DEFAULT_FPS or fps is None else float(fps),
            format=format,
            device=str(device),
        )

    def media_kwargs(self) -> dict[str, Any]:
        """The loader kwargs as stock TensorRT-LLM reads them (its defaults filled in)."""
        return {
            "num_frames": _policy.STOCK_NUM_FRAMES if self.num_frames is None else self.num_frames,
            "fps": _policy.STOCK_FPS if self.fps is None else self.fps,
            "format": self.format,
        }

    def given_kwargs(self) -> dict[str, Any]:
        """Only what was given (policy ``hf`` falls back to the processor's own default)."""
        return {"num_frames": self.num_frames, "fps": self.fps}


@dataclass(frozen=True)
class LoadedClip:
    """What our loaders attach to ``VideoData.frames``: the decoded ``video`` (one uint8
    (N,H,W,3) array + metadata), its ``source`` (to decode more frames when the request's
    ``mm_processor_kwargs`` re-plan it) and the media-io ``request`` it was loaded with."""

    video: VideoFrames
    source: MediaSource | None = None
    request: VideoRequest = VideoRequest()


class FrameList(list):
    """``VideoData.frames`` as a list of per-frame items (TensorRT-LLM's "pt" / "pil", and
    "np" before it became one array), plus ``.clip`` (a ``LoadedClip``) and ``.video``."""

    def __init__(self, frames: Sequence[Any], video: VideoFrames, *, source: MediaSource | None = None,
                 request: VideoRequest | None = None) -> None:
        super().__init__(frames)
        self.clip = LoadedClip(video, source, request or VideoRequest())

    @property
    def video(self) -> VideoFrames:
        return self.clip.video


class FrameArray(np.ndarray):
    """``VideoData.frames`` for newest main's "np" format: the one uint8 (N,H,W,3) array
    (a view of ``.video.frames``, no copy), plus ``.clip``. Slices are plain arrays."""

    clip: LoadedClip | None

    @classmethod
    def wrap(cls, clip: LoadedClip) -> "FrameArray":
        out = clip.video.frames.view(cls)
        out.clip = clip
        return out

    def __array_finalize__(self, obj: Any) -> None:
        self.clip = None  # only wrap() makes one of ours: a slice is not the loaded clip

    def __reduce__(self) -> Any:
        return (_rebuild_frame_array, (self.clip,)) if self.clip is not None else np.asarray(self).__reduce__()

    @property
    def video(self) -> VideoFrames:
        assert self.clip is not None
        return self.clip.video


def _rebuild_frame_array(clip: LoadedClip) -> FrameArray:
    return FrameArray.wrap(clip)


def loaded_clip(frames: Any) -> LoadedClip | None:
    """The ``LoadedClip`` of frames our loaders produced, else None (stock frames)."""
    return getattr(frames, "clip", None) if isinstance(frames, (FrameList, FrameArray)) else None


def _handover(video: VideoFrames, req: VideoRequest, *, fast: bool, source: MediaSource | None = None) -> Any:
    arr = video.frames
    keep = {"source": source, "request": req}
    if req.format == "pt":
        import torch

        t = (arr if isinstance(arr, torch.Tensor) else torch.from_numpy(arr)).permute(0, 3, 1, 2)
        if not fast:  # TensorRT-LLM's "pt": float32 CHW in [0, 1]
            t = trtllm_float(t)
        if req.device != "cpu":
            t = t.to(req.device)
        return FrameList(t.unbind(0), video, **keep)
    arr = arr if isinstance(arr, np.ndarray) else arr.cpu().numpy()
    if req.format == "np":
        if settings.array_frames:  # newest main: one (N,H,W,3) uint8 array
            return FrameArray.wrap(LoadedClip(video, source, req))
        return FrameList(list(arr), video, **keep)
    from PIL import Image

    return FrameList([Image.fromarray(f) for f in arr], video, **keep)


def trtllm_float(t: Any) -> Any:
    """uint8 NCHW -> float32 in [0, 1] rounded as the installed TensorRT-LLM's "pt" format
    rounds: main multiplies by 1/255 (numpy, float32), 1.2 divides by 255 (``ToTensor``)."""
    import torch

    t = t.to(torch.float32, memory_format=torch.contiguous_format)
    return t.div_(255) if settings.generation == "1.2" else t.mul_(1 / 255)


def _handover_is_cheap(req: VideoRequest, fast: bool) -> bool:
    """Views only (fine on the event loop), no per-pixel work."""
    return req.format == "np" or (req.format == "pt" and fast and req.device == "cpu")


@dataclass(frozen=True)
class _TrtllmPathSampler:
    """Policy ``trtllm`` at load time: ``L[S]`` for a request without ``mm_processor_kwargs``."""

    generation: str
    video_processor: Any
    media: tuple[tuple[str, Any], ...]
    fingerprint: str = ""  # the video processor's configuration, hashed (its picks depend on it)
    family: str = "qwen3_vl"  # the processor family (its stock input processor's rule)
    name: str = "trtllm"

    def cache_key(self) -> tuple:
        return (self.name, self.generation, self.family, self.fingerprint, self.media)

    def __call__(self, total_num_frames: int, source_fps: float, *, fps: Any = None, num_frames: Any = None) -> np.ndarray:
        media = dict(self.media)
        n = len(_policy.stock_loader_indices(total_num_frames, source_fps, media))
        loaded = [(n, total_num_frames / source_fps)]
        sample = _policy.stock_samples(self.generation, self.video_processor, loaded, {}, family=self.family)
        plan = _policy.trtllm_frames(self.generation, self.video_processor, total_num_frames, source_fps, media, {}, sample,
                                     family=self.family)
        return np.unique(plan.indices)


def _sampling(req: VideoRequest) -> tuple[Any, float | None, int | None, bool]:
    """(sampler, fps, num_frames, for the fast processor?) for ``load_video``."""
    proc = active_processor()
    fast = getattr(proc, "_mmfast", None)
    media = req.media_kwargs()
    if fast is None:  # no fast input processor here: TensorRT-LLM's own sampling
        return "uniform", media["fps"], media["num_frames"], False
    if settings.video_sampling == "trtllm":
        vp = fast.hf.video_processor
        sampler = _TrtllmPathSampler(settings.generation, vp, tuple(sorted(media.items())), proc._mmfast_fingerprint,
                                     proc._mmfast_family.name)
        return sampler, None, None, True
    sampler = _policy.CappedSampler(proc._mmfast_sampler)
    fps, num_frames = _policy.given(req.fps), _policy.given(req.num_frames)
    if fps is None and num_frames is None and _takes_every_frame(proc._mmfast_sampler):
        _warn_every_frame(proc._mmfast_family.name)
    return sampler, fps, num_frames, True


def _takes_every_frame(sampler: Any) -> bool:
    """A processor with no default fps / num_frames (transformers' Qwen2-VL): every frame."""
    return getattr(sampler, "fps", 0) is None and getattr(sampler, "num_frames", 0) is None


def _warn_every_frame(family: str) -> None:
    warn_once(
        f"every_frame.{family}", "every_frame_videos",
        f"the {family} processor has no default fps or num_frames, so under video_sampling='hf' a request giving "
        "neither sends every frame of its clip to the model, as transformers would; set one (--media_io_kwargs "
        "'{\"video\": {\"fps\": 2}}' or per request), or video_sampling='trtllm' for TensorRT-LLM's own 10 frames",
    )


def _trtllm_metadata(video: VideoFrames, req: VideoRequest, fast: bool) -> dict[str, Any]:
    """TensorRT-LLM's metadata keys. Policy ``trtllm``: the stock loader's own indices, so that
    everything TensorRT-LLM derives from the metadata (its multimodal hash) is stock's."""
    m = video.metadata
    indices = list(m.frames_indices)
    if fast and settings.video_sampling == "trtllm":
        indices = _policy.stock_loader_indices(m.total_num_frames, m.fps, req.media_kwargs()).tolist()
    return {"total_num_frames": m.total_num_frames, "fps": m.fps, "duration": m.duration, "frames_indices": indices}


def source_hash(src: MediaSource) -> str:
    """BLAKE3 hex digest of the source bytes (what TensorRT-LLM puts in ``raw_bytes_hash``)."""
    import blake3

    h = blake3.blake3()
    if src.data is not None:
        h.update(src.data)
    else:
        h.update_mmap(src.path)
    return h.hexdigest()


def _resolve(source: Any) -> MediaSource:
    return resolve_source(source, policy=server_policy())  # local paths only under TRTLLM_MMFAST_ALLOWED_MEDIA_ROOTS


def _video_data(cls: type, frames: Any, video: VideoFrames, req: VideoRequest, fast: bool, src: MediaSource) -> Any:
    kwargs: dict[str, Any] = {"frames": frames, "metadata": _trtllm_metadata(video, req, fast)}
    if "raw_bytes_hash" in getattr(cls, "__dataclass_fields__", {}):
        kwargs["raw_bytes_hash"] = video.metadata.source_digest or source_hash(src)  # the cache hashed it already
    count("videos_loaded")
    return cls(**kwargs)


def _load_sync(source: Any, req: VideoRequest, video_data_cls: type) -> Any:
    """Decode + hand over in the calling (executor) thread: main's ``VideoMediaIO`` path."""
    from ...video.api import load_video

    src = _resolve(source)
    sampler, fps, num_frames, fast = _sampling(req)
    video = load_video(
        src, fps=fps, num_frames=num_frames, sampler=sampler, backend=settings.video_backend, cache=settings.cache,
        decoder_threads=settings.decoder_threads, resize_for=resize_target(req.format, video_data_cls, fast),
    )  # fmt: skip
    return _video_data(video_data_cls, _handover(video, req, fast=fast, source=src), video, req, fast, src)


async def _load_async(source: Any, req: VideoRequest, video_data_cls: type) -> Any:
    """Decode in the media-load pool (frame budget, timeout, stats), then hand over: 1.2's path."""
    from ...runtime.executors import media_load_pool, run_in
    from ...runtime.pipeline import load_video_async

    src = _resolve(source)
    sampler, fps, num_frames, fast = _sampling(req)
    video = await load_video_async(
        src, fps=fps, num_frames=num_frames, sampler=sampler, backend=settings.video_backend, cache=settings.cache,
        decoder_threads=settings.decoder_threads,
    )  # fmt: skip
    if _handover_is_cheap(req, fast):
        frames = _handover(video, req, fast=fast, source=src)
    else:
        frames = await run_in(media_load_pool(), _handover, video, req, fast=fast, source=src)
    return _video_data(video_data_cls, frames, video, req, fast, src)


def make_async_load_video(video_data_cls: type) -> Callable[..., Any]:
    """The 1.2 ``chat_utils.async_load_video`` replacement (same signature and defaults)."""

    async def async_load_video(
        video: str, num_frames: int = _DEFAULT_NUM_FRAMES, fps: int = _DEFAULT_FPS, format: str = "pt", device: str = "cpu"
    ) -> Any:
        """trtllm-mmfast's loader: http(s) fetched into memory, data:/paths/file:// decoded
        directly, exact sampling, decode in the media-load pool (see the module doc)."""
        from ...runtime.executors import media_load_pool
        from ...video.fetch import server_fetch_policy
        from ...video.source import resolve_source_async

        req = VideoRequest.from_trtllm(num_frames, fps, format, device)
        # http(s) fetched into memory with the server fetch policy (SSRF guard, byte cap,
        # checked redirects; TRTLLM_MMFAST_FETCH_ALLOW), failures counted, errors naming the URL
        src = await resolve_source_async(
            video, policy=server_policy(), fetch_policy=server_fetch_policy(), executor=media_load_pool()
        )
        return await _load_async(src, req, video_data_cls)

    async_load_video.__mmfast_hook__ = True  # type: ignore[attr-defined]
    return async_load_video


def make_video_media_io(base: type, video_data_cls: type) -> type:
    """main's ``VideoMediaIO`` with our decoder behind ``load_bytes`` / ``load_base64`` / ``load_file``.

    ``async_load`` (URL dispatch, TensorRT-LLM's safe HTTP client, the executor) is inherited.
    Every other keyword (``hash_source``, ``extract_audio``) goes to the stock ``__init__``.
    """

    class FastVideoMediaIO(base):  # type: ignore[misc, valid-type]
        def __init__(
            self, num_frames: int = _DEFAULT_NUM_FRAMES, fps: int = _DEFAULT_FPS, format: str = "pt", device: str = "cpu", **kwargs: Any
        ) -> None:
            super().__init__(num_frames=num_frames, fps=fps, format=format, device=device, **kwargs)
            self._mmfast_request = VideoRequest.from_trtllm(num_frames, fps, format, device)
            self._mmfast_audio = bool(kwargs.get("extract_audio"))

        def _stock(self) -> bool:
            if self._mmfast_audio:
                fallback("extract_audio", "a video request asks for extract_audio, which trtllm-mmfast does not demux")
            return self._mmfast_audio

        def load_bytes(self, data: bytes) -> Any:
            if self._stock():
                return super().load_bytes(data)
            return _load_sync(data, self._mmfast_request, video_data_cls)

        def load_base64(self, media_type: str, data: str) -> Any:
            if self._mmfast_audio:
                return super().load_base64(media_type, data)
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError) as e:
                raise InvalidMediaError(f"data URL payload is not valid base64: {e}") from None
            return self.load_bytes(raw)

        def load_file(self, url: str) -> Any:
            if self._stock():
                return super().load_file(url)
            return _load_sync(url, self._mmfast_request, video_data_cls)

    FastVideoMediaIO.__qualname__ = FastVideoMediaIO.__name__
    return FastVideoMediaIO


class MediaLoadExecutor(Executor):
    """Forwards to the current mmfast media-load pool (``configure()`` may replace the pool)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        from ...runtime.executors import media_load_pool

        return media_load_pool().submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass  # the pool is ours: TensorRT-LLM does not get to shut it down
