"""Processed-video cache in front of an HF processor's ``_process_videos`` (the video half of
its ``__call__``: the video processor plus the prompt's replacement text with timestamps).

A hit needs an identity for the videos of the call, set by the caller in a context variable
(``video_identity``): per video, the source digest, the source frame indices and how the
frames were handed over. The key adds every keyword ``_process_videos`` gets (the merged
``videos_kwargs``, ``video_metadata`` included), the video processor's configuration and
the package version; a call without an identity, or with a keyword the key cannot hold,
runs the processor as usual. The text half of ``__call__`` always runs, so ``input_ids``
follow each request's prompt. Hits return fresh copies of the cached tensors.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import sys
from collections import UserDict
from collections.abc import Iterator
from typing import Any

from ..cache import VideoCache, make_key, source_digest

__all__ = ["CachedVideoProcessing", "frames_identity", "install", "processor_fingerprint", "video_identity"]

_identity: contextvars.ContextVar[tuple | None] = contextvars.ContextVar("trtllm_mmfast_video_identity", default=None)


@contextlib.contextmanager
def video_identity(identity: tuple | None) -> Iterator[None]:
    """Name the videos of the processor calls made inside (one entry per video, in order)."""
    token = _identity.set(identity)
    try:
        yield
    finally:
        _identity.reset(token)


def current_identity() -> tuple | None:
    return _identity.get()


def frames_identity(digest: str | None, indices: Any, handover: str) -> tuple | None:
    """One video's identity: ``handover`` says how its frames reach the processor (e.g.
    ``"uint8"``, or ``"float32/mul"`` for frames already scaled to [0, 1] one way)."""
    if digest is None:
        return None
    return (digest, tuple(int(i) for i in indices), handover)


def processor_fingerprint(hf: Any) -> str:
    """The video processor's full configuration, hashed (another config is another key)."""
    vp = hf.video_processor
    config = vp.to_json_string() if hasattr(vp, "to_json_string") else repr(sorted(vars(vp).items()))
    return f"{type(hf).__name__}/{type(vp).__name__}/" + source_digest(config.encode())


def _fresh(value: Any) -> Any:
    """A copy a caller may keep or modify without touching the cached entry (tensors cloned)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, tuple):
        return tuple(_fresh(v) for v in value)
    if isinstance(value, (dict, UserDict)):  # dict, BatchFeature
        out = copy.copy(value)
        for k in list(out.keys()):
            out[k] = _fresh(out[k])
        return out
    return copy.deepcopy(value)


class CachedVideoProcessing:
    """Stands in for one HF processor instance's ``_process_videos``."""

    def __init__(self, original: Any, cache: VideoCache, fingerprint: str) -> None:
        self.original = original
        self.cache = cache
        self.fingerprint = fingerprint
        self.bypassed = 0  # calls with an identity whose keywords could not form a key

    def __call__(self, videos: Any, **kwargs: Any) -> Any:
        identity = _identity.get()
        if identity is None or None in identity or self.cache.max_bytes == 0:
            return self.original(videos, **kwargs)
        try:
            digest = "+".join(v[0] for v in identity)
            key = make_key(digest, "processed", videos=identity, kwargs=kwargs, processor=self.fingerprint)
        except TypeError:
            self.bypassed += 1
            return self.original(videos, **kwargs)
        value, _hit = self.cache.get_or_compute(key, lambda: self.original(videos, **kwargs))
        return _fresh(value)  # the caller's own copy, hit or miss: the entry stays as computed

    def __reduce__(self) -> tuple[Any, ...]:
        # transformers deep-copies a processor's __dict__ (repr, to_dict, save_pretrained):
        # a copy keeps using the same cache in front of the copied processor's own method.
        return (CachedVideoProcessing, (self.original, self.cache, self.fingerprint))


def install(hf: Any, cache: VideoCache) -> CachedVideoProcessing:
    """Put (or re-point) the processed-video cache in front of ``hf._process_videos``."""
    existing = hf.__dict__.get("_process_videos")
    if isinstance(existing, CachedVideoProcessing):
        existing.cache = cache
        return existing
    wrapper = CachedVideoProcessing(hf._process_videos, cache, processor_fingerprint(hf))
    hf._process_videos = wrapper  # instance attribute shadows the class method
    return wrapper
