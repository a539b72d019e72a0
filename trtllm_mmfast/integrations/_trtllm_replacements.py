"""What the TensorRT-LLM hooks install: the video loaders, the media-IO class and the fast
Qwen3-VL input processor (private; documented in ``integrations.tensorrt_llm``).

Nothing here imports TensorRT-LLM: its classes come in as arguments (``make_*``).
"""

from __future__ import annotations

import base64
import binascii
import logging
import sys
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidMediaError
from ..types import VideoFrames
from ..video.fetch import is_http_url
from ..video.policy import server_policy
from ..video.sampling import Qwen3VLSampler

__all__ = [
    "FrameList",
    "MediaLoadExecutor",
    "VIDEO_FORMATS",
    "VideoRequest",
    "clear_consumer",
    "make_async_load_video",
    "make_fast_input_processor",
    "make_video_media_io",
    "settings",
]

log = logging.getLogger(__name__)

VIDEO_FORMATS = ("pt", "np", "pil")


# ---- what a request asks for, and how we sample it ------------------------------------------


class _Default(int):
    """TensorRT-LLM's signature default (an int equal to it) that we can tell from a given value."""


_DEFAULT_NUM_FRAMES = _Default(10)
_DEFAULT_FPS = _Default(30)


@dataclass(frozen=True)
class VideoRequest:
    """TensorRT-LLM's video media-io kwargs; ``num_frames`` / ``fps`` are None when not given."""

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


@dataclass(frozen=True)
class _CappedQwen3VLSampler:
    """The processor's ``qwen3_vl`` sampler; with both fps and num_frames, num_frames caps the count."""

    base: Qwen3VLSampler
    name: str = "qwen3_vl"

    def __call__(self, total_num_frames: int, source_fps: float, *, fps: float | None = None, num_frames: int | None = None):
        if fps is not None and num_frames is not None:
            idx = self.base(total_num_frames, source_fps, fps=fps)
            if len(idx) <= num_frames:
                return idx
            fps = None
        return self.base(total_num_frames, source_fps, fps=fps, num_frames=num_frames)


# The fast Qwen3-VL input processor built last in this process (one per LLM): its HF
# processor decides how videos are sampled. TensorRT-LLM does not tell the loader the model.
_consumer: weakref.ref[Any] | None = None


def clear_consumer() -> None:
    global _consumer
    _consumer = None


def _active_sampler() -> Qwen3VLSampler | None:
    proc = _consumer() if _consumer is not None else None
    return None if proc is None else proc._mmfast_sampler


def _sampling(req: VideoRequest) -> tuple[Any, float | None, int | None, bool]:
    """(sampler, fps, num_frames, for the fast processor?) for ``load_video``."""
    sampler = _active_sampler()
    if sampler is not None:
        n = req.num_frames if req.num_frames is not None and req.num_frames > 0 else None
        f = req.fps if req.fps is not None and req.fps > 0 else None
        return _CappedQwen3VLSampler(sampler), f, n, True
    n = int(_DEFAULT_NUM_FRAMES) if req.num_frames is None else req.num_frames
    f = float(_DEFAULT_FPS) if req.fps is None else req.fps
    return "uniform", f, n, False  # TensorRT-LLM's own sampling (<= 0 disables a bound)


# ---- what we hand to TensorRT-LLM -----------------------------------------------------------


class FrameList(list):
    """``VideoData.frames`` from our loaders: per-frame items (see the module doc) plus ``.video``."""

    def __init__(self, frames: Sequence[Any], video: VideoFrames) -> None:
        super().__init__(frames)
        self.video = video


def _handover(video: VideoFrames, req: VideoRequest, *, fast: bool) -> FrameList:
    import numpy as np

    arr = video.frames
    if req.format == "pt":
        import torch

        t = (arr if isinstance(arr, torch.Tensor) else torch.from_numpy(arr)).permute(0, 3, 1, 2)
        if not fast:  # TensorRT-LLM's "pt": float32 CHW in [0, 1], as ToTensor gives
            t = t.to(torch.float32, memory_format=torch.contiguous_format).div_(255)
        if req.device != "cpu":
            t = t.to(req.device)
        return FrameList(t.unbind(0), video)
    arr = arr if isinstance(arr, np.ndarray) else arr.cpu().numpy()
    if req.format == "np":
        return FrameList(list(arr), video)
    from PIL import Image

    return FrameList([Image.fromarray(f) for f in arr], video)


def _handover_is_cheap(req: VideoRequest, fast: bool) -> bool:
    """Views only (fine on the event loop), no per-pixel work."""
    return req.format == "np" or (req.format == "pt" and fast and req.device == "cpu")


def _trtllm_metadata(video: VideoFrames) -> dict[str, Any]:
    m = video.metadata
    return {
        "total_num_frames": m.total_num_frames,
        "fps": m.fps,
        "duration": m.duration,
        "frames_indices": list(m.frames_indices),
    }


# ---- loaders --------------------------------------------------------------------------------


@dataclass
class _Settings:
    video_backend: str = "auto"


settings = _Settings()


def _load_sync(source: Any, req: VideoRequest, video_data_cls: type) -> Any:
    """Decode + hand over in the calling (executor) thread: main's ``VideoMediaIO`` path."""
    from ..video.api import load_video

    sampler, fps, num_frames, fast = _sampling(req)
    video = load_video(
        source, fps=fps, num_frames=num_frames, sampler=sampler, backend=settings.video_backend,
        policy=server_policy(),  # local paths only under TRTLLM_MMFAST_ALLOWED_MEDIA_ROOTS
    )
    return video_data_cls(frames=_handover(video, req, fast=fast), metadata=_trtllm_metadata(video))


async def _load_async(source: Any, req: VideoRequest, video_data_cls: type) -> Any:
    """Decode in the media-load pool (frame budget, timeout, stats), then hand over."""
    from ..runtime.executors import media_load_pool, run_in
    from ..runtime.pipeline import load_video_async

    sampler, fps, num_frames, fast = _sampling(req)
    video = await load_video_async(
        source, fps=fps, num_frames=num_frames, sampler=sampler, backend=settings.video_backend,
        policy=server_policy(),  # local paths only under TRTLLM_MMFAST_ALLOWED_MEDIA_ROOTS
    )
    if _handover_is_cheap(req, fast):
        frames = _handover(video, req, fast=fast)
    else:
        frames = await run_in(media_load_pool(), _handover, video, req, fast=fast)
    return video_data_cls(frames=frames, metadata=_trtllm_metadata(video))


async def _fetch(url: str) -> bytes:
    """GET ``url`` into memory with the server fetch policy (SSRF guard, byte cap, timeouts,
    checked redirects; allowlist from ``TRTLLM_MMFAST_FETCH_ALLOW``): see ``video.fetch``."""
    from ..video.fetch import fetch, server_fetch_policy

    return await fetch(url, policy=server_fetch_policy())


def make_async_load_video(video_data_cls: type) -> Callable[..., Any]:
    """The 1.2 ``chat_utils.async_load_video`` replacement (same signature and defaults)."""

    async def async_load_video(
        video: str, num_frames: int = _DEFAULT_NUM_FRAMES, fps: int = _DEFAULT_FPS, format: str = "pt", device: str = "cpu"
    ) -> Any:
        """trtllm-mmfast's loader: http(s) fetched into memory, data:/paths/file:// decoded
        directly, exact sampling, decode in the media-load pool (see the module doc)."""
        req = VideoRequest.from_trtllm(num_frames, fps, format, device)
        source = await _fetch(video) if is_http_url(video) else video
        return await _load_async(source, req, video_data_cls)

    async_load_video.__mmfast_hook__ = True  # type: ignore[attr-defined]
    return async_load_video


def make_video_media_io(base: type, video_data_cls: type) -> type:
    """main's ``VideoMediaIO`` with our decoder behind ``load_bytes`` / ``load_base64`` / ``load_file``.

    ``async_load`` (URL dispatch, TensorRT-LLM's safe HTTP client, the executor) is inherited.
    ``extract_audio`` / ``hash_source`` requests keep TensorRT-LLM's own decoder.
    """

    class FastVideoMediaIO(base):  # type: ignore[misc, valid-type]
        def __init__(
            self, num_frames: int = _DEFAULT_NUM_FRAMES, fps: int = _DEFAULT_FPS, format: str = "pt", device: str = "cpu", **kwargs: Any
        ) -> None:
            super().__init__(num_frames=num_frames, fps=fps, format=format, device=device, **kwargs)
            self._mmfast_request = VideoRequest.from_trtllm(num_frames, fps, format, device)
            self._mmfast_stock = bool(kwargs.get("extract_audio") or kwargs.get("hash_source"))

        def load_bytes(self, data: bytes) -> Any:
            if self._mmfast_stock:
                return super().load_bytes(data)
            return _load_sync(data, self._mmfast_request, video_data_cls)

        def load_base64(self, media_type: str, data: str) -> Any:
            if self._mmfast_stock:
                return super().load_base64(media_type, data)
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError) as e:
                raise InvalidMediaError(f"data URL payload is not valid base64: {e}") from None
            return self.load_bytes(raw)

        def load_file(self, url: str) -> Any:
            if self._mmfast_stock:
                return super().load_file(url)
            return _load_sync(url, self._mmfast_request, video_data_cls)

    FastVideoMediaIO.__qualname__ = FastVideoMediaIO.__name__
    return FastVideoMediaIO


class MediaLoadExecutor(Executor):
    """Forwards to the current mmfast media-load pool (``configure()`` may replace the pool)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        from ..runtime.executors import media_load_pool

        return media_load_pool().submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass  # the pool is ours: TensorRT-LLM does not get to shut it down


# ---- the fast Qwen3-VL input processor -------------------------------------------------------


def _is_float_tensor(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor) and x.is_floating_point()


def make_fast_input_processor(base: type) -> type:
    """A subclass of the registered Qwen3-VL input processor whose ``_preprocess`` feeds our
    ``VideoFrames`` to ``wrap(self.processor)`` (no re-sampling, metadata with frames_indices,
    memoized ``_merge_kwargs``). Videos not from our loader take the stock path."""
    from ..processors.qwen3_vl import sampler_for, wrap

    class FastQwen3VLInputProcessor(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            global _consumer
            super().__init__(*args, **kwargs)
            hf = getattr(self, "processor", None) or getattr(self, "_processor", None)
            try:
                self._mmfast = wrap(hf)
            except TypeError as e:  # not a Qwen3-VL HF processor: stay stock, sample as stock
                log.warning("trtllm-mmfast: %s; the Qwen3-VL input processor stays stock", e)
                self._mmfast = None
                return
            self._mmfast_sampler = sampler_for(hf)
            _consumer = weakref.ref(self)

        # Same signature in 1.2 (via __call__) and main (via call_with_text_prompt).
        def _preprocess(self, text: Any, mm_data: dict[str, Any], mm_processor_kwargs: dict[str, Any]) -> Any:
            video_datas = mm_data.get("video") or []
            clips = [getattr(vd, "frames", None) for vd in video_datas]
            if self._mmfast is None or not clips or not all(isinstance(c, FrameList) for c in clips):
                return super()._preprocess(text, mm_data, mm_processor_kwargs)
            kwargs = dict(mm_processor_kwargs or {})
            images = mm_data.get("image") or None
            if images and "do_rescale" not in kwargs and _is_float_tensor(images[0]):
                # TensorRT-LLM's "pt" images are already in [0, 1]; our uint8 video frames are not.
                kwargs["images_kwargs"] = {**kwargs.get("images_kwargs", {}), "do_rescale": False}
            return self._mmfast(
                text=[text], images=images, videos=[c.video for c in clips], padding=True, return_tensors="pt", **kwargs
            )

    FastQwen3VLInputProcessor.__qualname__ = FastQwen3VLInputProcessor.__name__
    return FastQwen3VLInputProcessor
