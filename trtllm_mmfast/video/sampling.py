"""Frame samplers: pure functions from (frame count, source fps, request) to source indices.

``qwen3_vl`` reproduces ``Qwen3VLVideoProcessor.sample_frames`` of transformers, so that
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
    "Qwen3VLSampler",
    "Sampler",
    "SamplerLike",
    "UniformSampler",
    "get_sampler",
    "qwen3_vl_indices",
    "uniform_indices",
]


def _check_common(total_num_frames: int, source_fps: float) -> None:
    if total_num_frames < 1:
        raise ValueError(f"total_num_frames must be >= 1, got {total_num_frames}")
    if not source_fps > 0:
        raise ValueError(f"source fps must be > 0, got {source_fps}")


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
    _check_common(total_num_frames, source_fps)
    if fps is not None and num_frames is not None:
        raise ValueError("`num_frames` and `fps` are mutually exclusive arguments, please use only one!")
    if num_frames is not None and num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if fps is not None and not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    fps = fps if fps is not None else default_fps
    if num_frames is None and fps is not None:
        num_frames = int(total_num_frames / source_fps * fps)
        num_frames = min(max(num_frames, min_frames), max_frames, total_num_frames)
    if num_frames is None:
        num_frames = min(max(total_num_frames, min_frames), max_frames)
    return np.linspace(0, total_num_frames - 1, num_frames).round().astype(int)


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


@dataclass(frozen=True)
class Qwen3VLSampler:
    """The ``qwen3_vl`` sampler with a processor's own defaults (see ``sampler_for``)."""

    fps: float | None = 2
    min_frames: int = 4
    max_frames: int = 768
    name: str = "qwen3_vl"

    def __call__(
        self, total_num_frames: int, source_fps: float, *, fps: float | None = None, num_frames: int | None = None
    ) -> np.ndarray:
        return qwen3_vl_indices(
            total_num_frames,
            source_fps,
            fps=fps,
            num_frames=num_frames,
            default_fps=self.fps,
            min_frames=self.min_frames,
            max_frames=self.max_frames,
        )

    @classmethod
    def from_processor(cls, processor: Any) -> "Qwen3VLSampler":
        """Build from an HF ``Qwen3VLProcessor`` or its ``video_processor``."""
        vp = getattr(processor, "video_processor", processor)
        return cls(fps=vp.fps, min_frames=vp.min_frames, max_frames=vp.max_frames)


@dataclass(frozen=True)
class UniformSampler:
    """The ``uniform`` sampler (TensorRT-LLM's stock loader)."""

    name: str = "uniform"

    def __call__(
        self, total_num_frames: int, source_fps: float, *, fps: float | None = None, num_frames: int | None = None
    ) -> np.ndarray:
        return uniform_indices(total_num_frames, source_fps, fps=fps, num_frames=num_frames)


_SAMPLERS: dict[str, Sampler] = {"qwen3_vl": Qwen3VLSampler(), "uniform": UniformSampler()}

SamplerLike = Union[str, Sampler]


def get_sampler(sampler: SamplerLike) -> Sampler:
    """A sampler by name (``"qwen3_vl"``, ``"uniform"``) or the sampler object itself."""
    if isinstance(sampler, str):
        try:
            return _SAMPLERS[sampler]
        except KeyError:
            raise ValueError(f"unknown sampler {sampler!r}; valid: {', '.join(sorted(_SAMPLERS))}") from None
    if callable(sampler):
        return sampler
    raise TypeError(f"sampler must be a name or a Sampler, got {type(sampler).__name__}")
