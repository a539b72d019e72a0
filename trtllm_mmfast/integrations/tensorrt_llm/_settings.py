"""Process-wide state of the integration: the options ``enable()`` set, the fast input
processor that decides sampling, and counters of what the hooks did."""

from __future__ import annotations

import logging
import threading
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ._policy import VideoSampling

__all__ = ["Settings", "active_processor", "count", "counters", "fallback", "reset", "set_active_processor", "settings"]

log = logging.getLogger("trtllm_mmfast.integrations.tensorrt_llm")


@dataclass
class Settings:
    video_backend: str = "auto"
    video_sampling: VideoSampling = "hf"
    generation: str = "main"
    array_frames: bool = False  # does TensorRT-LLM's "np" format give one (N,H,W,3) array?
    cache: Any = None  # the VideoCache of this process (None: off)
    decoder_threads: int = 1  # per video; the pools give the parallelism across requests
    resize_on_decode: bool = True  # keep only frames resized for the fast processor (where stock-exact)


settings = Settings()


def reset() -> None:
    """Back to the defaults (in place: the loader and processor hold this object)."""
    for name, f in Settings.__dataclass_fields__.items():
        setattr(settings, name, f.default)

# The fast Qwen-VL input processor built last in this process (one per LLM, which holds
# it; we keep a weak reference): its HF processor decides how videos are sampled, since
# TensorRT-LLM does not tell the loader which model a video is for.
_active: weakref.ref[Any] | None = None


def set_active_processor(processor: Any | None) -> None:
    global _active
    _active = None if processor is None else weakref.ref(processor)


def active_processor() -> Any | None:
    return _active() if _active is not None else None


_lock = threading.Lock()
_counts: Counter[str] = Counter()
_logged: set[str] = set()


def count(name: str, n: int = 1) -> None:
    with _lock:
        _counts[name] += n


def _count_first(key: str, counter: str) -> bool:
    """Count ``counter``; True the first time ``key`` is seen (what is then logged, once)."""
    with _lock:
        _counts[counter] += 1
        first = key not in _logged
        _logged.add(key)
    return first


def warn_once(key: str, counter: str, message: str) -> None:
    """Counted in ``counter`` always; ``message`` logged as a warning once per ``key``."""
    if _count_first(key, counter):
        log.warning("trtllm-mmfast: %s (logged once, counted in stats()[%r])", message, counter)


def fallback(reason: str, detail: str) -> None:
    """A request that takes TensorRT-LLM's stock path: counted always, logged once per reason."""
    if _count_first(reason, f"stock_fallback.{reason}"):
        log.warning("trtllm-mmfast: %s; such requests use TensorRT-LLM's stock path (logged once, counted in stats())", detail)


def counters(reset: bool = False) -> dict[str, int]:
    with _lock:
        out = dict(sorted(_counts.items()))
        if reset:
            _counts.clear()
            _logged.clear()
    return out
