"""Frame samplers: pure functions from (frame count, source fps, request) to source indices.

``qwen3_vl`` reproduces ``Qwen3VLVideoProcessor.sample_frames`` of transformers and
``qwen2_vl`` ``Qwen2VLVideoProcessor.sample_frames`` (Qwen2-VL and Qwen2.5-VL), so that
frames sampled here and handed over with ``do_sample_frames=False`` give the processor
exactly the frames it would have picked itself. ``uniform`` reproduces TensorRT-LLM's
stock cv2 loader (used by the sweep's ``stock`` mode).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol, Union

import numpy as np

__all__ = [
    "Qwen2VLSampler",
    "Qwen3VLSampler",
    "Sampler",
    "SamplerLike",
    "UniformSampler",
    "get_sampler",
    "qwen2_vl_indices",
    "qwen3_vl_indices",
    "uniform_indices",
]


def _check_common(total_num_frames: int, source_fps: float) -> None:
    if total_num_frames < 1:
        raise ValueError(f"total_num_frames must be >= 1, got {total_num_frames}")
    if not source_fps > 0:
        raise ValueError(f"source fps must be > 0, got {source_fps}")


def _check_request(total_num_frames: int, source_fps: float, fps: float | None, num_frames: int | None) -> None:
    """The checks of the processor-mirroring samplers: a video, at most one target, a positive one."""
    _check_common(total_num_frames, source_fps)
    if fps is not None and num_frames is not None:
        raise ValueError("`num_frames` and `fps` are mutually exclusive arguments, please use only one!")
    if num_frames is not None and num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if fps is not None and not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")


def qwen3_vl_indices(
    total_num_frames: int,
    source_fps: float,
    *,
    fps: float | None = None,
    num_frames: int | None = None,
    default_fps: float | None = 2,
    min_frames: int = 4,
    max_frames: int = 768,
) -> np.ndarray:
    """Indices transformers' Qwen3-VL video processor samples (same clamp, same rounding).

    ``fps`` and ``num_frames`` are mutually exclusive, as in transformers; with neither,
    ``default_fps`` (the processor's own ``fps``) applies. ``num_frames`` is used as given,
    like transformers does (a count above the total repeats frames).
    """
    _check_request(total_num_frames, source_fps, fps, num_frames)
    fps = fps if fps is not None else default_fps
    if num_frames is None and fps is not None:
        num_frames = int(total_num_frames / source_fps * fps)
        num_frames = min(max(num_frames, min_frames), max_frames, total_num_frames)
    if num_frames is None:
        num_frames = min(max(total_num_frames, min_frames), max_frames)
    return np.linspace(0, total_num_frames - 1, num_frames).round().astype(int)


def _float32_arange_x86(total: int, step: float) -> np.ndarray:
    """``torch.arange(0, total, step).int()`` as torch's CPU kernel computes it on x86 (float32
    values: 8-lane vectors taken in pairs, each vector's base rounded to float32 first, the
    tail one by one; a single chunk, i.e. up to 32768 values), truncated."""
    count = math.ceil(total / step)
    i = np.arange(count, dtype=np.int64)
    nvec = count // 16 * 16
    base = ((i[:nvec] // 8 * 8).astype(np.float64) * step).astype(np.float32).astype(np.float64)
    vec = (base + (i[:nvec] % 8).astype(np.float64) * step).astype(np.float32)
    tail = (i[nvec:].astype(np.float64) * step).astype(np.float32)
    return np.concatenate([vec, tail]).astype(np.int32).astype(int)


def _float32_arange(total: int, step: float) -> np.ndarray:
    """``torch.arange(0, total, step).int()``, the frames transformers' Qwen2-VL picks: torch
    itself when installed (float32 rounding depends on the CPU's vector width, and for long
    videos it moves indices), else its x86 rule."""
    try:
        import torch
    except ImportError:
        return _float32_arange_x86(total, step)
    return torch.arange(0, total, step).int().numpy().astype(int)


def qwen2_vl_indices(
    total_num_frames: int,
    source_fps: float,
    *,
    fps: float | None = None,
    num_frames: int | None = None,
    default_fps: float | None = None,
    default_num_frames: int | None = None,
    min_frames: int = 4,
    max_frames: int = 768,
    temporal_patch_size: int = 2,
) -> np.ndarray:
    """Indices transformers' Qwen2-VL video processor (Qwen2-VL, Qwen2.5-VL) samples.

    A count (``num_frames``, else the processor's ``default_num_frames``) is rounded to a
    multiple of ``temporal_patch_size`` (Python's ``round``); else an fps (``fps``, else
    ``default_fps``) gives ``total / source_fps * fps`` frames, clamped to ``min_frames``
    and to ``max_frames`` and the total (both floored to that multiple), floored to it.
    Frames are ``torch.arange(0, total, total / n).int()`` (float32: computed by torch when it
    is installed, see ``_float32_arange``). With neither a count nor an fps
    every frame is kept (what the stock processor does when it does not sample). Where
    transformers fails (both given, a count of 0 after rounding, more frames than the
    video has) this raises ValueError.
    """
    _check_request(total_num_frames, source_fps, fps, num_frames)
    tps = temporal_patch_size
    num_frames = num_frames if num_frames is not None else default_num_frames
    fps = fps if fps is not None else default_fps
    if num_frames is not None:
        n = round(num_frames / tps) * tps
    elif fps is not None:
        cap = math.floor(min(max_frames, total_num_frames) / tps) * tps
        n = math.floor(min(max(total_num_frames / source_fps * fps, min_frames), cap, total_num_frames) / tps) * tps
    else:
        return np.arange(total_num_frames)
    if n > total_num_frames:
        raise ValueError(
            f"Video can't be sampled. The inferred `num_frames={n}` exceeds `total_num_frames={total_num_frames}`. "
            "Decrease `num_frames` or `fps` for sampling."
        )
    if n < 1:
        raise ValueError(
            f"no frames to sample: {total_num_frames} frames at {source_fps} fps give {n} frames "
            f"(a multiple of temporal_patch_size={tps}); ask for more frames or a higher fps"
        )
    return _float32_arange(total_num_frames, total_num_frames / n)


def uniform_indices(
    total_num_frames: int,
    source_fps: float,
    *,
    fps: float | None = None,
    num_frames: int | None = None,
) -> np.ndarray:
    """Indices TensorRT-LLM's stock cv2 loader picks (``linspace(..., dtype=int)``, truncating)."""
    _check_common(total_num_frames, source_fps)
    duration = total_num_frames / source_fps
    n = total_num_frames
    if num_frames is not None and num_frames > 0:
        n = min(num_frames, n)
    if fps is not None and fps > 0:
        n = min(n, math.floor(duration * fps))
    n = max(1, n)
    if n == total_num_frames:
        return np.arange(n)
    return np.linspace(0, total_num_frames - 1, n, dtype=int)


class Sampler(Protocol):
    """A frame sampler: ``sampler(total, source_fps, fps=..., num_frames=...) -> indices``."""

    name: str

    def __call__(
        self, total_num_frames: int, source_fps: float, *, fps: float | None, num_frames: int | None
    ) -> np.ndarray: ...


# A processor-mirroring sampler's settings that are the index function's defaults.
_DEFAULT_KWARGS = {"fps": "default_fps", "num_frames": "default_num_frames"}


class _ProcessorSampler:
    """Shared by the samplers that mirror an HF video processor: the dataclass fields (but
    ``name``) are the processor's settings, read by ``from_processor`` and passed to the
    index function as its defaults."""

    def __call__(
        self, total_num_frames: int, source_fps: float, *, fps: float | None = None, num_frames: int | None = None
    ) -> np.ndarray:
        settings = {_DEFAULT_KWARGS.get(f, f): getattr(self, f) for f in self.__dataclass_fields__ if f != "name"}
        return self._indices(total_num_frames, source_fps, fps=fps, num_frames=num_frames, **settings)

    @classmethod
    def from_processor(cls, processor: Any) -> Any:
        """Build from an HF processor or its ``video_processor`` (its own settings)."""
        vp = getattr(processor, "video_processor", processor)
        return cls(**{f: getattr(vp, f) for f in cls.__dataclass_fields__ if f != "name"})


@dataclass(frozen=True)
class Qwen3VLSampler(_ProcessorSampler):
    """The ``qwen3_vl`` sampler with a processor's own defaults (see ``sampler_for``)."""

    fps: float | None = 2
    min_frames: int = 4
    max_frames: int = 768
    name: str = "qwen3_vl"
    _indices = staticmethod(qwen3_vl_indices)


@dataclass(frozen=True)
class Qwen2VLSampler(_ProcessorSampler):
    """The ``qwen2_vl`` sampler (Qwen2-VL, Qwen2.5-VL) with a processor's own defaults."""

    fps: float | None = None
    num_frames: int | None = None
    min_frames: int = 4
    max_frames: int = 768
    temporal_patch_size: int = 2
    name: str = "qwen2_vl"
    _indices = staticmethod(qwen2_vl_indices)


@dataclass(frozen=True)
class UniformSampler:
    """The ``uniform`` sampler (TensorRT-LLM's stock loader)."""

    name: str = "uniform"

    def __call__(
        self, total_num_frames: int, source_fps: float, *, fps: float | None = None, num_frames: int | None = None
    ) -> np.ndarray:
        return uniform_indices(total_num_frames, source_fps, fps=fps, num_frames=num_frames)


_SAMPLERS: dict[str, Sampler] = {"qwen2_vl": Qwen2VLSampler(), "qwen3_vl": Qwen3VLSampler(), "uniform": UniformSampler()}

SamplerLike = Union[str, Sampler]


def get_sampler(sampler: SamplerLike) -> Sampler:
    """A sampler by name (``"qwen3_vl"``, ``"qwen2_vl"``, ``"uniform"``) or the sampler object itself."""
    if isinstance(sampler, str):
        try:
            return _SAMPLERS[sampler]
        except KeyError:
            raise ValueError(f"unknown sampler {sampler!r}; valid: {', '.join(sorted(_SAMPLERS))}") from None
    if callable(sampler):
        return sampler
    raise TypeError(f"sampler must be a name or a Sampler, got {type(sampler).__name__}")
