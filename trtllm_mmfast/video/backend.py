"""The decoder-backend contract and the registry that names backends.

A backend opens a ``MediaSource`` (learning frame count, fps and size without decoding
pixels), then decodes a sorted list of source indices straight into one preallocated
uint8 (N, H, W, 3) RGB array. Backends import their native library lazily, so the
registry can list them without importing cv2, av or CUDA libraries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Protocol, TypeVar

import numpy as np

from ..errors import BackendUnavailableError
from .source import MediaSource

__all__ = ["Backend", "OpenedVideo", "StreamInfo", "available", "get", "names", "register", "resolve"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamInfo:
    """Container/stream facts learnt when opening, before any pixel is decoded."""

    total_num_frames: int
    fps: float
    width: int
    height: int
    codec: str = ""

    @property
    def duration(self) -> float:
        return self.total_num_frames / self.fps if self.fps > 0 else 0.0


class OpenedVideo(Protocol):
    info: StreamInfo

    def decode(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decode ``indices`` (sorted, may repeat) -> (frames (N,H,W,3) uint8 RGB, indices decoded).

        Targets that could not be decoded (damaged or truncated input) are left out of both.
        """
        ...

    def close(self) -> None: ...


# Optional on an OpenedVideo: ``damage: str | None``, read after ``decode``: what was wrong with
# the input (truncation, decode errors, frames left out), for the one warning ``load_video`` logs.


class Backend(Protocol):
    name: str
    extra: str | None  # the pip extra that installs it, None when in core
    priority: int  # "auto" picks the available exact CPU backend with the highest priority
    auto: bool  # may "auto" pick it?

    def unavailable_reason(self) -> str | None:
        """None when usable here, else why not (missing module, no GPU, ...)."""
        ...

    def open(self, source: MediaSource, *, decoder_threads: int) -> OpenedVideo: ...


_REGISTRY: dict[str, Backend] = {}

B = TypeVar("B")


def register(name: str) -> Callable[[type[B]], type[B]]:
    """Class decorator: instantiate the backend class and register it under ``name``."""

    def deco(cls: type[B]) -> type[B]:
        if name in _REGISTRY:
            raise ValueError(f"video backend {name!r} is already registered")
        inst = cls()
        inst.name = name  # type: ignore[attr-defined]
        _REGISTRY[name] = inst  # type: ignore[assignment]
        return cls

    return deco


def names() -> list[str]:
    """Every registered backend name (installed or not), plus ``auto``."""
    _load_builtin()
    return sorted(_REGISTRY) + ["auto"]


def get(name: str) -> Backend:
    """The backend called ``name``; unknown names raise ``ValueError`` listing the valid ones."""
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown video backend {name!r}; valid: {', '.join(names())}") from None


def available() -> dict[str, str | None]:
    """name -> None if usable here, else the reason it is not."""
    _load_builtin()
    return {name: b.unavailable_reason() for name, b in sorted(_REGISTRY.items())}


def resolve(name: str) -> Backend:
    """``auto`` -> the highest-priority usable auto backend; a name -> that backend if usable."""
    if name != "auto":
        backend = get(name)
        reason = backend.unavailable_reason()
        if reason is not None:
            raise BackendUnavailableError(name, backend.extra, reason)
        return backend
    _load_builtin()
    candidates = sorted((b for b in _REGISTRY.values() if b.auto), key=lambda b: -b.priority)
    for b in candidates:
        if b.unavailable_reason() is None:
            return b
    raise BackendUnavailableError("auto", None, "no video backend is usable; is opencv-python-headless installed?")


def _load_builtin() -> None:
    # Importing the modules registers them; they import nothing heavy at module level.
    from . import opencv_backend, pyav_backend  # noqa: F401


class FrameSink:
    """The preallocated output of one decode: backends write each unique target once.

    ``indices`` are sorted and may repeat (a sampler asking for more frames than exist);
    a repeated index is decoded once and copied to its other slots.
    """

    def __init__(self, indices: np.ndarray, height: int, width: int) -> None:
        idx = np.asarray(indices, dtype=np.int64)
        if idx.ndim != 1 or len(idx) == 0:
            raise ValueError("indices must be a non-empty 1-D array")
        if np.any(np.diff(idx) < 0):
            raise ValueError("indices must be sorted")
        self.indices = idx
        self.frames = np.empty((len(idx), height, width, 3), dtype=np.uint8)
        self.targets, self._starts, self._counts = np.unique(idx, return_index=True, return_counts=True)
        self._filled = np.zeros(len(self.targets), dtype=bool)

    def slot(self, k: int) -> np.ndarray:
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

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        if self._filled.all():
            return self.frames, self.indices
        keep = np.repeat(self._filled, self._counts)
        return np.ascontiguousarray(self.frames[keep]), self.indices[keep]
