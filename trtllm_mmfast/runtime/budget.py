"""The decoded-frame byte budget and the leases that tie its bytes to ``VideoFrames``.

Decoded frames in flight are bounded in bytes (``DEFAULT_FRAME_BUDGET``, 2 GiB;
``set_frame_budget``, or a ``FrameBudget`` passed as ``budget=``). A request's bytes
(sampled count x H x W x 3) are known after opening and sampling, before the frame array
is allocated: the async runtime reserves them right there (``BudgetAllocator``), blocking in
FIFO order while they do not fit. A request larger than the whole budget fails at once
with ``MediaTooLargeError``. The reservation is tied to the result by ``lease`` and given
back by ``release_frames(video)`` (or ``with holding(video): ...``), or, at the latest, when
the frames array is garbage-collected.

``BudgetAllocator`` is the seam between a decode and the budget: the ``Allocator`` that
reserves the frame bytes before allocating them. To decode more frames of an ``OpenedVideo``
under the budget::

    alloc = BudgetAllocator(frame_budget(), label=video.label)
    frames = alloc.lease(video.decode(indices, allocator=alloc))  # blocks while the bytes do not fit
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import MediaTooLargeError
from ..types import VideoFrames
from ..video.backend import HOST, Allocator, frame_nbytes

__all__ = [
    "DEFAULT_FRAME_BUDGET",
    "Abandoned",
    "BudgetAllocator",
    "FrameBudget",
    "check_positive",
    "frame_budget",
    "holding",
    "lease",
    "release_frames",
    "set_frame_budget",
]

DEFAULT_FRAME_BUDGET = 2 * 1024**3


class Abandoned(Exception):
    """The caller gave up (timeout or cancellation) before the worker got this far."""


def check_positive(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number or None, got {value!r}")


class FrameBudget:
    """A FIFO byte semaphore for decoded frames, acquired by (blocking) worker threads.

    ``limit_bytes=None`` disables the bound (bytes are still counted).
    """

    def __init__(self, limit_bytes: int | None = DEFAULT_FRAME_BUDGET) -> None:
        if limit_bytes is not None:
            check_positive(limit_bytes, "frame budget (bytes)")
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
        """Most bytes ever reserved at once."""
        return self._peak

    @property
    def waiting(self) -> int:
        """Requests waiting for bytes now."""
        return len(self._queue)

    def set_limit(self, limit_bytes: int | None) -> None:
        """Change the bound; waiters re-check (ones now larger than the bound fail)."""
        if limit_bytes is not None:
            check_positive(limit_bytes, "frame budget (bytes)")
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

        Raises ``MediaTooLargeError`` if they never can; ``Abandoned`` if ``cancelled()``
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
                        raise Abandoned()
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


def frame_budget() -> FrameBudget:
    """The process-wide frame budget (used when no ``budget=`` is given)."""
    return _budget


def set_frame_budget(nbytes: int | None) -> None:
    """Bound decoded-frame bytes in flight process-wide (``None``: unbounded)."""
    _budget.set_limit(nbytes)


# ---- frame leases: which VideoFrames hold which budget bytes --------------------------------

_leases: dict[int, tuple[weakref.ref[VideoFrames], weakref.finalize]] = {}
_leases_lock = threading.Lock()


def lease(video: VideoFrames, budget: FrameBudget, nbytes: int) -> None:
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


class BudgetAllocator:
    """An ``Allocator`` that reserves the frame bytes from ``budget`` (blocking while they do
    not fit), then allocates them with ``inner`` (host memory by default).

    ``lease(video)`` ties the reserved bytes to the decoded ``VideoFrames``; ``release()``
    gives back bytes no result holds (a failed decode). One decode at a time; the wait is
    exposed (``waiting_since``, ``waited``) so that a timeout can leave it out.
    """

    def __init__(
        self,
        budget: FrameBudget,
        *,
        label: str = "request",
        cancelled: Callable[[], bool] | None = None,
        inner: Allocator = HOST,
    ) -> None:
        self.budget, self.label, self.cancelled, self.inner = budget, label, cancelled, inner
        self.device = inner.device
        self.reserved = 0  # bytes reserved and not yet leased or released
        self.requested_at: float | None = None  # when the last allocation was asked for
        self.reserved_at: float | None = None  # ... and when its bytes were reserved
        self.waiting_since: float | None = None  # set while blocked on the budget
        self.waited = 0.0  # finished budget waits, in seconds

    def empty(self, n: int, height: int, width: int) -> Any:
        self.requested_at = t0 = time.perf_counter()
        if self.cancelled is not None and self.cancelled():
            raise Abandoned()
        nbytes = frame_nbytes(n, height, width)
        self.waiting_since = t0
        try:
            self.budget.acquire(nbytes, label=self.label, cancelled=self.cancelled)
        finally:
            self.waited += time.perf_counter() - t0
            self.waiting_since = None
        self.reserved += nbytes
        self.reserved_at = time.perf_counter()
        try:
            return self.inner.empty(n, height, width)
        except BaseException:
            self.release()
            raise

    def lease(self, video: VideoFrames) -> VideoFrames:
        """Tie the reserved bytes to ``video`` (see ``release_frames``); returns ``video``."""
        if self.reserved:
            lease(video, self.budget, self.reserved)
            self.reserved = 0
        return video

    def release(self) -> None:
        """Give back the bytes reserved for a decode that produced no result."""
        if self.reserved:
            self.budget.release(self.reserved)
            self.reserved = 0
