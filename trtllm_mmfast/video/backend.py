"""The decoder-backend contract: what a backend module provides and what its decode returns.

A backend opens a ``MediaSource`` (learning frame count, fps and size without decoding
pixels), then decodes a sorted list of source indices straight into one frame array the
caller's ``Allocator`` provides (host numpy memory today; a device tensor for a GPU backend),
and returns one ``Decoded``. Nothing here knows which backends exist: ``registry`` names
them and imports their modules lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .source import MediaSource

__all__ = [
    "HOST",
    "Allocator",
    "Backend",
    "BackendVideo",
    "Decoded",
    "FrameSink",
    "HostAllocator",
    "StreamInfo",
    "frame_nbytes",
]


@dataclass(frozen=True)
class StreamInfo:
    """Container/stream facts learnt when opening, before any pixel is decoded."""

    total_num_frames: int
    fps: float
    width: int
    height: int

    @property
    def duration(self) -> float:
        return self.total_num_frames / self.fps if self.fps > 0 else 0.0


def frame_nbytes(num_frames: int, height: int, width: int) -> int:
    """Bytes of ``num_frames`` uint8 RGB frames: what a frame budget reserves before decoding."""
    return int(num_frames) * int(height) * int(width) * 3


class Allocator(Protocol):
    """Provides the output array of one decode, so the caller decides where frames live.

    ``device`` names the memory the frames take ("cpu" for host memory), so that a budget
    counts bytes of the right memory; ``empty`` returns a writable, C-contiguous uint8
    (n, height, width, 3) array (numpy on "cpu"; e.g. a CUDA tensor for a GPU backend).
    """

    device: str

    def empty(self, n: int, height: int, width: int) -> Any: ...


class HostAllocator:
    """Frames in host memory: one ``numpy.empty`` per decode."""

    device = "cpu"

    def empty(self, n: int, height: int, width: int) -> np.ndarray:
        return np.empty((n, height, width, 3), dtype=np.uint8)


HOST = HostAllocator()


@dataclass(frozen=True, eq=False)
class Decoded:
    """The result of one ``decode``: the frames, which source frames they are, and what was wrong.

    ``frames``: uint8 (N, H, W, 3) RGB, C-contiguous, from the caller's allocator (a smaller
    copy when targets were left out). ``indices``: the source index of each frame, sorted
    (repeats allowed). ``info``: the stream facts as known after decoding (a display rotation
    learnt from the first frame swaps width and height). ``damage``: what was wrong with the
    input (truncation, decode errors, frames left out), or None for an intact decode.
    ``frames_size``: (height, width) of the frames when they were resized as decoded
    (``video.resize``), None when they have the stream's size (``info``).
    """

    frames: Any = field(repr=False)
    indices: np.ndarray
    info: StreamInfo
    damage: str | None = None
    frames_size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        idx = self.indices
        if not isinstance(idx, np.ndarray) or idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValueError(f"Decoded.indices must be a 1-D integer array, got {idx!r}")
        if np.any(np.diff(idx) < 0):
            raise ValueError(f"Decoded.indices must be sorted, got {idx.tolist()[:10]}")
        shape = tuple(self.frames.shape)
        h, w = self.frames_size or (self.info.height, self.info.width)
        want = (len(idx), h, w, 3)
        if shape != want:
            raise ValueError(f"Decoded.frames has shape {shape}, expected {want} (indices x frame size x RGB)")
        f = self.frames
        if isinstance(f, np.ndarray) and (f.dtype != np.uint8 or not f.flags.c_contiguous):
            raise ValueError(f"Decoded.frames must be C-contiguous uint8, got {f.dtype}")


class BackendVideo(Protocol):
    """One source opened by a backend (what ``Backend.open`` returns)."""

    info: StreamInfo

    def decode(self, indices: np.ndarray, allocator: Allocator) -> Decoded:
        """Decode ``indices`` (sorted, may repeat, each in [0, total_num_frames)) into frames
        from ``allocator``. Targets that could not be decoded (damaged or truncated input)
        are left out of the result, and ``Decoded.damage`` says why. May be called again."""
        ...

    def close(self) -> None: ...


class Backend(Protocol):
    """What a backend module exposes as ``BACKEND``; the registry sets ``name`` from its table."""

    name: str
    extra: str | None  # the pip extra that installs it, None when in core
    priority: int  # "auto" picks the available exact CPU backend with the highest priority
    auto: bool  # may "auto" pick it?
    # exact: bool, optional (default True): gives the CPU backends' pixels exactly; False for
    # nvdec (NVDEC's own colour conversion), which the generic pixel-exact test suites skip.
    modules: tuple[str, ...]  # native modules it needs (their versions are reported by `info`)

    def unavailable_reason(self) -> str | None:
        """None when usable here, else why not (missing module, no GPU, ...)."""
        ...

    def open(self, source: MediaSource, *, decoder_threads: int) -> BackendVideo: ...


class FrameSink:
    """The preallocated output of one decode: backends write each unique target once.

    ``indices`` are sorted and may repeat (a sampler asking for more frames than exist);
    a repeated index is decoded once and copied to its other slots.
    """

    frames_size: tuple[int, int] | None = None  # set by a resizing sink (``video.resize``)

    def __init__(self, indices: np.ndarray, height: int, width: int, allocator: Allocator = HOST) -> None:
        idx = np.asarray(indices, dtype=np.int64)
        if idx.ndim != 1 or len(idx) == 0:
            raise ValueError("indices must be a non-empty 1-D array")
        if np.any(np.diff(idx) < 0):
            raise ValueError("indices must be sorted")
        self.indices = idx
        self.frames = allocator.empty(len(idx), height, width)
        self.targets, self._starts, self._counts = np.unique(idx, return_index=True, return_counts=True)
        self._filled = np.zeros(len(self.targets), dtype=bool)

    def slot(self, k: int) -> Any:
        """The (H, W, 3) view to write the k-th unique target into."""
        return self.frames[self._starts[k]]

    def filled(self, k: int) -> None:
        start, count = self._starts[k], self._counts[k]
        if count > 1:
            self.frames[start + 1 : start + count] = self.frames[start]
        self._filled[k] = True

    def unfill(self, k: int) -> None:
        """Leave the k-th unique target out of the result after all (its number proved uncertain)."""
        self._filled[k] = False

    def transpose_size(self) -> None:
        """Swap height and width before any slot is written (a quarter-turn display rotation):
        the same buffer, so the bytes the caller reserved still hold."""
        n, h, w, _ = self.frames.shape
        self.frames = self.frames.reshape(n, w, h, 3)

    def result(self, info: StreamInfo, damage: str | None = None) -> Decoded:
        if self._filled.all():
            return Decoded(self.frames, self.indices, info, damage, self.frames_size)
        keep = np.repeat(self._filled, self._counts)
        kept = self.frames[keep]
        if isinstance(kept, np.ndarray):
            kept = np.ascontiguousarray(kept)
        return Decoded(kept, self.indices[keep], info, damage, self.frames_size)
