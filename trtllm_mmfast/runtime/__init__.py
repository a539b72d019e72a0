"""Serving runtime: uvloop, the sized media-load / input-processing pools, and async
load + process with stage timings, a decoded-frame budget and a decode timeout.

Nothing here starts a thread or imports uvloop until used.
"""

from __future__ import annotations

from .executors import (
    DEFAULT_WORKERS,
    configure,
    input_processing_pool,
    media_load_pool,
    resolve_workers,
    run_in,
    shutdown,
)
from .loop import install, is_uvloop, run
from .budget import DEFAULT_FRAME_BUDGET, FrameBudget, frame_budget, holding, release_frames, set_frame_budget
from .pipeline import DEFAULT_DECODE_TIMEOUT_S, load_video_async, process_async, set_decode_timeout
from .stats import StageTimings, Stats, global_stats

__all__ = [
    "DEFAULT_DECODE_TIMEOUT_S",
    "DEFAULT_FRAME_BUDGET",
    "DEFAULT_WORKERS",
    "FrameBudget",
    "StageTimings",
    "Stats",
    "configure",
    "frame_budget",
    "global_stats",
    "holding",
    "input_processing_pool",
    "install",
    "is_uvloop",
    "load_video_async",
    "media_load_pool",
    "process_async",
    "release_frames",
    "resolve_workers",
    "run",
    "run_in",
    "set_decode_timeout",
    "set_frame_budget",
    "shutdown",
]
