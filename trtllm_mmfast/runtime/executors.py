"""The two sized thread pools: media loading and HF input processing.

Sizes resolve as: explicit argument > CLI flag > environment variable > ``DEFAULT_WORKERS``::

    media_load        --media-load-workers         TRTLLM_MMFAST_MEDIA_LOAD_WORKERS
    input_processing  --input-processing-workers   TRTLLM_MMFAST_INPUT_PROCESSING_WORKERS

Pools are created lazily (never at import), recreated by ``configure``, and shut down by
``shutdown`` (also at interpreter exit). Input-processing workers cap torch's intra-op
threads when they start (``runtime.torch_threads``). Worker threads are named ``mmfast-media-<n>`` and
``mmfast-inproc-<n>``. A third pool, ``decode_pool`` (``mmfast-decode-<n>``, one thread per core),
runs the extra decoder contexts of a parallel pyav decode (``video._parallel``, whose
decode-thread allowance of ``cpu_cores()`` slots bounds them); ``shutdown`` stops it too.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import functools
import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Literal, ParamSpec, TypeVar

__all__ = [
    "DEFAULT_WORKERS",
    "PoolKind",
    "configure",
    "cpu_cores",
    "decode_pool",
    "input_processing_pool",
    "media_load_pool",
    "resolve_workers",
    "run_in",
    "shutdown",
]

PoolKind = Literal["media_load", "input_processing"]

DEFAULT_WORKERS = 8

_ARG = {"media_load": "media_load_workers", "input_processing": "input_processing_workers"}
_FLAG = {"media_load": "--media-load-workers", "input_processing": "--input-processing-workers"}
_ENV = {"media_load": "TRTLLM_MMFAST_MEDIA_LOAD_WORKERS", "input_processing": "TRTLLM_MMFAST_INPUT_PROCESSING_WORKERS"}
_PREFIX = {"media_load": "mmfast-media-", "input_processing": "mmfast-inproc-", "decode": "mmfast-decode-"}

P = ParamSpec("P")
T = TypeVar("T")


def _check_kind(kind: str) -> None:
    if kind not in _ENV:
        raise ValueError(f"unknown pool kind {kind!r}; valid: {', '.join(_ENV)}")


def _positive_int(value: object, name: str) -> int:
    """``value`` as a worker count >= 1, else ValueError naming ``name`` and the value."""
    n: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str):
        try:
            n = int(value.strip())
        except ValueError:
            pass
    if n is None or n < 1:
        raise ValueError(f"{name} must be a positive integer (number of worker threads), got {value!r}")
    return n


def resolve_workers(kind: PoolKind, explicit: int | None = None, cli: int | None = None) -> int:
    """Worker count for pool ``kind``: explicit > CLI flag > env variable > ``DEFAULT_WORKERS``.

    Zero, negative or non-integer values raise ``ValueError`` naming where they came from.
    An unset or empty environment variable means "not given".
    """
    _check_kind(kind)
    if explicit is not None:
        return _positive_int(explicit, _ARG[kind])
    if cli is not None:
        return _positive_int(cli, _FLAG[kind])
    env = os.environ.get(_ENV[kind], "")
    if env.strip():
        return _positive_int(env, _ENV[kind])
    return DEFAULT_WORKERS


class _Pools:
    """Process-wide pool state, guarded by one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pools: dict[str, ThreadPoolExecutor] = {}
        self.sizes: dict[str, int | None] = {}  # explicit sizes from configure(); None: resolve
        self.retired: list[ThreadPoolExecutor] = []  # replaced by configure(); joined by shutdown()
        self.atexit_registered = False


_state = _Pools()


def _new_pool(kind: str, size: int) -> ThreadPoolExecutor:
    counter = itertools.count()
    prefix = _PREFIX[kind]

    def name_thread() -> None:
        # ThreadPoolExecutor names threads "<prefix>_<n>"; we want "mmfast-media-<n>".
        threading.current_thread().name = f"{prefix}{next(counter)}"
        if kind in ("input_processing", "decode"):  # the HF processor / frames resized as decoded
            from .torch_threads import cap_torch_threads  # run here: no oversubscription

            cap_torch_threads(import_torch=kind == "input_processing")  # a resize has imported torch

    if not _state.atexit_registered:
        atexit.register(shutdown, wait=False, cancel_futures=True)
        _state.atexit_registered = True
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix=prefix.rstrip("-"), initializer=name_thread)


def _pool(kind: str) -> ThreadPoolExecutor:
    pool = _state.pools.get(kind)
    if pool is not None:
        return pool
    with _state.lock:
        pool = _state.pools.get(kind)
        if pool is None:
            decode = kind == "decode"
            size = cpu_cores() if decode else resolve_workers(kind, _state.sizes.get(kind))  # type: ignore[arg-type]
            pool = _new_pool(kind, size)
            _state.pools[kind] = pool
        return pool


def media_load_pool() -> ThreadPoolExecutor:
    """The media-load pool (created on first use)."""
    return _pool("media_load")


def input_processing_pool() -> ThreadPoolExecutor:
    """The input-processing pool (created on first use)."""
    return _pool("input_processing")


def cpu_cores() -> int:
    """Cores this process may run on (its CPU affinity; ``os.cpu_count()`` where that is unknown)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def decode_pool() -> ThreadPoolExecutor:
    """Workers for the extra decoder contexts of parallel decodes (created on first use)."""
    return _pool("decode")


def configure(*, media_load_workers: int | None = None, input_processing_workers: int | None = None) -> None:
    """(Re)create both pools with these sizes (``None``: CLI-less resolution, i.e. env or default).

    Old pools are shut down without waiting: work already running on them finishes and its
    callers get their results; ``shutdown(wait=True)`` joins their threads.
    """
    sizes = {
        "media_load": resolve_workers("media_load", media_load_workers),
        "input_processing": resolve_workers("input_processing", input_processing_workers),
    }
    with _state.lock:
        _state.sizes = {"media_load": media_load_workers, "input_processing": input_processing_workers}
        old = list(_state.pools.values())
        _state.pools = {kind: _new_pool(kind, n) for kind, n in sizes.items()}  # type: ignore[arg-type]
        _state.retired.extend(old)
    for pool in old:
        pool.shutdown(wait=False)


def shutdown(wait: bool = True, *, cancel_futures: bool = False) -> None:
    """Shut both pools (and any replaced by ``configure``) down; later use recreates them."""
    with _state.lock:
        pools = list(_state.pools.values()) + _state.retired
        _state.pools, _state.retired = {}, []
    for pool in pools:
        pool.shutdown(wait=wait, cancel_futures=cancel_futures)


async def run_in(pool: Executor | PoolKind | None, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn(*args, **kwargs)`` in ``pool`` and await its result (exceptions keep their type).

    ``pool``: an executor, a pool kind (``"media_load"`` / ``"input_processing"``) or None for
    the loop's default executor. The caller's contextvars are copied into the worker.
    """
    if isinstance(pool, str):
        _check_kind(pool)
        pool = _pool(pool)  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    return await loop.run_in_executor(pool, functools.partial(ctx.run, fn, *args, **kwargs))
