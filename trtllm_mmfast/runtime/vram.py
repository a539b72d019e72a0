"""GPU memory for GPU decodes: a VRAM byte budget and a bounded pool of decoder sessions, per GPU.

**VRAM budget.** Decoded bytes in flight on each GPU are bounded by one ``FrameBudget`` per
device index (the same FIFO byte semaphore as the host frame budget): a decode reserves its
frames (and the batch of library frames it holds while copying them out) before allocating, and
*waits* while they do not fit, so a burst queues instead of running the GPU out of memory. The
output frames' reservation is tied to the ``VideoFrames`` (``budget.lease``) and given back by
``release_frames`` or when the frames tensor is garbage-collected. A request larger than the
whole budget raises ``MediaTooLargeError`` at once. The limit, fixed on first use:
``TRTLLM_MMFAST_NVDEC_VRAM_BYTES`` if set, else ``TRTLLM_MMFAST_NVDEC_VRAM_FRACTION``
(default 0.25) of the memory free on that GPU then; ``set_vram_budget`` changes it.

**Session pool.** NVDEC sessions (a decoder with its surfaces, a CUDA stream) are costly to make
and limited in number, so each GPU has one pool of at most ``TRTLLM_MMFAST_NVDEC_SESSIONS``
(default 4) sessions: a decode borrows an idle one (made on demand up to the bound), waits while
all are busy, and returns it; a session whose decode raised is closed, not reused.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .budget import FrameBudget

__all__ = [
    "DEFAULT_SESSIONS",
    "DEFAULT_VRAM_FRACTION",
    "ENV_SESSIONS",
    "ENV_VRAM_BYTES",
    "ENV_VRAM_FRACTION",
    "PoolStats",
    "SessionPool",
    "cuda_index",
    "reset",
    "session_pool",
    "set_vram_budget",
    "vram_budget",
]

DEFAULT_VRAM_FRACTION = 0.25
DEFAULT_SESSIONS = 4
ENV_VRAM_BYTES = "TRTLLM_MMFAST_NVDEC_VRAM_BYTES"
ENV_VRAM_FRACTION = "TRTLLM_MMFAST_NVDEC_VRAM_FRACTION"
ENV_SESSIONS = "TRTLLM_MMFAST_NVDEC_SESSIONS"


def cuda_index(device: str | int | None) -> int:
    """The GPU index ``device`` names: ``"cuda"`` (0), ``"cuda:N"``, or ``N``."""
    if isinstance(device, int) and not isinstance(device, bool) and device >= 0:
        return device
    if isinstance(device, str):
        kind, sep, num = device.strip().partition(":")
        if kind == "cuda" and (not sep or num.isdigit()):
            return int(num) if sep else 0
    raise ValueError(f"device must be 'cuda', 'cuda:N' or a GPU index N >= 0, got {device!r}")


def free_memory(index: int) -> int:
    """Bytes free on GPU ``index`` now (torch's ``mem_get_info``)."""
    import torch

    return int(torch.cuda.mem_get_info(index)[0])


def _env_number(name: str, kind: type, *, low: float, high: float | None = None) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        span = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name}={raw!r}: expected a {kind.__name__} {span}")
    return value


def default_limit(free_bytes: int) -> int:
    """The budget a GPU gets on first use: the configured bytes, else a fraction of ``free_bytes``."""
    nbytes = _env_number(ENV_VRAM_BYTES, int, low=1)
    if nbytes is not None:
        return int(nbytes)
    fraction = _env_number(ENV_VRAM_FRACTION, float, low=0.0, high=1.0)
    fraction = DEFAULT_VRAM_FRACTION if fraction is None else fraction
    return max(1, int(free_bytes * fraction))


_lock = threading.Lock()
_budgets: dict[int, FrameBudget] = {}
_pools: dict[tuple[int, str], SessionPool] = {}


def vram_budget(index: int, *, free_bytes: Callable[[int], int] = free_memory) -> FrameBudget:
    """The VRAM budget of GPU ``index`` (made on first use from ``default_limit``)."""
    with _lock:
        budget = _budgets.get(index)
        if budget is None:
            budget = _budgets[index] = FrameBudget(default_limit(free_bytes(index)))
        return budget


def set_vram_budget(index: int, nbytes: int | None) -> None:
    """Bound decoded bytes in flight on GPU ``index`` (``None``: unbounded, still counted)."""
    with _lock:
        budget = _budgets.get(index)
        if budget is None:
            _budgets[index] = FrameBudget(nbytes)
            return
    budget.set_limit(nbytes)


@dataclass
class PoolStats:
    """What a session pool did: tests and benchmarks read it."""

    created: int = 0  # sessions made
    reused: int = 0  # borrows served by an idle session
    discarded: int = 0  # sessions closed after a failed decode
    waits: int = 0  # borrows that had to wait for a session
    peak_busy: int = 0  # most sessions lent out at once


class SessionPool:
    """At most ``limit`` sessions made by ``factory()``; ``borrow()`` lends one, waiting while all
    are busy. A session's ``close()`` (if it has one) is called when it is discarded."""

    def __init__(self, factory: Callable[[], Any], limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"a session pool needs at least one session, got limit={limit!r}")
        self.limit = limit
        self._factory = factory
        self._idle: list[Any] = []
        self._made = 0  # sessions alive (idle or lent)
        self._busy = 0
        self._cond = threading.Condition()
        self.stats = PoolStats()

    @property
    def busy(self) -> int:
        return self._busy

    @property
    def size(self) -> int:
        """Sessions alive (idle or lent out)."""
        return self._made

    def _take(self) -> tuple[Any, bool]:
        with self._cond:
            waited = False
            while not self._idle and self._made >= self.limit:
                waited = True
                self._cond.wait()
            self.stats.waits += waited
            self._busy += 1
            self.stats.peak_busy = max(self.stats.peak_busy, self._busy)
            if self._idle:
                self.stats.reused += 1
                return self._idle.pop(), False
            self._made += 1
            return None, True

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Any]:
        session, new = self._take()
        if new:
            try:
                session = self._factory()
            except BaseException:
                self._give_back(None)
                raise
            with self._cond:
                self.stats.created += 1
        try:
            yield session
        except BaseException:
            self._give_back(None)
            _close(session)
            with self._cond:
                self.stats.discarded += 1
            raise
        self._give_back(session)

    def _give_back(self, session: Any) -> None:
        with self._cond:
            self._busy -= 1
            if session is None:
                self._made -= 1
            else:
                self._idle.append(session)
            self._cond.notify()

    def close(self) -> None:
        """Close the idle sessions (lent ones are closed when given back to a closed pool: not
        tracked; call this at shutdown)."""
        with self._cond:
            idle, self._idle = self._idle, []
            self._made -= len(idle)
        for s in idle:
            _close(s)


def _close(session: Any) -> None:
    close = getattr(session, "close", None)
    if close is not None:
        close()


def session_pool(index: int, kind: str, factory: Callable[[], Any], *, limit: int | None = None) -> SessionPool:
    """The pool of ``kind`` sessions on GPU ``index`` (made on first use with ``factory``; its
    bound: ``limit``, else ``TRTLLM_MMFAST_NVDEC_SESSIONS``, else ``DEFAULT_SESSIONS``)."""
    with _lock:
        pool = _pools.get((index, kind))
        if pool is None:
            if limit is None:
                limit = _env_number(ENV_SESSIONS, int, low=1) or DEFAULT_SESSIONS
            pool = _pools[(index, kind)] = SessionPool(factory, limit)
        return pool


def reset() -> None:
    """Forget every budget and pool (closing idle sessions): for tests and re-configuration."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
        _budgets.clear()
    for pool in pools:
        pool.close()
