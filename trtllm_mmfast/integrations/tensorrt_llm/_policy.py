"""Which frames of a video reach the model, under each sampling policy (pure functions).

A request's sampling arrives in two places: ``media_io_kwargs["video"]`` (``num_frames``,
``fps``; known when the video is loaded) and ``mm_processor_kwargs`` (``num_frames``,
``fps``, ``do_sample_frames``; known only when the input processor runs). Both policies
are exact; they differ in what they are exact *to*:

- ``"hf"`` (default): what transformers' processor picks sampling the whole clip itself
  (the family's sampler: ``qwen3_vl`` or ``qwen2_vl``). ``mm_processor_kwargs`` win over
  ``media_io_kwargs``, which win over the processor's own default (its ``fps``: 2 for
  Qwen3-VL; none for Qwen2-VL / Qwen2.5-VL, i.e. every frame). Both ``fps`` and ``num_frames``: ``fps``
  with ``num_frames`` as a cap (TensorRT-LLM's reading of the pair). ``do_sample_frames=False``:
  every frame of the clip, as transformers would take it.
- ``"trtllm"``: what the installed TensorRT-LLM's stock path feeds the model. Its loader
  picks ``L`` (``num_frames=10, fps=30`` unless given, ``linspace(..., dtype=int)``), then
  its input processor decides whether the HF processor re-samples those ``len(L)`` frames:
  main's Qwen3-VL ``_decide_do_sample_frames`` (with the loader's metadata); every other
  stock processor (1.2's Qwen3-VL, Qwen2-VL / Qwen2.5-VL on both generations) passes
  ``mm_processor_kwargs`` verbatim and no metadata, so HF re-samples when its
  ``do_sample_frames`` is on (Qwen3-VL's default; not Qwen2-VL's) at an assumed 24 fps
  (also what Qwen2.5-VL's ``second_per_grid_ts`` is derived from). We compute the HF processor's pick ``S`` on ``len(L)`` frames without pixels
  and decode only ``L[S]``; the HF processor then gets those frames with
  ``do_sample_frames=False`` and the metadata stock would have left it with.

A value ``<= 0`` (TensorRT-LLM uses ``-1``) means "not given" everywhere.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ...video.sampling import uniform_indices

__all__ = [
    "SAMPLING_ENV",
    "STOCK_FPS",
    "STOCK_NUM_FRAMES",
    "CappedSampler",
    "ModelFrames",
    "VideoSampling",
    "decides_sampling",
    "hf_frames",
    "resolve_sampling",
    "stock_samples",
    "stock_loader_indices",
    "trtllm_frames",
]

VideoSampling = Literal["hf", "trtllm"]
SAMPLING_ENV = "TRTLLM_MMFAST_VIDEO_SAMPLING"
_POLICIES = ("hf", "trtllm")

# TensorRT-LLM's loader signature defaults (VideoMediaIO / _load_video_by_cv2).
STOCK_NUM_FRAMES = 10
STOCK_FPS = 30
# What transformers assumes when a video comes without metadata (1.2 passes none).
HF_ASSUMED_FPS = 24


def resolve_sampling(value: str | None) -> VideoSampling:
    """``value`` > env ``TRTLLM_MMFAST_VIDEO_SAMPLING`` > ``"hf"``; unknown names raise."""
    chosen = value if value is not None else os.environ.get(SAMPLING_ENV, "").strip() or "hf"
    if chosen not in _POLICIES:
        where = "" if value is not None else f" (from {SAMPLING_ENV})"
        raise ValueError(f"video_sampling must be one of {', '.join(map(repr, _POLICIES))}; got {chosen!r}{where}")
    return chosen  # type: ignore[return-value]


def given(value: Any) -> Any:
    """``value`` if it is a real request value, else None (``None``, ``-1``, ``<= 0``)."""
    if value is None or isinstance(value, bool):
        return None
    return value if value > 0 else None


def decides_sampling(generation: str, family: str) -> bool:
    """Does the stock input processor decide the re-sampling itself and pass the loader's
    metadata (main's Qwen3-VL), rather than hand ``mm_processor_kwargs`` to HF verbatim?"""
    return family == "qwen3_vl" and generation != "1.2"


@dataclass(frozen=True)
class CappedSampler:
    """A processor family's sampler (``qwen3_vl``, ``qwen2_vl``); with both fps and
    num_frames, num_frames caps the count (TensorRT-LLM's reading of the pair)."""

    base: Any
    name: str = "capped"

    def __call__(self, total_num_frames: int, source_fps: float, *, fps: float | None = None, num_frames: int | None = None) -> np.ndarray:
        fps, num_frames = given(fps), given(num_frames)
        if fps is not None and num_frames is not None:
            idx = self.base(total_num_frames, source_fps, fps=fps)
            if len(idx) <= num_frames:
                return idx
            fps = None
        return self.base(total_num_frames, source_fps, fps=fps, num_frames=num_frames)


@dataclass(frozen=True)
class ModelFrames:
    """What the HF processor gets for one video: the source frames ``indices`` (in order),
    and the ``video_metadata`` to pass with ``do_sample_frames=False`` (None: ours, from
    ``VideoFrames``); ``float_frames``: hand them over as float32 /255 with ``do_rescale=False``
    (TensorRT-LLM's ``"pt"`` format, so the rescale rounds exactly as stock's does)."""

    indices: np.ndarray
    hf_metadata: dict[str, Any] | None = None
    float_frames: bool = False


def hf_frames(
    sampler: Any, total: int, source_fps: float, media: Mapping[str, Any], mm: Mapping[str, Any]
) -> np.ndarray:
    """Policy ``hf``: the source indices transformers would pick from the whole clip."""
    if mm.get("do_sample_frames") is False:
        return np.arange(total)
    mm_fps, mm_n = given(mm.get("fps")), given(mm.get("num_frames"))
    if mm_fps is None and mm_n is None:
        mm_fps, mm_n = given(media.get("fps")), given(media.get("num_frames"))
    return CappedSampler(sampler)(total, source_fps, fps=mm_fps, num_frames=mm_n)


def stock_loader_indices(total: int, source_fps: float, media: Mapping[str, Any]) -> np.ndarray:
    """``L``: the frames TensorRT-LLM's stock loader decodes (both generations pick the same)."""
    n = media.get("num_frames", STOCK_NUM_FRAMES)
    f = media.get("fps", STOCK_FPS)
    return uniform_indices(total, source_fps, num_frames=n, fps=f)


def stock_samples(generation: str, video_processor: Any, loaded: Sequence[tuple[int, float]], mm: Mapping[str, Any],
                  *, family: str = "qwen3_vl") -> bool:
    """Does stock's HF processor re-sample the loaded frames? ``loaded``: (frame count,
    duration) per video of the request (main's Qwen3-VL decides for all of them at once)."""
    if "do_sample_frames" in mm:  # an explicit flag wins (verbatim processors hand it to HF)
        return bool(mm["do_sample_frames"])
    if not decides_sampling(generation, family):
        return bool(video_processor.do_sample_frames)
    if not loaded:
        return False
    n, f = given(mm.get("num_frames")), given(mm.get("fps"))  # main's _decide_do_sample_frames
    if n is None and f is None:
        return True  # no target: the HF processor re-samples at its own fps
    return any((n if n is not None else math.floor(duration * f)) != count for count, duration in loaded)


def _hf_sampling_kwargs(decides: bool, video_processor: Any, mm: Mapping[str, Any]) -> dict[str, Any]:
    """The ``fps`` / ``num_frames`` stock's HF call ends up giving ``sample_frames`` (HF fills
    unset ones from the processor's own attributes; main sends ``fps=None`` with ``num_frames``)."""
    kw = {"fps": getattr(video_processor, "fps", None), "num_frames": getattr(video_processor, "num_frames", None)}
    kw.update({k: mm[k] for k in ("fps", "num_frames") if k in mm})
    if decides and "num_frames" in mm and "fps" not in mm:
        kw["fps"] = None
    return kw


def trtllm_frames(
    generation: str,
    video_processor: Any,
    total: int,
    source_fps: float,
    media: Mapping[str, Any],
    mm: Mapping[str, Any],
    sample: bool,
    *,
    family: str = "qwen3_vl",
) -> ModelFrames:
    """Policy ``trtllm``: ``L[S]`` and the metadata stock's HF call ends with (``sample``:
    ``stock_samples`` for the request)."""
    from transformers.video_utils import VideoMetadata

    loader = stock_loader_indices(total, source_fps, media)
    n = len(loader)
    pt = media.get("format", "pt") == "pt"
    decides = decides_sampling(generation, family)
    if not decides:  # no metadata: HF makes its own (fps unknown, frames 0..n-1)
        meta = {"total_num_frames": n, "fps": None, "duration": None, "frames_indices": list(range(n))}
    else:
        meta = {"total_num_frames": n, "fps": source_fps, "duration": total / source_fps, "frames_indices": loader.tolist()}
    if not sample:
        return ModelFrames(loader, meta, float_frames=pt)
    vm = VideoMetadata(**meta)
    picked = np.asarray(video_processor.sample_frames(metadata=vm, **_hf_sampling_kwargs(decides, video_processor, mm)))
    meta = {**meta, "fps": vm.fps, "frames_indices": picked.tolist()}  # HF fills fps (24) when missing
    return ModelFrames(loader[picked], meta, float_frames=pt)
