"""Async load + process: ``load_video`` in the media-load pool, the HF processor in the
input-processing pool, with stage timings, a decoded-frame byte budget and a decode timeout.

Frame budget (backpressure)
    Decoded frames in flight are bounded in bytes (``DEFAULT_FRAME_BUDGET``, 2 GiB;
    ``set_frame_budget``, or a ``FrameBudget`` passed as ``budget=``). A request's bytes
    (sampled count x H x W x 3) are known after probing and sampling, before the frame
    array is allocated: the worker thread reserves them right there (``LoadTrace.on_plan``),
    blocking in FIFO order while they do not fit. A request larger than the whole budget
    fails at once with ``MediaTooLargeError``. The reservation is released by
    ``release_frames(video)`` (or ``with holding(video): ...``), or, at the latest, when
    the frames array is garbage-collected; a failed or abandoned load releases at once.

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
import contextlib
import contextvars
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ..errors import DecodeTimeoutError, MediaTooLargeError
from ..types import VideoFrames
from ..video.api import LoadTrace, load_video
from ..video.fetch import FetchPolicy, fetch, is_http_url
from .executors import input_processing_pool, media_load_pool, run_in
from .stats import StageTimings, Stats, global_stats

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

DEFAULT_FRAME_BUDGET = 2 * 1024**3
DEFAULT_DECODE_TIMEOUT_S = 300.0

T = TypeVar("T")


class _Abandoned(Exception):
    """The caller gave up (timeout or cancellation) before the worker got this far."""


def _check_positive(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number or None, got {value!r}")


class FrameBudget:
    """A FIFO byte semaphore for decoded frames, acquired by (blocking) worker threads.

    ``limit_bytes=None`` disables the bound (bytes are still counted).
    """

    def __init__(self, limit_bytes: int | None = DEFAULT_FRAME_BUDGET) -> None:
        if limit_bytes is not None:
            _check_positive(limit_bytes, "frame budget (bytes)")
        self._limit = limit_bytes
        self._used = 0
        self._peak = 0
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()

    @property
    def limit(self) -> int | None:
        return self._limit

    @property
    def in_use(self) -> int:
        """Bytes reserved now."""
        return self._used

    @property
    def peak(self) -> int:
        """Most bytes ever reserved at once (``reset_peak`` restarts it)."""
        return self._peak

    @property
    def waiting(self) -> int:
        """Requests waiting for bytes now."""
        return len(self._queue)

    def reset_peak(self) -> None:
        with self._cond:
            self._peak = self._used

    def set_limit(self, limit_bytes: int | None) -> None:
        """Change the bound; waiters re-check (ones now larger than the bound fail)."""
        if limit_bytes is not None:
            _check_positive(limit_bytes, "frame budget (bytes)")
        with self._cond:
            self._limit = limit_bytes
            self._cond.notify_all()

    def _check_fits(self, nbytes: int, label: str) -> None:
        if self._limit is not None and nbytes > self._limit:
            raise MediaTooLargeError(
                f"{label}: the decoded frames need {nbytes} bytes, more than the whole frame budget "
                f"of {self._limit} bytes (sample fewer frames, or raise the budget)"
            )

    def acquire(self, nbytes: int, *, label: str = "request", cancelled: Callable[[], bool] | None = None) -> None:
        """Reserve ``nbytes``, blocking (first come, first served) until they fit.

        Raises ``MediaTooLargeError`` if they never can; ``_Abandoned`` if ``cancelled()``
        turns true while waiting (``wake()`` makes waiters re-check it).
        """
        with self._cond:
            self._check_fits(nbytes, label)
            ticket = object()
            self._queue.append(ticket)
            try:
                while self._queue[0] is not ticket or (
                    self._limit is not None and self._used + nbytes > self._limit
                ):
                    if cancelled is not None and cancelled():
                        raise _Abandoned()
                    self._cond.wait()
                    self._check_fits(nbytes, label)  # the limit may have shrunk
                self._used += nbytes
                self._peak = max(self._peak, self._used)
            finally:
                self._queue.remove(ticket)
                self._cond.notify_all()  # the next in line may fit now

    def release(self, nbytes: int) -> None:
        with self._cond:
            self._used -= nbytes
            self._cond.notify_all()

    def wake(self) -> None:
        """Make waiters re-check their ``cancelled`` callbacks."""
        with self._cond:
            self._cond.notify_all()


_budget = FrameBudget()
_decode_timeout: float | None = DEFAULT_DECODE_TIMEOUT_S


def frame_budget() -> FrameBudget:
    """The process-wide frame budget (used when no ``budget=`` is given)."""
    return _budget


def set_frame_budget(nbytes: int | None) -> None:
    """Bound decoded-frame bytes in flight process-wide (``None``: unbounded)."""
    _budget.set_limit(nbytes)


def decode_timeout() -> float | None:
    return _decode_timeout


def set_decode_timeout(seconds: float | None) -> None:
    """Default per-request decode timeout in seconds (``None``: none)."""
    global _decode_timeout
    if seconds is not None:
        _check_positive(seconds, "decode timeout (seconds)")
    _decode_timeout = seconds


# ---- frame leases: which VideoFrames hold which budget bytes --------------------------------

_leases: dict[int, tuple[weakref.ref[VideoFrames], weakref.finalize]] = {}
_leases_lock = threading.Lock()


def _lease(video: VideoFrames, budget: FrameBudget, nbytes: int) -> None:
    """Tie ``nbytes`` of ``budget`` to ``video``: released by ``release_frames`` or GC of its frames."""
    key = id(video)

    def give_back() -> None:
        budget.release(nbytes)
        with _leases_lock:
            entry = _leases.get(key)
            if entry is not None and entry[1] is fin:
                del _leases[key]

    try:
        fin = weakref.finalize(video.frames, give_back)
    except TypeError:  # frames type without weakref support: tie it to the container object
        fin = weakref.finalize(video, give_back)
    fin.atexit = False
    with _leases_lock:
        _leases[key] = (weakref.ref(video), fin)


def release_frames(video: VideoFrames) -> bool:
    """Give ``video``'s frame-budget bytes back now (call when done with its frames).

    Idempotent; returns whether anything was released. Frames from ``load_video`` (not the
    async one) hold no budget.
    """
    with _leases_lock:
        entry = _leases.get(id(video))
    if entry is None or entry[0]() is not video:
        return False
    detached = entry[1].detach()
    if detached is None:
        return False
    _, func, args, kwargs = detached
    func(*args, **kwargs)
    return True


@contextlib.contextmanager
def holding(video: VideoFrames) -> Iterator[VideoFrames]:
    """``with holding(await load_video_async(...)) as v: ...`` releases the budget on exit."""
    try:
        yield video
    finally:
        release_frames(video)


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
        self._reserved = 0
        self._submitted = time.perf_counter()
        self._started: float | None = None  # when a worker picked the request up
        self._waiting_since: float | None = None  # set while blocked on the budget
        self._waited = 0.0  # finished budget waits
        self._timer = loop.call_later(timeout, self._check_timeout) if timeout is not None else None

    # -- worker thread --
    def work(self, source: Any, kwargs: dict[str, Any]) -> VideoFrames:
        self._started = time.perf_counter()
        self.times.queue = self._started - self._submitted
        if self.abandoned:
            raise _Abandoned()
        trace = LoadTrace()

        def plan(nbytes: int) -> None:
            self.times.read = trace.read_s
            if self.abandoned:
                raise _Abandoned()
            self._waiting_since = t0 = time.perf_counter()
            try:
                self.budget.acquire(nbytes, label=self.label, cancelled=lambda: self.abandoned)
            finally:
                self._waited = time.perf_counter() - t0
                self._waiting_since = None
            self._reserved = nbytes
            self.times.budget_wait = self._waited

        trace.on_plan = plan
        try:
            video = load_video(source, trace=trace, **kwargs)
        except BaseException:
            if self._reserved:
                self.budget.release(self._reserved)
                self._reserved = 0
            raise
        finally:
            trace.on_plan = None  # break the trace <-> plan cycle, so frames free promptly
        self.times.decode = trace.decode_s
        if self._reserved:
            _lease(video, self.budget, self._reserved)
        return video

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
        started, waiting_since = self._started, self._waiting_since
        if started is None:
            return 0.0
        now = time.perf_counter()
        waiting = now - waiting_since if waiting_since is not None else 0.0
        return now - started - self._waited - waiting

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
    timings: StageTimings | None = None,
    stats: Stats | None = None,
    budget: FrameBudget | None = None,
    timeout: float | None = _UNSET,
    fetch_policy: FetchPolicy | None = None,
    **load_video_kwargs: Any,
) -> VideoFrames:
    """``load_video(source, **load_video_kwargs)`` in the media-load pool.

    ``source`` may also be an ``http(s)://`` URL: it is fetched into memory first, on the
    loop, under ``fetch_policy`` (default ``video.fetch.DEFAULT_FETCH_POLICY``: public
    addresses only, 200 MiB, 5 redirects; see ``video.fetch``). Fetch time is not part of
    ``timeout``, which the fetch policy's own timeouts bound.

    ``timings``: a ``StageTimings`` to fill (queue, read, budget_wait, decode).
    ``stats``: where to record them (default ``global_stats()``).
    ``budget``: the ``FrameBudget`` to reserve frame bytes from (default ``frame_budget()``);
    the result holds its bytes until ``release_frames(video)`` or until its frames are freed.
    ``timeout``: seconds of active work before ``DecodeError`` (default ``decode_timeout()``).
    """
    loop = asyncio.get_running_loop()
    stats = stats if stats is not None else global_stats()
    if timeout is _UNSET:
        timeout = _decode_timeout
    elif timeout is not None:
        _check_positive(timeout, "timeout")
    label = _label(source)
    if is_http_url(source):
        try:
            source = await fetch(source, policy=fetch_policy)
        except Exception as e:
            stats.error(type(e).__name__)
            raise
    job = _LoadJob(loop, budget if budget is not None else _budget, timeout, label)
    ctx = contextvars.copy_context()
    job.cf = media_load_pool().submit(ctx.run, job.work, source, load_video_kwargs)
    job.cf.add_done_callback(job.done)
    try:
        video = await job.out
    except asyncio.CancelledError:
        job.abandon()
        raise
    except BaseException as e:
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
