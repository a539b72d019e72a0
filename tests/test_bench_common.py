"""bench/_common.py: the closed loop, the loop-lag ticker and the row summary every benchmark shares."""

from __future__ import annotations

import asyncio
import time

import pytest

from conftest import python_stdout
from trtllm_mmfast.bench._common import LoadRun, LoopLagTicker, Point, closed_loop, summarize


def test_closed_loop_keeps_exactly_concurrency_requests_in_flight():
    in_flight = {"now": 0, "max": 0}

    async def one(rid: int) -> dict:
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        await asyncio.sleep(0)  # yield, so the other workers start theirs
        in_flight["now"] -= 1
        return {"request": rid, "ok": True}

    run = asyncio.run(closed_loop(3, 10, 60.0, one))
    assert sorted(s["request"] for s in run.samples) == list(range(10))  # each id once
    assert in_flight["max"] == 3 and run.wall_s > 0 and run.loop_lags == []
    assert asyncio.run(closed_loop(4, 2, 60.0, one)).samples and in_flight["max"] == 3  # never more workers than requests busy
    assert asyncio.run(closed_loop(2, 10, 0.0, one)).samples == []  # past its time budget: nothing sent


def test_ticker_sees_a_loop_blocked_by_work():
    async def go() -> list[float]:
        async with LoopLagTicker(0.005) as ticker:
            await asyncio.sleep(0.02)  # the ticker is now asleep on the loop
            time.sleep(0.1)  # CPU work on the loop: nothing else can run meanwhile
            await asyncio.sleep(0)
        return ticker.lags

    lags = asyncio.run(go())
    # the tick asleep when the loop blocked woke at least 0.1 - 0.005 s late (a lower bound:
    # the loop cannot wake it before the blocking call returns)
    assert max(lags) >= 0.095 and all(lag >= 0 for lag in lags)
    with pytest.raises(ValueError, match="period must be > 0"):
        LoopLagTicker(0)


def test_summarize_one_point():
    samples = [{"ok": True, "e2e_s": v, "frames_out": 4, "stages": {"decode": v / 2}} for v in (1.0, 2.0, 3.0)]
    samples.append({"ok": False, "error": "ValueError: bad", "e2e_s": 9.0})
    run = LoadRun(samples[:2], 1.0, [0.001])
    run += LoadRun(samples[2:], 1.0, [0.003])  # a point over two videos: samples, wall and lags add up
    row = summarize(Point("fast", 2.0, 4), run)
    assert row["mode"] == "fast" and (row["requests"], row["errors"]) == (4, 1)
    assert row["req_per_s"] == 1.5  # 3 ok requests in 2 s
    assert row["p50_e2e_s"] == 2.0 and row["p99_e2e_s"] == pytest.approx(2.98)  # failed requests left out
    assert row["p50_stage_decode_s"] == 1.0 and row["frames_out"] == 4
    assert row["loop_lag_p99_ms"] == pytest.approx(2.98)
    assert summarize(Point("fast", 2.0, 1), LoadRun([], 0.0))["loop_lag_p99_ms"] is None


def test_targets_share_common_without_importing_each_other():
    code = ("import sys, trtllm_mmfast.bench.http_target; "
            "print('trtllm_mmfast.bench.sweep' in sys.modules, 'trtllm_mmfast.bench._common' in sys.modules)")
    out = python_stdout(code)
    assert out.split() == ["False", "True"]
