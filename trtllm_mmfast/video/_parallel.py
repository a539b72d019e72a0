"""One request decoded on several cores: its GOP runs on separate decoder contexts, within one
process-wide allowance of decoder threads.

**The allowance** (``DecodeThreads``; the process-wide one is ``allowance()``, one slot per core
this process may run on, ``executors.cpu_cores()``). Every pyav decode holds ``share`` slots
(its ``decoder_threads``, at most the total) while it decodes, waiting for them when they are
taken: concurrent requests queue here, in arrival order, instead of time-slicing the cores. A
decode may then take more slots for extra decoder contexts, one ``share`` each, without waiting
and only when they are idle (free, and no other decode is waiting for them). So the decoder
threads at work never exceed the cores, however many requests run at once: under load every
decode runs on one context, and one request alone spreads over the idle cores.

**The runs** (``decode_runs``). ``plan_runs`` splits the targets into runs that each start at a
keyframe on a flushed decoder and end drained, so runs do not depend on one another. The owning
thread and the extra contexts (each its own ``av`` container and codec context, opened on the
same bytes or path in a ``mmfast-decode-<n>`` worker: PyAV objects are never shared between
threads) take runs in order from one counter until none is left. Each run's outcome (frames in
the sink, stats, notes) is kept per run and merged in run order, so the result does not depend
on which context decoded which run, or when: it is the sequential decode's, bit for bit,
damage included (a rejected reference packet taints the rest of its own run only, as it does
sequentially, where the decoder is drained and flushed between runs).

**Why pixel writes need no lock.** Runs are disjoint packet ranges and each target's packet
lies in exactly one of them; a decoder outputs frames only for packets it was sent, and frames
are matched to targets by (unique) pts. So every sink slot is written by one context only, and
the sink's own bookkeeping is per slot. The one shared change, transposing the sink for a
quarter-turn display rotation before any slot is written, happens once under a lock, by the
first context to convert a target; every writer learns the rotation through that lock first.

**Opt-in/out**: ``parallel_runs`` (``PyAVBackend.open``; else ``TRTLLM_MMFAST_PARALLEL_RUNS``)
caps the contexts of one decode: ``1`` decodes sequentially, ``n`` uses at most ``n``; unset
(the default) uses as many as there are runs and idle slots, and only when each context has at
least ``MIN_PACKETS_PER_CONTEXT`` packets to decode (else opening one costs more than it saves).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, wait
from contextlib import contextmanager
from typing import Generic, TypeVar

__all__ = [
    "ENV_PARALLEL_RUNS",
    "MIN_PACKETS_PER_CONTEXT",
    "DecodeThreads",
    "allowance",
    "decode_runs",
    "resolve_parallel_runs",
]

log = logging.getLogger(__name__)

ENV_PARALLEL_RUNS = "TRTLLM_MMFAST_PARALLEL_RUNS"
MIN_PACKETS_PER_CONTEXT = 8

C = TypeVar("C")  # a decoder context
R = TypeVar("R")  # the outcome of one run


class DecodeThreads:
    """A counting allowance of decoder threads shared by every decode in the process.

    ``acquire`` waits (first come, first served) until its slots are free; ``try_acquire`` takes
    slots only when they are idle: free and wanted by no waiting ``acquire``. ``peak`` is the
    most slots ever held at once (instrumentation: tests check it never exceeds ``total``).
    """

    def __init__(self, total: int) -> None:
        if isinstance(total, bool) or not isinstance(total, int) or total < 1:
            raise ValueError(f"a decode-thread allowance needs total >= 1 slots, got {total!r}")
        self.total = total
        self.peak = 0
        self._in_use = 0
        self._queue: deque[object] = deque()  # waiting acquire() calls, oldest first
        self._cond = threading.Condition(threading.Lock())

    @property
    def in_use(self) -> int:
        return self._in_use

    @property
    def waiting(self) -> int:
        """``acquire`` calls waiting for slots."""
        return len(self._queue)

    def _take(self, n: int) -> None:
        self._in_use += n
        self.peak = max(self.peak, self._in_use)

    def acquire(self, n: int = 1) -> int:
        """Wait for ``n`` slots (at most ``total``) and take them; returns how many were taken."""
        n = max(1, min(int(n), self.total))
        me = object()
        with self._cond:
            self._queue.append(me)
            try:
                while self._queue[0] is not me or self._in_use + n > self.total:
                    self._cond.wait()
                self._take(n)
            finally:
                self._queue.remove(me)
                self._cond.notify_all()  # the next in line may fit in what is left
        return n

    def try_acquire(self, n: int = 1) -> bool:
        """Take ``n`` slots if they are idle (free, and no ``acquire`` is waiting); never waits."""
        with self._cond:
            if self._queue or self._in_use + n > self.total:
                return False
            self._take(n)
            return True

    def release(self, n: int = 1) -> None:
        with self._cond:
            if n > self._in_use:
                raise RuntimeError(f"releasing {n} decode-thread slots, only {self._in_use} are held")
            self._in_use -= n
            self._cond.notify_all()

    @contextmanager
    def held(self, n: int = 1) -> Iterator[int]:
        """``acquire(n)`` for the block; yields how many slots were taken."""
        got = self.acquire(n)
        try:
            yield got
        finally:
            self.release(got)

    def __repr__(self) -> str:
        return f"<DecodeThreads {self._in_use}/{self.total} in use, peak {self.peak}, {self.waiting} waiting>"


_allowance: DecodeThreads | None = None
_allowance_lock = threading.Lock()


def allowance() -> DecodeThreads:
    """The process-wide allowance: one slot per core this process may run on (created on first use)."""
    global _allowance
    if _allowance is None:
        from ..runtime.executors import cpu_cores

        with _allowance_lock:
            if _allowance is None:
                _allowance = DecodeThreads(cpu_cores())
    return _allowance


def resolve_parallel_runs(value: int | None) -> int | None:
    """Contexts one decode may use: ``value``, else ``TRTLLM_MMFAST_PARALLEL_RUNS``, else None (automatic)."""
    where = "parallel_runs"
    if value is None:
        where = ENV_PARALLEL_RUNS
        value = os.environ.get(ENV_PARALLEL_RUNS, "").strip() or None  # type: ignore[assignment]
        if value is None:
            return None
    try:
        n = int(value) if not isinstance(value, (bool, float)) else None
    except ValueError:
        n = None
    if n is None or n < 1:
        raise ValueError(f"{where} must be an integer >= 1 (decoder contexts per decode; 1: sequential), got {value!r}")
    return n


class _Work(Generic[C, R]):
    """The runs of one decode, handed out in order to whichever context asks next."""

    def __init__(self, n: int, run: Callable[[C, int], R]) -> None:
        self.n, self.run = n, run
        self.results: list[R | None] = [None] * n
        self.errors: dict[int, BaseException] = {}
        self.contexts = 0  # contexts that decoded at least one run
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            if self.errors or self._next >= self.n:
                return None
            self._next += 1
            return self._next - 1

    def left(self) -> bool:
        with self._lock:
            return not self.errors and self._next < self.n

    def serve(self, ctx: C) -> None:
        """Decode runs on ``ctx`` until none is left (or one failed)."""
        first = True
        while (i := self.take()) is not None:
            if first:
                with self._lock:
                    self.contexts += 1
                first = False
            try:
                self.results[i] = self.run(ctx, i)
            except BaseException as e:  # re-raised by the owner, the lowest run's first
                with self._lock:
                    self.errors[i] = e
                return


def _help(work: _Work, open_context: Callable[[], C], slots: DecodeThreads, share: int) -> None:
    """An extra context's job (in a decode-pool worker): open, serve runs, close, give the slots back."""
    try:
        if not work.left():
            return
        try:
            ctx = open_context()
        except Exception as e:  # the other contexts decode its runs
            log.debug("no extra decoder context: %s", e)
            return
        try:
            work.serve(ctx)
        finally:
            ctx.close()  # type: ignore[attr-defined]
    finally:
        slots.release(share)


def _extras(n: int, packets: int, share: int, limit: int | None, slots: DecodeThreads) -> int:
    """How many extra contexts to start, their slots taken: idle slots permitting, none waiting."""
    want = min(n, limit or n, max(1, packets // MIN_PACKETS_PER_CONTEXT)) - 1
    got = 0
    while got < want and slots.try_acquire(share):
        got += 1
    return got


def decode_runs(
    n: int,
    run: Callable[[C, int], R],
    owner: C,
    open_context: Callable[[], C],
    *,
    share: int = 1,
    limit: int | None = None,
    packets: int = 0,
) -> tuple[list[R], int]:
    """``[run(ctx, i) for i in range(n)]`` spread over ``owner`` (this thread, which already holds
    ``share`` slots of ``allowance()``) and extra contexts from ``open_context``, as idle slots allow.

    ``limit``: most contexts (None: no cap but the allowance); ``packets``: how many packets the
    runs hold (extra contexts only when each gets ``MIN_PACKETS_PER_CONTEXT``). Returns the results
    in run order and how many contexts decoded runs. A run's exception is re-raised here (the
    lowest failing run's), after every context has stopped and closed.
    """
    slots = allowance()
    share = max(1, min(share, slots.total))  # what the owner holds (``DecodeThreads.acquire`` clamps)
    extras = _extras(n, packets, share, limit, slots)
    if not extras:
        return [run(owner, i) for i in range(n)], 1
    from ..runtime.executors import decode_pool

    work: _Work[C, R] = _Work(n, run)
    futures: list[Future[None]] = []
    try:
        pool = decode_pool()
        for _ in range(extras):
            futures.append(pool.submit(_help, work, open_context, slots, share))
    except RuntimeError as e:  # the pool is shutting down: decode on this thread
        log.debug("decode pool unavailable: %s", e)
    finally:
        slots.release(share * (extras - len(futures)))  # slots of the jobs not submitted
    try:
        work.serve(owner)
    finally:
        for f in futures:
            if f.cancel():  # never started: its slots are still ours
                slots.release(share)
        wait(futures)
    if work.errors:
        raise work.errors[min(work.errors)]
    for f in futures:
        if not f.cancelled() and f.exception() is not None:
            raise f.exception()  # type: ignore[misc]
    return work.results, work.contexts  # type: ignore[return-value]
