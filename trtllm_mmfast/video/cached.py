"""``load_video(..., cache=...)``: decoded frames kept under the BLAKE3 digest of the source
bytes plus everything that changes which frames come out (sampler and its settings,
``fps`` / ``num_frames``, the backend, the limits) and the package version.

A hit reads the source (base64 for ``data:``) and hashes it; nothing is probed or decoded.
Concurrent identical loads decode once (single flight); a failed decode is not cached.
Cached frames are shared by every hit: treat them as read-only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ..cache import VideoCache, make_key, source_digest
from ..types import VideoFrames
from .limits import Limits
from .source import MediaSource

__all__ = ["frames_key", "frames_params", "load_cached", "lookup", "sampler_key", "with_digest"]


def sampler_key(sampler: Any) -> Any:
    """What identifies a sampler's picks: its own ``cache_key()`` if it has one (samplers
    holding live objects), else the sampler itself (frozen dataclasses key by their fields)."""
    key = getattr(sampler, "cache_key", None)
    return key() if callable(key) else sampler


def digest_of(src: MediaSource) -> str:
    return source_digest(src.data if src.data is not None else src.path)  # type: ignore[arg-type]


def frames_key(digest: str, *, sampler: Any, fps: Any, num_frames: Any, backend: str, limits: Limits, resize: Any = None) -> Any:
    extra = {} if resize is None else {"resize": resize}  # pre-resized frames: the processor's resize settings
    return make_key(digest, "frames", sampler=sampler_key(sampler), fps=fps, num_frames=num_frames, backend=backend,
                    limits=limits, **extra)  # fmt: skip


def with_digest(video: VideoFrames, digest: str) -> VideoFrames:
    """The same frames, their metadata naming the source digest."""
    if video.metadata.source_digest == digest:
        return video
    return VideoFrames(frames=video.frames, metadata=dataclasses.replace(video.metadata, source_digest=digest))


def frames_params(
    *, sampler: Any, fps: Any, num_frames: Any, backend: str, limits: Limits | None, resize_for: Any = None
) -> dict[str, Any]:
    """``frames_key``'s keywords for a ``load_video`` call (the backend resolved to its name)."""
    from .limits import DEFAULT_LIMITS
    from .registry import resolve
    from .resize import ResizePlan
    from .sampling import get_sampler

    resize = None if resize_for is None else ResizePlan.of(resize_for).cache_key()
    return {"sampler": get_sampler(sampler), "fps": fps, "num_frames": num_frames,
            "backend": resolve(backend).name, "limits": limits or DEFAULT_LIMITS, "resize": resize}  # fmt: skip


def lookup(cache: VideoCache, digest: str, key_params: dict[str, Any]) -> VideoFrames | None:
    """The cached frames of the source with ``digest``, without the source (a revalidated URL)."""
    return cache.get(frames_key(digest, **key_params))


def load_cached(cache: VideoCache, src: MediaSource, key_params: dict[str, Any], load: Callable[[MediaSource], VideoFrames]) -> VideoFrames:
    """``load(src)`` through ``cache`` (``key_params``: ``frames_key``'s keywords)."""
    digest = digest_of(src)
    key = frames_key(digest, **key_params)
    video, _hit = cache.get_or_compute(key, lambda: with_digest(load(src), digest))
    return video
