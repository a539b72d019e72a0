"""The fast input processors the hooks register: one subclass per registered Qwen-VL input
processor class (``Qwen3VLInputProcessorBase``, ``Qwen2VLInputProcessorBase`` and their
subclasses), serving the processor family of its live HF processor
(``processors.registry.family_of``: ``qwen3_vl`` or ``qwen2_vl``); an HF processor of no known
family stays on the stock path, with a log line.

Its ``_preprocess`` takes the request's ``mm_processor_kwargs`` (``fps``, ``num_frames``,
``do_sample_frames``), works out which source frames the sampling policy gives the model
(``_policy``), takes them from the loaded ``FrameList`` — decoding from the kept source
the ones the loader did not decode (a request whose kwargs ask for other frames) — and
calls the family's ``wrap(self.processor)`` with ``do_sample_frames=False`` and the right
metadata (policy ``trtllm``: the family's stock rule, ``_policy.decides_sampling``).
Videos not from our loader take the stock path.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from typing import Any

import numpy as np

from ...errors import InvalidMediaError
from ...processors._handoff import SAMPLING_KWARGS, resize_kwargs_given
from ...processors._video_cache import frames_identity, video_identity
from ...runtime.torch_threads import cap_torch_threads
from ...types import VideoFrames
from . import _policy
from ._loader import LoadedClip, loaded_clip, trtllm_float
from ._resize import shrinking_plan
from ._settings import count, set_active_processor, settings

__all__ = ["frames_for", "make_fast_input_processor"]

log = logging.getLogger("trtllm_mmfast.integrations.tensorrt_llm")



def frames_for(clip: LoadedClip, indices: np.ndarray, resize_for: Any = None) -> VideoFrames:
    """The frames ``indices`` (source numbers, in order) of a loaded clip; the ones it lacks are
    decoded from ``clip.source``. Frames the source cannot give (damage) are left out. Frames
    resized at load time fit only their own count and the processor's defaults: other
    ``indices`` are decoded again, resized for ``resize_for`` (the fast processor) at their
    count, or at full size when ``resize_for`` is None (a call with its own resize settings)."""
    video = clip.video
    resized = video.metadata.frames_size is not None
    if np.array_equal(indices, video.metadata.frames_indices) and not (resized and resize_for is None):
        return video
    if resized:
        again = _decode_missing(clip, tuple(int(i) for i in indices), resize_for)
        return VideoFrames(frames=again.frames, metadata=dataclasses.replace(again.metadata, source_digest=video.metadata.source_digest))
    have = {int(i): k for k, i in enumerate(video.metadata.frames_indices)}
    missing = tuple(sorted(set(indices.tolist()) - have.keys()))
    arrays = [video.frames]
    if missing:
        extra = _decode_missing(clip, missing)
        base = len(video)
        have.update({int(i): base + k for k, i in enumerate(extra.metadata.frames_indices)})
        arrays.append(extra.frames)
    kept = [int(i) for i in indices if int(i) in have]
    pool = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
    frames = np.ascontiguousarray(pool[[have[i] for i in kept]])
    return VideoFrames(frames=frames, metadata=dataclasses.replace(video.metadata, frames_indices=tuple(kept)))


def _decode_missing(clip: LoadedClip, missing: tuple[int, ...], resize_for: Any = None) -> VideoFrames:
    """The frames a re-planned request needs beyond the loaded ones (through the repeat-video
    cache when it is on: a chat resending the same kwargs decodes them once); ``resize_for``:
    resized as decoded for that processor (``missing`` is then the request's whole plan)."""
    if clip.source is None:
        raise InvalidMediaError("this video was loaded without its source; cannot decode the frames the request asks for")

    def decode() -> VideoFrames:
        from ...video.reader import open_video

        with open_video(clip.source, backend=settings.video_backend, decoder_threads=settings.decoder_threads) as opened:
            extra = opened.decode(np.asarray(missing), resize_for=resize_for)
        count("replanned_videos")
        count("replanned_frames", len(extra))
        return extra

    cache, digest = settings.cache, clip.video.metadata.source_digest
    if cache is None or digest is None:
        return decode()
    from ...cache import make_key

    resize = None
    if resize_for is not None:
        from ...video.resize import ResizePlan

        resize = ResizePlan.of(resize_for).cache_key()
    key = make_key(digest, "frames", indices=missing, backend=settings.video_backend, replanned=True, resize=resize)
    return cache.get_or_compute(key, decode)[0]


def _model_frames(clip: LoadedClip, sampler: Any, vp: Any, mm: dict[str, Any], sample: bool, family: str,
                  fast: Any = None) -> tuple[Any, dict | None, Any, bool]:
    """(frames for the HF processor, its ``video_metadata`` or None for ours, the processed-video
    cache's identity of those frames or None where ``VideoFrames`` name themselves, resized as
    decoded?) for one clip. ``fast``: the processor pre-resized frames may be made for (None: none)."""
    m = clip.video.metadata
    if settings.video_sampling == "hf":
        if not any(k in mm for k in SAMPLING_KWARGS):
            want = np.asarray(m.frames_indices)  # the loader's plan is the request's plan
        else:
            want = _policy.hf_frames(sampler, m.total_num_frames, m.fps, clip.request.given_kwargs(), mm)
        video = frames_for(clip, want, fast)
        return video, None, None, video.metadata.frames_size is not None
    plan = _policy.trtllm_frames(settings.generation, vp, m.total_num_frames, m.fps, clip.request.media_kwargs(), mm, sample,
                                 family=family)
    video = frames_for(clip, plan.indices, fast)
    meta = dict(plan.hf_metadata or {})
    if len(video) != len(plan.indices):  # damaged input: keep the metadata of the frames we have
        got = set(video.metadata.frames_indices)
        meta["frames_indices"] = [j for i, j in zip(plan.indices.tolist(), meta["frames_indices"]) if i in got]
    import torch

    t = torch.from_numpy(video.frames).permute(0, 3, 1, 2)
    handover = "uint8"
    if plan.float_frames:  # TensorRT-LLM's "pt" frames: float [0, 1], rounded as stock's
        t, handover = trtllm_float(t), f"float32/{settings.generation}"
    return t, meta, frames_identity(m.source_digest, video.metadata.frames_indices, handover), video.metadata.frames_size is not None


def _stock_samples(clips: list[LoadedClip], vp: Any, mm: dict[str, Any], family: str) -> bool:
    """Policy ``trtllm``: stock's one re-sampling decision for all videos of the request."""
    loaded = []
    for c in clips:
        m = c.video.metadata
        n = len(_policy.stock_loader_indices(m.total_num_frames, m.fps, c.request.media_kwargs()))
        loaded.append((n, m.duration))
    return _policy.stock_samples(settings.generation, vp, loaded, mm, family=family)


def _with_cache(module: Any, fast: Any, cache: Any) -> Any:
    """The fast processor using ``cache`` (None: none) for its processed videos."""
    if cache is None:
        return dataclasses.replace(fast, cache=None)
    return module.wrap(fast.hf, memo=fast.memo is not None, cache=cache, fused=fast.fused)


def _is_float_tensor(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor) and x.is_floating_point()


def _family_processor(processor: Any) -> tuple[Any, Any, Any] | None:
    """(its HF processor, family, family module) of an input processor; None (logged) if unknown."""
    from ...processors.registry import family_of, get

    hf = getattr(processor, "processor", None) or getattr(processor, "_processor", None)
    try:
        family = family_of(hf)
    except TypeError as e:  # not a known HF processor: stay stock, sample as stock
        log.warning("trtllm-mmfast: %s; %s stays stock", e, type(processor).__name__)
        return None
    return hf, family, get(family.name)


def _request_kwargs(fast: Any, clips: list[LoadedClip], text: Any, mm_data: dict[str, Any], mm_processor_kwargs: Any) -> dict[str, Any]:
    """The fast processor's call for one request (kwargs of ``fast._mmfast(...)``)."""
    kwargs = dict(mm_processor_kwargs or {})
    sampling = {k: kwargs.pop(k) for k in SAMPLING_KWARGS if k in kwargs}
    vp, family = fast._mmfast.hf.video_processor, fast._mmfast_family.name
    sample = settings.video_sampling == "trtllm" and _stock_samples(clips, vp, sampling, family)
    resize_for = None if resize_kwargs_given(kwargs) else shrinking_plan(fast)  # own resize settings: full frames
    quads = [_model_frames(c, fast._mmfast_sampler, vp, sampling, sample, family, resize_for) for c in clips]
    if len({r for _, _, _, r in quads}) > 1:  # some shrank as decoded, some did not: the processor resizes all or none
        count("mixed_resize_requests")
        quads = [_model_frames(c, fast._mmfast_sampler, vp, sampling, sample, family) for c in clips]  # full frames
    videos = [v for v, _, _, _ in quads]
    identity = None
    if quads[0][1] is not None:  # policy trtllm: tensors + stock's metadata
        kwargs["video_metadata"] = [m for _, m, _, _ in quads]
        identity = tuple(i for _, _, i, _ in quads)
        if _is_float_tensor(videos[0]):
            kwargs["videos_kwargs"] = {**kwargs.get("videos_kwargs", {}), "do_rescale": False}
        if quads[0][3]:  # every video resized as decoded, exactly as this processor would
            kwargs["videos_kwargs"] = {**kwargs.get("videos_kwargs", {}), "do_resize": False}
    images = mm_data.get("image") or None
    if images and "do_rescale" not in kwargs and _is_float_tensor(images[0]):
        # TensorRT-LLM's "pt" images are already in [0, 1]; our uint8 video frames are not.
        kwargs["images_kwargs"] = {**kwargs.get("images_kwargs", {}), "do_rescale": False}
        if settings.video_sampling == "trtllm" and not _is_float_tensor(videos[0]):
            # Stock's one do_rescale flag (False: the first image is a tensor) reaches its uint8
            # "np" video frames too, which it then leaves unscaled: policy trtllm gives that.
            kwargs["videos_kwargs"] = {**kwargs.get("videos_kwargs", {}), "do_rescale": False}
    return {"text": [text], "images": images, "videos": videos, "padding": True, "return_tensors": "pt",
            "_identity": identity, **kwargs}


def _images_only(fast: Any, text: Any, images: list[Any], mm_processor_kwargs: Any) -> Any:
    """A request with images and no video: stock's exact HF call (its ``do_rescale`` rule, the
    request's kwargs verbatim) on the HF processor the fast one wraps, whose ``_merge_kwargs``
    memo then serves it (images stay as TensorRT-LLM loaded them: float "pt" must stay float)."""
    cap_torch_threads()
    count("image_requests")
    do_rescale = not _is_tensor(images[0])  # TensorRT-LLM's "pt" images are already in [0, 1]
    return fast._mmfast.hf(text=[text], images=images, videos=None, padding=True, do_rescale=do_rescale,
                           return_tensors="pt", **(mm_processor_kwargs or {}))


def _is_tensor(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def make_fast_input_processor(base: type, name: str = "FastQwen3VLInputProcessor") -> type:
    """A subclass of the registered Qwen-VL input processor class ``base`` with the fast ``_preprocess``."""
    from ...processors._video_cache import processor_fingerprint

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        base.__init__(self, *args, **kwargs)
        found = _family_processor(self)
        self._mmfast = None
        if found is None:
            return
        hf, self._mmfast_family, self._mmfast_module = found
        self._mmfast = self._mmfast_module.wrap(hf, cache=settings.cache)
        self._mmfast_sampler = self._mmfast_module.sampler_for(hf)
        self._mmfast_fingerprint = processor_fingerprint(hf)
        set_active_processor(self)

    # Same signature in 1.2 (via __call__) and main (via call_with_text_prompt).
    def _preprocess(self: Any, text: Any, mm_data: dict[str, Any], mm_processor_kwargs: dict[str, Any]) -> Any:
        clips = [loaded_clip(getattr(vd, "frames", None)) for vd in mm_data.get("video") or []]
        if self._mmfast is not None and not clips and mm_data.get("image"):
            return _images_only(self, text, mm_data["image"], mm_processor_kwargs)
        if self._mmfast is None or not clips or any(c is None for c in clips):
            return base._preprocess(self, text, mm_data, mm_processor_kwargs)
        cap_torch_threads()  # TensorRT-LLM's input-processor threads: no oversubscription
        if self._mmfast.cache is not settings.cache:  # enable() changed the cache since
            self._mmfast = _with_cache(self._mmfast_module, self._mmfast, settings.cache)
        call = _request_kwargs(self, clips, text, mm_data, mm_processor_kwargs)
        with video_identity(call.pop("_identity")):
            return self._mmfast(**call)

    fast = type(name, (base,), {"__init__": __init__, "_preprocess": _preprocess, "__module__": __name__})
    fast.__qualname__ = name
    return fast
