"""Result types (decoded frames and their metadata) and the names string options take.

The ``Literal`` aliases name the values of string options, for type checkers and readers;
tests pin each to the registry it mirrors (backends, samplers, TensorRT-LLM frame formats).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = ["BackendName", "SamplerName", "VideoFormat", "VideoFrames", "VideoMetadata"]

# ``load_video(backend=)``: a registered decoder backend, or ``"auto"`` (the fastest exact one installed).
BackendName = Literal["auto", "nvdec", "opencv", "pyav"]
# ``load_video(sampler=)``: ``"qwen3_vl"`` / ``"qwen2_vl"`` (what transformers' Qwen3-VL /
# Qwen2-VL and Qwen2.5-VL processors pick) or ``"uniform"`` (TensorRT-LLM's stock loader);
# a sampler object is accepted too.
SamplerName = Literal["qwen2_vl", "qwen3_vl", "uniform"]
# The frame formats of TensorRT-LLM's video loaders (``format=``), which the integration keeps.
VideoFormat = Literal["pt", "np", "pil"]


@dataclass(frozen=True)
class VideoMetadata:
    """What we know about the source video and which of its frames were kept.

    ``frames_indices`` are source frame indices (presentation order), one per returned frame.
    ``width`` / ``height`` are the source's (display) size; ``frames_size`` is (height, width) of
    the frames when they were resized as decoded for a processor (``load_video(..., resize_for=)``),
    None when the frames have the source size. Processors given such frames must not resize again.
    """

    total_num_frames: int
    fps: float
    duration: float
    width: int
    height: int
    frames_indices: tuple[int, ...]
    backend: str
    source_digest: str | None = None  # BLAKE3 hex of the source bytes, when it was hashed (caches, TensorRT-LLM)
    frames_size: tuple[int, int] | None = None  # (height, width) of pre-resized frames; None: source size

    def to_hf(self) -> dict[str, Any]:
        """The dict transformers takes as ``video_metadata`` (a fresh one each call: HF mutates it)."""
        return {
            "total_num_frames": self.total_num_frames,
            "fps": self.fps,
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "frames_indices": list(self.frames_indices),
            "video_backend": self.backend,
        }


@dataclass(frozen=True)
class VideoFrames:
    """Decoded frames: ``frames`` is uint8 (N, H, W, 3) RGB, C-contiguous (numpy on CPU)."""

    frames: Any = field(repr=False)  # np.ndarray; torch.Tensor on CUDA for GPU backends
    metadata: VideoMetadata

    def __post_init__(self) -> None:
        f = self.frames
        if isinstance(f, np.ndarray):
            if f.dtype != np.uint8 or f.ndim != 4 or f.shape[3] != 3 or not f.flags.c_contiguous:
                raise ValueError(f"frames must be C-contiguous uint8 (N,H,W,3), got {f.dtype} {f.shape}")
        if len(f) != len(self.metadata.frames_indices):
            raise ValueError(f"{len(f)} frames but {len(self.metadata.frames_indices)} frames_indices")

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def nbytes(self) -> int:
        return int(self.frames.nbytes) if hasattr(self.frames, "nbytes") else int(self.frames.numel())
