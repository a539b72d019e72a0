"""Per-request stage timings and a thread-safe collector of their p50/p99."""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["STAGES", "StageTimings", "Stats", "global_stats"]

# Stage names, in request order.
STAGES = ("queue", "read", "budget_wait", "decode", "process_queue", "process")


@dataclass
class StageTimings:
    """Seconds one request spent per stage; ``None`` for a stage it did not (yet) reach.

    Pass a fresh one as ``timings=`` to ``load_video_async`` / ``process_async``: the runtime
    fills it (treat it as read-only). ``queue``: waiting for a media-load worker; ``read``:
    resolving the source, opening and probing the container, sampling; ``budget_wait``: waiting
    for frame-budget bytes; ``decode``; ``process_queue``: waiting for an input-processing
    worker; ``process``: running the processor.
    """

    queue: float | None = None
    read: float | None = None
    budget_wait: float | None = None
    decode: float | None = None
    process_queue: float | None = None
    process: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)

    @property
    def total(self) -> float:
        """Sum of the stages reached."""
        return sum(v for v in asdict(self).values() if v is not None)


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default) of a sorted, non-empty list."""
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


class Stats:
    """Collects stage times (the last ``window`` per stage) and error counts, from any thread."""

    def __init__(self, window: int = 10_000) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self._lock = threading.Lock()
        self._window = window
        self._samples: dict[str, deque[float]] = {s: deque(maxlen=window) for s in STAGES}
        self._errors: Counter[str] = Counter()

    def add(self, stage: str, seconds: float) -> None:
        """Record one sample of ``stage`` (one of ``STAGES``)."""
        if stage not in self._samples:
            raise ValueError(f"unknown stage {stage!r}; valid: {', '.join(STAGES)}")
        with self._lock:
            self._samples[stage].append(float(seconds))

    def record(self, timings: StageTimings) -> None:
        """Record every stage ``timings`` reached."""
        for f in fields(timings):
            value = getattr(timings, f.name)
            if value is not None:
                self.add(f.name, value)

    def error(self, kind: str) -> None:
        """Count one failed request of ``kind`` (e.g. the exception's class name, or ``timeout``)."""
        with self._lock:
            self._errors[kind] += 1

    def reset(self) -> None:
        with self._lock:
            for d in self._samples.values():
                d.clear()
            self._errors.clear()

    def summary(self) -> dict[str, Any]:
        """``{"stages": {stage: {count, mean_ms, p50_ms, p99_ms, max_ms}}, "errors": {kind: n}}``.

        Stages with no sample are left out; quantiles are over the last ``window`` samples.
        """
        with self._lock:
            snap = {s: sorted(d) for s, d in self._samples.items() if d}
            errors = dict(self._errors)
        stages = {
            s: {
                "count": len(v),
                "mean_ms": 1e3 * sum(v) / len(v),
                "p50_ms": 1e3 * quantile(v, 0.50),
                "p99_ms": 1e3 * quantile(v, 0.99),
                "max_ms": 1e3 * v[-1],
            }
            for s, v in snap.items()
        }
        return {"stages": stages, "errors": errors, "window": self._window}


_GLOBAL = Stats()


def global_stats() -> Stats:
    """The process-wide collector the runtime records into when no ``stats=`` is given."""
    return _GLOBAL
