"""Hook trtllm-mmfast into TensorRT-LLM (``trtllm-serve`` and the LLM API) for the Qwen-VL
models: Qwen3-VL (``qwen3_vl``, ``qwen3_vl_moe``), Qwen2-VL and Qwen2.5-VL (``qwen2_vl``,
``qwen2_5_vl``).

The drop-in, before the ``LLM`` (or the server) is built::

    import trtllm_mmfast.integrations.tensorrt_llm as mmfast
    mmfast.enable()                           # or enable(video_sampling="trtllm")
    llm = LLM("Qwen/Qwen3-VL-8B-Instruct")

``enable()`` finds the installed TensorRT-LLM generation (``_detect``), checks every hook
point, then applies all hooks or none (``_hooks``); ``disable()`` restores them; ``plan()``
reports without applying. Videos are loaded by our decoder (``_loader``: exact frames, the
source's BLAKE3 digest in ``raw_bytes_hash``), the Qwen-VL input processors (one fast
subclass per registered class, ``_processor_hook``; the processor family of its HF
processor) honour each request's ``mm_processor_kwargs`` (``_processor``), and ``video_sampling`` picks which
frames the model gets (``_policy``: ``"hf"``, transformers' own pick over the whole clip,
or ``"trtllm"``, exactly what stock TensorRT-LLM would feed it, decoding only those).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import TRTLLM_INSTALL_HINT, TensorRTLLMNotFoundError, UnsupportedTensorRTLLMError
from . import _settings
from ._detect import Target, detect
from ._hooks import build
from ._loader import FrameArray, FrameList, LoadedClip, VideoRequest, loaded_clip
from ._policy import SAMPLING_ENV, VideoSampling, resolve_sampling
from ._report import Hook, HookReport, format_report
from ._serve import reexec_argv, serve_argv, with_argv

__all__ = [
    "FrameArray",
    "FrameList",
    "Hook",
    "HookReport",
    "LoadedClip",
    "SAMPLING_ENV",
    "TensorRTLLMNotFoundError",
    "UnsupportedTensorRTLLMError",
    "VideoRequest",
    "VideoSampling",
    "disable",
    "enable",
    "format_report",
    "is_enabled",
    "loaded_clip",
    "plan",
    "reexec_argv",
    "serve_argv",
    "stats",
    "summary",
    "with_argv",
]

log = logging.getLogger(__name__)

_STOCK = {
    "1.2": "stock 1.2 loads num_frames=10 (fps=30 cap) uniform frames, then HF re-samples them assuming 24 fps "
    "(Qwen3-VL; Qwen2-VL / Qwen2.5-VL take them all unless do_sample_frames)",
    "main": "stock main loads num_frames=10 (fps=30 cap) uniform frames, then HF re-samples them unless "
    "mm_processor_kwargs match the loaded count (Qwen3-VL's _decide_do_sample_frames; Qwen2-VL / Qwen2.5-VL "
    "take them all unless do_sample_frames, second_per_grid_ts at an assumed 24 fps)",
}
_POLICY = {
    "hf": "hf: the frames transformers' processor picks from the whole clip (its fps unless the request says)",
    "trtllm": "trtllm: exactly the frames stock TensorRT-LLM feeds the model; only those are decoded",
}


@dataclass
class _Enabled:
    report: HookReport
    undo: list[Callable[[], None]] = field(default_factory=list)
    trtllm: Any = None  # the tensorrt_llm module object we patched


_lock = threading.RLock()
_state: _Enabled | None = None


DECODER_THREADS_ENV = "TRTLLM_MMFAST_DECODER_THREADS"
RESIZE_ON_DECODE_ENV = "TRTLLM_MMFAST_RESIZE_ON_DECODE"


@dataclass(frozen=True)
class _Options:
    media_workers: int
    sampling: VideoSampling
    cache_bytes: int
    decoder_threads: int
    resize_on_decode: bool = True


def _resolve_resize_on_decode(value: bool | None) -> bool:
    """``value`` > env ``TRTLLM_MMFAST_RESIZE_ON_DECODE`` (1/0, true/false, on/off) > True."""
    if value is not None:
        if not isinstance(value, bool):
            raise ValueError(f"resize_on_decode must be True or False; got {value!r}")
        return value
    raw = os.environ.get(RESIZE_ON_DECODE_ENV, "").strip().lower()
    if raw in ("0", "false", "off", "no"):
        return False
    if raw in ("", "1", "true", "on", "yes"):
        return True
    raise ValueError(f"{RESIZE_ON_DECODE_ENV} must be 1/0 (true/false, on/off); got {raw!r}")


def _resolve_decoder_threads(value: int | None) -> int:
    """``value`` > env ``TRTLLM_MMFAST_DECODER_THREADS`` > 1 (one per video: under load the
    pools are the parallelism; more helps one request at a time on idle cores)."""
    raw: object = value if value is not None else os.environ.get(DECODER_THREADS_ENV, "").strip() or 1
    try:
        threads = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        threads = 0
    if threads < 1 or isinstance(raw, bool):
        where = "" if value is not None else f" (from {DECODER_THREADS_ENV})"
        raise ValueError(f"decoder_threads must be an int >= 1; got {raw!r}{where}")
    return threads


def _validate(media_load_workers: int | None, input_processing_workers: int | None, video_backend: str,
              video_sampling: str | None, video_cache_bytes: int | str | None, decoder_threads: int | None,
              resize_on_decode: bool | None = None) -> _Options:
    from ...cache import resolve_cache_bytes
    from ...runtime.executors import resolve_workers
    from ...video.registry import resolve

    resolve_workers("input_processing", input_processing_workers)
    media_workers = resolve_workers("media_load", media_load_workers)
    resolve(video_backend)  # ValueError (unknown) / BackendUnavailableError (not usable here)
    return _Options(media_workers, resolve_sampling(video_sampling), resolve_cache_bytes(video_cache_bytes),
                    _resolve_decoder_threads(decoder_threads), _resolve_resize_on_decode(resize_on_decode))


def _settings_report(t: Target, o: _Options, backend: str) -> dict[str, str]:
    cache = f"{o.cache_bytes} bytes, per process (each trtllm-serve frontend has its own)" if o.cache_bytes else "off"
    return {"video_sampling": f"{_POLICY[o.sampling]}; {_STOCK[t.generation]}", "video_backend": backend,
            "video_cache": cache, "decoder_threads": str(o.decoder_threads),
            "resize_on_decode": "on: frames resized as decoded where everything stays stock's (raw_bytes_hash, uint8 "
                                "hand-over, token counts from the processor's grid)"
                                if o.resize_on_decode else "off: full-resolution frames, resized by the processor"}


def _apply_settings(o: _Options, backend: str) -> None:
    """Our options, changeable while enabled; the cache keeps its entries when resized."""
    from ...cache import VideoCache

    s = _settings.settings
    s.video_backend, s.video_sampling, s.decoder_threads = backend, o.sampling, o.decoder_threads
    s.resize_on_decode = o.resize_on_decode
    if o.cache_bytes == 0:
        s.cache = None
    elif s.cache is None or s.cache.max_bytes != o.cache_bytes:
        s.cache = VideoCache(o.cache_bytes)


def plan(
    *,
    media_load_workers: int | None = None,
    input_processing_workers: int | None = None,
    video_backend: str = "auto",
    video_sampling: VideoSampling | None = None,
    video_cache_bytes: int | str | None = None,
    decoder_threads: int | None = None,
    install_uvloop: bool = True,
    resize_on_decode: bool | None = None,
) -> HookReport:
    """The report ``enable(...)`` would return, without changing anything (the live report if enabled)."""
    with _lock:
        if _state is not None and _state.trtllm is sys.modules.get("tensorrt_llm"):
            return _state.report
        o = _validate(media_load_workers, input_processing_workers, video_backend, video_sampling, video_cache_bytes, decoder_threads,
                      resize_on_decode)
        t = detect()
        actions = build(t, o.media_workers, install_uvloop)
        return HookReport(t.generation, t.version, tuple(a.hook for a in actions), True, _settings_report(t, o, video_backend))


def enable(
    *,
    media_load_workers: int | None = None,
    input_processing_workers: int | None = None,
    video_backend: str = "auto",
    video_sampling: VideoSampling | None = None,
    video_cache_bytes: int | str | None = None,
    decoder_threads: int | None = None,
    install_uvloop: bool = True,
    resize_on_decode: bool | None = None,
) -> HookReport:
    """Route TensorRT-LLM's video path through trtllm-mmfast; call before ``LLM(...)``.

    ``media_load_workers`` / ``input_processing_workers``: our pool sizes (explicit > env
    ``TRTLLM_MMFAST_*_WORKERS`` > 8). ``video_backend``: ``load_video``'s backend.
    ``video_sampling``: ``"hf"`` or ``"trtllm"`` (explicit > env ``TRTLLM_MMFAST_VIDEO_SAMPLING``
    > ``"hf"``). ``video_cache_bytes``: the repeat-video cache's budget, e.g. ``"4GiB"``
    (explicit > env ``TRTLLM_MMFAST_VIDEO_CACHE_BYTES`` > 2 GiB; 0 turns it off).
    ``decoder_threads``: FFmpeg threads per video (explicit > env ``TRTLLM_MMFAST_DECODER_THREADS``
    > 1; raise it for few concurrent requests on idle cores). ``install_uvloop``: set uvloop's policy where TensorRT-LLM runs plain
    ``asyncio.run``. ``resize_on_decode``: keep only frames resized as the processor resizes them
    (explicit > env ``TRTLLM_MMFAST_RESIZE_ON_DECODE`` > on; applied where everything TensorRT-LLM
    computes stays stock's: a ``VideoData`` with ``raw_bytes_hash``, a uint8 hand-over, video token
    counts from the processor's ``video_grid_thw``; see ``_resize``). Idempotent (a second call only changes pools / backend / sampling).
    Raises ``TensorRTLLMNotFoundError`` or ``UnsupportedTensorRTLLMError`` with nothing patched.
    """
    global _state
    with _lock:
        o = _validate(media_load_workers, input_processing_workers, video_backend, video_sampling, video_cache_bytes, decoder_threads,
                      resize_on_decode)
        if _state is not None and _state.trtllm is not sys.modules.get("tensorrt_llm"):
            disable()  # a different tensorrt_llm was imported since (tests): start over
        if _state is not None:  # already enabled: only our settings change
            _configure(media_load_workers, input_processing_workers)
            _apply_settings(o, video_backend)
            return _state.report
        t = detect()
        actions = build(t, o.media_workers, install_uvloop)  # every check done: nothing applied yet
        _configure(media_load_workers, input_processing_workers)
        _apply_settings(o, video_backend)
        _settings.settings.generation, _settings.settings.array_frames = t.generation, t.array_frames
        _settings.counters(reset=True)  # stats() counts from this enable() on
        undo: list[Callable[[], None]] = []
        try:
            for action in actions:
                if action.apply is not None:
                    undo.append(action.apply())
        except BaseException:
            for u in reversed(undo):
                u()
            raise
        report = HookReport(t.generation, t.version, tuple(a.hook for a in actions), False, _settings_report(t, o, video_backend))
        _state = _Enabled(report, undo, sys.modules["tensorrt_llm"])
        log.info("trtllm-mmfast enabled:\n%s", report)
        return report


def _configure(media_load_workers: int | None, input_processing_workers: int | None) -> None:
    if media_load_workers is None and input_processing_workers is None:
        return
    from ...runtime.executors import configure

    configure(media_load_workers=media_load_workers, input_processing_workers=input_processing_workers)


def disable() -> bool:
    """Undo ``enable()`` (hooks restored in reverse order); returns whether anything was enabled."""
    global _state
    with _lock:
        if _state is None:
            return False
        state, _state = _state, None
        for u in reversed(state.undo):
            try:
                u()
            except Exception:  # keep restoring the rest
                log.exception("trtllm-mmfast: restoring a TensorRT-LLM hook failed")
        _settings.reset()
        return True


def is_enabled() -> bool:
    return _state is not None


def stats(reset: bool = False) -> dict[str, Any]:
    """Counters of what the hooks did since ``enable()`` (or the last ``reset``): ``videos_loaded``, ``replanned_videos`` / ``replanned_frames``
    (frames decoded later for a request's ``mm_processor_kwargs``), ``stock_fallback.<reason>``;
    and ``video_cache``: the repeat-video cache's hits, misses, joins, evictions, bytes (None: off)."""
    cache = _settings.settings.cache
    return {**_settings.counters(reset), "video_cache": cache.stats() if cache is not None else None}


def summary() -> dict[str, Any]:
    """For ``trtllm-mmfast info``: is TensorRT-LLM installed, which layout, which hooks would apply."""
    if importlib.util.find_spec("tensorrt_llm") is None:
        return {"installed": False, "hint": TRTLLM_INSTALL_HINT}
    try:
        report = plan()
    except Exception as e:  # info must still print: report why
        return {"installed": True, "error": f"{type(e).__name__}: {e}"}
    return {"installed": True, **report.as_dict(), "stats": stats()}
