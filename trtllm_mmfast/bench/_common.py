"""What every benchmark here shares: result types, the closed loop, the loop-lag ticker.

The sweep's targets (``sweep.py`` in process, ``http_target.py`` over HTTP) and the
scripts in ``perf/`` drive load the same way and measure the event loop the same way, so
their numbers mean the same thing. Nothing here imports a target: the targets import this.
"""

from __future__ import annotations

import asyncio
import hashlib
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Awaitable, Callable

from ..runtime.stats import STAGES, quantile

__all__ = [
    "LoadRun",
    "LoopLagTicker",
    "ModelInputsMismatchError",
    "PeakRss",
    "Point",
    "SweepResult",
    "closed_loop",
    "differing_keys",
    "inputs_digest",
    "percentile",
    "progress_bar",
    "summarize",
    "write_result",
]


@dataclass(frozen=True)
class Point:
    """One point of a sweep grid."""

    mode: str
    fps: float
    concurrency: int
    osl: int = 0  # 0: in-process (no generation)


@dataclass
class SweepResult:
    """Everything a sweep writes to ``sweep.json``: one sample per request, one row per point."""

    config: dict[str, Any]
    system: dict[str, Any]
    video: dict[str, Any]
    samples: list[dict[str, Any]] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadRun:
    """One closed-loop run: a sample dict per request, its wall time, and (when a
    ``LoopLagTicker`` ran alongside) how late the loop woke each tick, in seconds."""

    samples: list[dict[str, Any]]
    wall_s: float
    loop_lags: list[float] = field(default_factory=list)

    def __iadd__(self, other: "LoadRun") -> "LoadRun":
        self.samples += other.samples
        self.wall_s += other.wall_s
        self.loop_lags += other.loop_lags
        return self


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1, linear interpolation as numpy's default) of ``values``; ``None`` if empty."""
    return quantile(sorted(values), q) if values else None


class LoopLagTicker:
    """Sleeps ``period`` seconds in a loop on the running event loop and records how late each
    wake-up is (actual minus requested sleep): the loop's responsiveness while work runs.

    ``async with LoopLagTicker() as ticker: ...`` ticks for the body's duration; ``ticker.lags``.
    """

    def __init__(self, period: float = 0.005) -> None:
        if not period > 0:
            raise ValueError(f"period must be > 0 seconds, got {period!r}")
        self.period = period
        self.lags: list[float] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            t0 = loop.time()
            await asyncio.sleep(self.period)
            self.lags.append(max(0.0, loop.time() - t0 - self.period))

    async def __aenter__(self) -> "LoopLagTicker":
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task  # at most one more period: the tick in flight finishes


async def closed_loop(
    concurrency: int, n_requests: int, max_s: float, one: Callable[[int], Awaitable[dict[str, Any]]]
) -> LoadRun:
    """``concurrency`` workers each send the next request (``one(request_id)``, returning its
    sample) when the last one ends, until ``n_requests`` were sent or ``max_s`` passed."""
    samples: list[dict[str, Any]] = []
    next_id = 0
    deadline = time.perf_counter() + max_s

    async def worker() -> None:
        nonlocal next_id
        while next_id < n_requests and time.perf_counter() < deadline:
            rid, next_id = next_id, next_id + 1
            samples.append(await one(rid))

    t_start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return LoadRun(samples, time.perf_counter() - t_start)


def summarize(point: Point, run: LoadRun) -> dict[str, Any]:
    """One table row for ``point``: request counts, req/s, loop lag, p50/p99 latencies and stages."""
    samples, wall_s = run.samples, run.wall_s
    ok = [s for s in samples if s["ok"]]
    lag99 = percentile(run.loop_lags, 0.99)
    row: dict[str, Any] = {
        **asdict(point),
        "requests": len(samples),
        "errors": len(samples) - len(ok),
        "wall_s": round(wall_s, 4),
        "req_per_s": round(len(ok) / wall_s, 3) if wall_s > 0 else None,
        "loop_lag_p99_ms": round(lag99 * 1e3, 2) if lag99 is not None else None,
    }
    for key in ("e2e_s", "load_s", "process_s", "ttft_s", "tpot_s"):
        vals = [s[key] for s in ok if s.get(key) is not None]
        if vals:
            vals.sort()
            row[f"p50_{key}"] = round(quantile(vals, 0.5), 5)
            row[f"p99_{key}"] = round(quantile(vals, 0.99), 5)
    for stage in STAGES:
        vals = [s["stages"][stage] for s in ok if s.get("stages", {}).get(stage) is not None]
        if vals:
            row[f"p50_stage_{stage}_s"] = round(quantile(sorted(vals), 0.5), 5)
    frames = [s["frames_out"] for s in ok if s.get("frames_out") is not None]
    if frames:
        row["frames_out"] = int(statistics.median(frames))
    return row


class _NoBar:
    def update(self, n: int) -> None: ...
    def set_postfix_str(self, s: str) -> None: ...
    def close(self) -> None: ...


def progress_bar(total: int, enabled: bool) -> Any:
    """A tqdm bar over ``total`` points, or one that does nothing (disabled, or no tqdm)."""
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is in the perf extra; run without a bar
        return _NoBar()
    return tqdm(total=total, desc="sweep", unit="point", disable=not enabled, leave=False)


class PeakRss:
    """Peak resident-memory growth of this process over a ``with`` block (Linux: the
    high-water mark is reset at entry through ``/proc/self/clear_refs``); ``mib`` after exit."""

    @staticmethod
    def _kib(field: str) -> int:
        with open("/proc/self/status") as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith(field))

    def __enter__(self) -> "PeakRss":
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak-RSS high-water mark
        self._base = self._kib("VmRSS:")
        return self

    def __exit__(self, *exc: object) -> None:
        self.mib = round((self._kib("VmHWM:") - self._base) / 1024, 1)


class ModelInputsMismatchError(RuntimeError):
    """Two modes gave the model different inputs for the same request (checked before timing)."""


def differing_keys(ref: Any, out: Any, keys: tuple[str, ...]) -> list[str]:
    """The ``keys`` whose tensors differ (``torch.equal``) between two sets of model inputs."""
    import torch

    return [k for k in keys if not torch.equal(torch.as_tensor(ref[k]), torch.as_tensor(out[k]))]


def inputs_digest(out: Any) -> str:
    """A hash of every tensor of the model inputs (name, dtype, shape, bytes), to compare
    turns across cache settings without holding their tensors."""
    import torch

    h = hashlib.blake2b(digest_size=16)
    for k in sorted(out.keys()):
        t = out[k].contiguous()
        h.update(f"{k}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(memoryview(t.reshape(-1).view(torch.uint8).numpy()))  # the raw bytes, no copy
    return h.hexdigest()


def write_result(path: str, benchmark: str, fields: dict[str, Any]) -> None:
    """A perf script's result file, ``{"benchmark": name, **fields, "system": system_info()}``
    (its folder made), and a line saying where it went."""
    import json
    import os

    from ..versions import system_info

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as fh:
        json.dump({"benchmark": benchmark, **fields, "system": system_info()}, fh, indent=2)
    print(f"\nwrote {path}")
