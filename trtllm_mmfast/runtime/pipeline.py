"""Async load + process: ``load_video`` in the media-load pool, the HF processor in the
input-processing pool, with stage timings, a decoded-frame byte budget and a decode timeout.

Frame budget (backpressure; the budget itself is ``budget.FrameBudget``)
    The worker passes ``load_video`` a ``BudgetAllocator`` that, after opening and sampling and
    before the frame array is allocated, reserves the frame bytes from the budget (blocking
    in FIFO order while they do not fit) and then allocates host memory. A request larger
    than the whole budget fails at once with ``MediaTooLargeError``. The result holds the
    bytes until ``release_frames(video)`` (or ``with holding(video): ...``), or, at the
    latest, until its frames array is garbage-collected; a failed or abandoned load
    releases at once.

    Deadlock: waiting happens in media-load workers, and the budget is given back by
    callers, never by a media-load worker, so the pool cannot wait on itself. A caller
    that holds frames while awaiting *another* load can deadlock with others doing the
    same once the budget is full: release (or drop) the first video's frames before
    loading the next, or load a request's videos concurrently with ``asyncio.gather``.

Decode timeout
    ``timeout=`` (default ``set_decode_timeout``, 300 s) bounds the time a worker actively
    spends on one request (reading, probing, decoding); waiting for a worker or for budget
    does not count. On expiry the caller gets ``DecodeError`` at once; the native decode
    cannot be interrupted, so it finishes in its worker, its result is discarded and its
    budget released then.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import dataclasses
import functools
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import DecodeTimeoutError
from ..types import VideoFrames
from ..video.api import load_video
from ..video.fetch import FetchPolicy, is_http_url
from ..video.limits import DEFAULT_LIMITS, Limits
from ..video.policy import SourcePolicy
from ..video.sampling import SamplerLike
from ..video.revalidate import load_revalidated
from ..video.source import MediaSource, resolve_source, resolve_source_async
from .budget import (  # re-exported: runtime.pipeline is where callers have found them
    DEFAULT_FRAME_BUDGET,
    Abandoned,
    BudgetAllocator,
    FrameBudget,
    check_positive,
    frame_budget,
    holding,
    release_frames,
    set_frame_budget,
)
from .executors import input_processing_pool, media_load_pool, run_in
from .stats import StageTimings, Stats, global_stats

if TYPE_CHECKING:
    from ..cache import VideoCache
    from ..video.revalidate import UrlValidators

__all__ = [
    "DEFAULT_DECODE_TIMEOUT_S",
    "DEFAULT_FRAME_BUDGET",
    "FrameBudget",
    "decode_timeout",
    "frame_budget",
    "holding",
    "load_video_async",
    "process_async",
    "release_frames",
    "set_decode_timeout",
    "set_frame_budget",
]

DEFAULT_DECODE_TIMEOUT_S = 300.0

T = TypeVar("T")


_decode_timeout: float | None = DEFAULT_DECODE_TIMEOUT_S


def decode_timeout() -> float | None:
    return _decode_timeout


def set_decode_timeout(seconds: float | None) -> None:
    """Default per-request decode timeout in seconds (``None``: none)."""
    global _decode_timeout
    if seconds is not None:
        check_positive(seconds, "decode timeout (seconds)")
    _decode_timeout = seconds


# ---- load --------------------------------------------------------------------------------


def _label(source: object) -> str:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    s = os.fspath(source) if isinstance(source, os.PathLike) else str(source)
    return s if len(s) <= 60 else s[:57] + "..."


class _LoadJob:
    """One ``load_video_async`` request: the worker side, the loop side, the timeout check.

    The worker only writes plain attributes (start time, budget-wait time); the loop reads
    them when its timer fires, so the only cross-thread wake-up is the completion one.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, budget: FrameBudget, timeout: float | None, label: str):
        self.loop = loop
        self.budget = budget
        self.timeout = timeout
        self.label = label
        self.out: asyncio.Future[VideoFrames] = loop.create_future()
        self.times = StageTimings()  # written by the worker; copied out on completion
        self.abandoned = False
        self.cf: concurrent.futures.Future[VideoFrames] | None = None
        self.alloc = BudgetAllocator(budget, label=label, cancelled=lambda: self.abandoned)
        self._submitted = time.perf_counter()
        self._started: float | None = None  # when a worker picked the request up
        self._timer = loop.call_later(timeout, self._check_timeout) if timeout is not None else None

    # -- worker thread --
    def work(self, source: Any, options: dict[str, Any]) -> VideoFrames:
        self._started = time.perf_counter()
        self.times.queue = self._started - self._submitted
        if self.abandoned:
            raise Abandoned()
        alloc = self.alloc
        try:
            # The allocator is called after opening and sampling, before any pixel is decoded:
            # "read" ends there, then it waits for budget (not counted against the timeout).
            video = load_video(source, allocator=alloc, **options)
        except BaseException:
            alloc.release()
            raise
        finally:
            alloc.cancelled = None  # break the job -> alloc -> callback -> job cycle, so frames free promptly
            if alloc.requested_at is not None:
                self.times.read = alloc.requested_at - self._started
                self.times.budget_wait = alloc.waited
        if alloc.reserved_at is None:  # a cache hit: nothing was decoded
            self.times.read = time.perf_counter() - self._started
            return video
        self.times.decode = time.perf_counter() - alloc.reserved_at
        if options.get("cache") is not None:
            # Frames kept by the cache are bounded by its own byte budget: the frame budget,
            # which bounds decodes in flight, gets its bytes back now.
            alloc.release()
            return video
        return alloc.lease(video)

    def done(self, cf: concurrent.futures.Future[VideoFrames]) -> None:
        """(any thread) The worker finished: hand over to the loop, or discard."""
        self.cf = None  # break the cf -> callback -> job -> cf cycle, so frames free promptly
        if self.abandoned:
            self._discard(cf)
            return
        try:
            self.loop.call_soon_threadsafe(self._finish, cf)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            self._discard(cf)

    @staticmethod
    def _discard(cf: concurrent.futures.Future[VideoFrames]) -> None:
        if not cf.cancelled() and cf.exception() is None:
            release_frames(cf.result())

    # -- event loop --
    def _finish(self, cf: concurrent.futures.Future[VideoFrames]) -> None:
        self._stop_timer()
        if self.abandoned or self.out.done():
            self._discard(cf)
        elif cf.cancelled():
            self.out.cancel()
        elif cf.exception() is not None:
            self.out.set_exception(cf.exception())  # type: ignore[arg-type]
        else:
            self.out.set_result(cf.result())

    def abandon(self) -> None:
        """The caller stops waiting: skip the work if still queued, else discard its result."""
        self.abandoned = True
        self._stop_timer()
        cf = self.cf
        if cf is not None:
            cf.cancel()
        self.budget.wake()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _active_s(self) -> float:
        """Seconds the worker has spent on this request, not counting budget waits."""
        started, waiting_since, waited = self._started, self.alloc.waiting_since, self.alloc.waited
        if started is None:
            return 0.0
        now = time.perf_counter()
        waiting = now - waiting_since if waiting_since is not None else 0.0
        return now - started - waited - waiting

    def _check_timeout(self) -> None:
        self._timer = None
        if self.out.done() or self.timeout is None:
            return
        left = self.timeout - self._active_s()
        if left > 0:  # queued or waiting for budget part of the time: look again later
            self._timer = self.loop.call_later(left, self._check_timeout)
            return
        self.abandon()
        self.out.set_exception(
            DecodeTimeoutError(
                f"{self.label}: decoding timed out after {self.timeout:g} s "
                f"(the worker finishes in the background; its result is discarded)"
            )
        )


_UNSET: Any = object()


async def load_video_async(
    source: Any,
    /,
    *,
    fps: float | None = None,
    num_frames: int | None = None,
    sampler: SamplerLike = "qwen3_vl",
    backend: str = "auto",
    limits: Limits | None = None,
    decoder_threads: int | None = None,
    policy: SourcePolicy | None = None,
    timings: StageTimings | None = None,
    stats: Stats | None = None,
    budget: FrameBudget | None = None,
    timeout: float | None = _UNSET,
    fetch_policy: FetchPolicy | None = None,
    cache: VideoCache | None = None,
    revalidate: UrlValidators | None = None,
    resize_for: Any = None,
    device: str | None = None,
) -> VideoFrames:
    """``load_video(source, fps=, num_frames=, sampler=, backend=, limits=, decoder_threads=,
    policy=)`` in the media-load pool, with the frame bytes reserved from a budget.

    ``source`` may also be an ``http(s)://`` URL: it is fetched into memory first, on the
    loop, under ``fetch_policy`` (default ``video.fetch.DEFAULT_FETCH_POLICY``: public
    addresses only, 200 MiB, 5 redirects; see ``video.fetch``). Fetch time is not part of
    ``timeout``, which the fetch policy's own timeouts bound.

    ``timings``: a ``StageTimings`` to fill (queue, read, budget_wait, decode).
    ``stats``: where to record them (default ``global_stats()``).
    ``budget``: the ``FrameBudget`` to reserve frame bytes from (default ``frame_budget()``);
    the result holds its bytes until ``release_frames(video)`` or until its frames are freed.
    ``timeout``: seconds of active work before ``DecodeError`` (default ``decode_timeout()``).
    ``cache``: a ``VideoCache`` (see ``load_video``); a hit is not decoded and holds no frame
    budget (the cache's byte budget bounds what it keeps).
    ``revalidate``: with a ``cache``, a ``UrlValidators``: an http(s) URL fetched before is
    asked with a conditional GET, and a ``304`` is answered from the cache (``video.revalidate``).
    ``resize_for``: frames resized as decoded for that processor (see ``load_video``); the
    budget then reserves the resized frames' bytes (the per-thread full-size scratch is not counted).
    ``device``: host memory only here (``None`` / ``"cpu"``; ``backend="nvdec"`` decodes on the GPU
    into it): frames for a GPU come from ``load_video(..., device="cuda:N")`` (its VRAM budget).
    """
    if device not in (None, "cpu"):
        raise ValueError(f"load_video_async keeps frames in host memory (its frame budget); got device={device!r}")
    options = dict(
        fps=fps, num_frames=num_frames, sampler=sampler, backend=backend, limits=limits,
        decoder_threads=decoder_threads, policy=policy, cache=cache, resize_for=resize_for,
    )  # fmt: skip
    stats = stats if stats is not None else global_stats()
    if timeout is _UNSET:
        timeout = _decode_timeout
    elif timeout is not None:
        check_positive(timeout, "timeout")
    run = functools.partial(_run_job, options=options, stats=stats, budget=budget, timeout=timeout, timings=timings)
    if not is_http_url(source):
        return await run(source, _label(source))
    if revalidate is not None and cache is not None:
        try:
            return await _load_revalidated(source, functools.partial(run, count_errors=False), cache, revalidate, options, fetch_policy)
        except Exception as e:  # fetch or load: counted once, here
            stats.error("timeout" if isinstance(e, DecodeTimeoutError) else type(e).__name__)
            raise
    try:  # one resolver: the MediaSource is labelled with the URL
        source = await resolve_source_async(source, limits=limits or DEFAULT_LIMITS, policy=policy, fetch_policy=fetch_policy)
    except Exception as e:
        stats.error(type(e).__name__)
        raise
    return await run(source, source.label)


async def _load_revalidated(url: str, run: Any, cache: VideoCache, validators: UrlValidators, options: dict, fetch_policy: Any) -> VideoFrames:
    from ..video.cached import frames_params, lookup

    limits = options["limits"] or DEFAULT_LIMITS
    params = frames_params(**{k: options[k] for k in ("sampler", "fps", "num_frames", "backend", "limits", "resize_for")})

    async def load(src: MediaSource) -> VideoFrames:
        checked = dataclasses.replace(resolve_source(src.data, limits=limits), label=src.label)  # the byte limit
        return await run(checked, src.label)

    return await load_revalidated(
        url, policy=fetch_policy, validators=validators, lookup=lambda d: lookup(cache, d, params), load=load,
        digest_of=lambda v: v.metadata.source_digest, label=_label(url),
    )  # fmt: skip


async def _run_job(source: Any, label: str, *, options: dict, stats: Stats, budget: FrameBudget | None, timeout: float | None,
                   timings: StageTimings | None, count_errors: bool = True) -> VideoFrames:
    """One load in the media-load pool under the frame budget and the timeout."""
    job = _LoadJob(asyncio.get_running_loop(), budget if budget is not None else frame_budget(), timeout, label)
    ctx = contextvars.copy_context()
    job.cf = media_load_pool().submit(ctx.run, job.work, source, options)
    job.cf.add_done_callback(job.done)
    try:
        video = await job.out
    except asyncio.CancelledError:
        job.abandon()
        raise
    except BaseException as e:
        if count_errors:
            stats.error("timeout" if job.abandoned else type(e).__name__)
        raise
    finally:
        if timings is not None:
            for name, value in job.times.as_dict().items():
                setattr(timings, name, value)
    stats.record(job.times)
    return video


async def process_async(
    processor: Callable[..., T],
    /,
    *,
    timings: StageTimings | None = None,
    stats: Stats | None = None,
    **call_kwargs: Any,
) -> T:
    """``processor(**call_kwargs)`` in the input-processing pool.

    ``timings`` gets ``process_queue`` and ``process``; ``stats`` (default ``global_stats()``)
    records them. Exceptions propagate with their type.
    """
    stats = stats if stats is not None else global_stats()
    submitted = time.perf_counter()
    times: dict[str, float] = {}

    def work() -> T:
        start = time.perf_counter()
        times["process_queue"] = start - submitted
        try:
            return processor(**call_kwargs)
        finally:
            times["process"] = time.perf_counter() - start

    try:
        result = await run_in(input_processing_pool(), work)
    except asyncio.CancelledError:
        raise
    except BaseException as e:
        stats.error(type(e).__name__)
        raise
    if timings is not None:
        timings.process_queue, timings.process = times["process_queue"], times["process"]
    for stage, seconds in times.items():
        stats.add(stage, seconds)
    return result
