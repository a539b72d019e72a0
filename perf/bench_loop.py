"""Event-loop lag and throughput of 64 concurrent load+process requests, side by side:

- ``asyncio_default``: plain asyncio, ``load_video`` and the processor both in the loop's
  default executor (``min(32, cores + 4)`` threads, shared);
- ``uvloop_pools``: uvloop, ``load_video_async`` in the media-load pool and ``process_async``
  in the input-processing pool (8 + 8 threads), frame budget and stage timings on;
- optional (``--modes``): ``asyncio_pools`` and ``uvloop_default`` (to split the loop's
  share from the pools'), ``asyncio_on_loop`` (decode and process on the loop itself, as
  TensorRT-LLM 1.2.x does).

The processor is the HF ``Qwen3VLVideoProcessor`` with defaults when transformers/torch
import (frames handed over as a zero-copy channels-last tensor view), else CPU-bound numpy
work. A ticker on the loop measures lag (actual minus requested sleep). Modes alternate
round by round after a warm-up; medians over rounds, percentiles over all samples.

    python perf/bench_loop.py [--quick] [--modes asyncio_default,uvloop_pools,asyncio_on_loop]
                              [--out results/bench_loop.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from trtllm_mmfast.bench._common import LoopLagTicker, closed_loop
from trtllm_mmfast.runtime import loop as rloop
from trtllm_mmfast.runtime import pipeline
from trtllm_mmfast.runtime.executors import resolve_workers, shutdown
from trtllm_mmfast.runtime.stats import Stats
from trtllm_mmfast.synth import ClipSpec, encode_clip
from trtllm_mmfast.versions import library_versions, system_info
from trtllm_mmfast.video.api import load_video

TICK_S = 0.002
# mode -> (event loop, where load + process run)
MODES = {
    "asyncio_default": ("asyncio", "default"),
    "uvloop_pools": ("uvloop", "pools"),
    "asyncio_pools": ("asyncio", "pools"),
    "uvloop_default": ("uvloop", "default"),
    "asyncio_on_loop": ("asyncio", "on_loop"),
}


def make_processor(kind: str) -> tuple[str, Callable[..., Any]]:
    """(name, fn(video=VideoFrames) -> output): the CPU-bound input-processing step."""
    if kind in ("auto", "hf"):
        try:
            import torch
            from transformers import Qwen3VLVideoProcessor

            proc = Qwen3VLVideoProcessor()

            def hf(*, video: Any) -> Any:
                frames = torch.from_numpy(video.frames).permute(0, 3, 1, 2)  # zero-copy NHWC view
                return proc(videos=[frames], video_metadata=[video.metadata.to_hf()],
                            do_sample_frames=False, return_tensors="pt")

            return "hf_qwen3_vl_video_processor", hf
        except ImportError:
            if kind == "hf":
                raise

    def numpy_work(*, video: Any) -> Any:
        x = video.frames.astype(np.float32) / 255.0
        x = (x - 0.5) / 0.5
        return x.reshape(len(x), -1).mean(axis=1)

    return "numpy_normalize", numpy_work


async def one_round(mode: str, data: bytes, n: int, fps: float, backend: str, process: Callable[..., Any],
                    stats: Stats) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    where = MODES[mode][1]

    async def request(rid: int) -> dict[str, Any]:
        t0 = time.perf_counter()
        if where == "pools":
            video = await pipeline.load_video_async(data, fps=fps, backend=backend, stats=stats)
            with pipeline.holding(video):
                await pipeline.process_async(process, video=video, stats=stats)
        elif where == "default":
            video = await loop.run_in_executor(None, lambda: load_video(data, fps=fps, backend=backend))
            await loop.run_in_executor(None, lambda: process(video=video))
        else:  # on the loop, as TensorRT-LLM 1.2.x
            video = load_video(data, fps=fps, backend=backend)
            process(video=video)
            await asyncio.sleep(0)
        return {"e2e_s": time.perf_counter() - t0}

    async with LoopLagTicker(TICK_S) as ticker:
        await asyncio.sleep(0.02)  # let the ticker settle before the burst
        # n workers, one request each: all n requests in flight at once
        run = await closed_loop(n, n, math.inf, request)
    latencies = [s["e2e_s"] for s in run.samples]
    return {"wall_s": run.wall_s, "lags": ticker.lags, "latencies": latencies, "uvloop": rloop.is_uvloop()}


def run_mode(mode: str, **kw: Any) -> dict[str, Any]:
    coro = one_round(mode, **kw)
    return rloop.run(coro) if MODES[mode][0] == "uvloop" else asyncio.run(coro)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summarize(rounds: list[dict[str, Any]], n: int) -> dict[str, Any]:
    lags = [x for r in rounds for x in r["lags"]]
    lat = [x for r in rounds for x in r["latencies"]]
    rps = [n / r["wall_s"] for r in rounds]
    return {
        "uvloop": rounds[0]["uvloop"],
        "rounds": len(rounds),
        "req_per_s_median": statistics.median(rps),
        "req_per_s_rounds": rps,
        "loop_lag_ms": {"p50": 1e3 * pct(lags, 50), "p99": 1e3 * pct(lags, 99), "max": 1e3 * max(lags, default=0.0),
                        "samples": len(lags)},
        "latency_ms": {"p50": 1e3 * pct(lat, 50), "p99": 1e3 * pct(lat, 99)},
    }


def parse_modes(ap: argparse.ArgumentParser, arg: str) -> list[str]:
    """The modes asked for, after the two always run (the ratios compare them)."""
    modes = ["asyncio_default", "uvloop_pools"]
    for m in arg.split(","):
        if m not in MODES:
            ap.error(f"unknown mode {m!r}; valid: {', '.join(MODES)}")
        if m not in modes:
            modes.append(m)
    return modes


def run_rounds(modes: list[str], rounds: int, stats: Stats, kw: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One warm-up round, then ``rounds`` measured ones; modes alternate within each round."""
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    for r in range(1 + rounds):  # round 0 is the warm-up
        for mode in modes:
            out = run_mode(mode, **kw)
            if r == 0:
                stats.reset()
            else:
                results[mode].append(out)
            print(f"round {r}{' (warm-up)' if r == 0 else ''} {mode:16s} {out['wall_s']:.2f} s", file=sys.stderr)
    shutdown()
    return results


def print_table(summary: dict[str, dict[str, Any]], ratios: dict[str, float]) -> None:
    cols = ["req/s", "lag p50 ms", "lag p99 ms", "lag max ms", "lat p50 ms", "lat p99 ms"]
    header = f"{'mode':18s} {cols[0]:>8s}" + "".join(f" {c:>11s}" for c in cols[1:])
    print(header)
    print("-" * len(header))
    for m, s in summary.items():
        lag, lat = s["loop_lag_ms"], s["latency_ms"]
        print(f"{m:18s} {s['req_per_s_median']:8.1f} {lag['p50']:11.2f} {lag['p99']:11.2f} {lag['max']:11.2f} "
              f"{lat['p50']:11.1f} {lat['p99']:11.1f}")
    for k, v in ratios.items():
        print(f"{k}: {v:.2f}x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small clip, 1 warm-up + 2 rounds")
    ap.add_argument("--requests", type=int, default=64, help="concurrent requests per round")
    ap.add_argument("--rounds", type=int, default=None, help="measured rounds per mode (default 5; quick 2)")
    ap.add_argument("--fps", type=float, default=2.0, help="sampling fps")
    ap.add_argument("--backend", default="auto", help="video backend")
    ap.add_argument("--processor", choices=["auto", "hf", "numpy"], default="auto")
    ap.add_argument("--modes", default="asyncio_default,uvloop_pools",
                    help=f"comma-separated, from {', '.join(MODES)} (the first two are always run)")
    ap.add_argument("--out", default="results/bench_loop.json")
    args = ap.parse_args(argv)

    spec = (ClipSpec(width=320, height=180, num_frames=120, fps=30, gop=30, bframes=2) if args.quick
            else ClipSpec(width=640, height=360, num_frames=300, fps=30, gop=30, bframes=2))
    rounds = args.rounds or (2 if args.quick else 5)
    data = encode_clip(spec)
    proc_name, process = make_processor(args.processor)
    modes = parse_modes(ap, args.modes)
    stats = Stats()
    kw = dict(data=data, n=args.requests, fps=args.fps, backend=args.backend, process=process, stats=stats)

    process(video=load_video(data, fps=args.fps, backend=args.backend))  # warm imports off the clock
    results = run_rounds(modes, rounds, stats, kw)
    summary = {m: summarize(results[m], args.requests) for m in modes}
    base, fast = summary["asyncio_default"], summary["uvloop_pools"]
    ratios = {
        "req_per_s uvloop_pools / asyncio_default": fast["req_per_s_median"] / base["req_per_s_median"],
        "loop_lag_p99 asyncio_default / uvloop_pools":
            base["loop_lag_ms"]["p99"] / max(fast["loop_lag_ms"]["p99"], 1e-9),
    }

    print(f"\n{args.requests} concurrent requests, clip {spec.width}x{spec.height} {spec.num_frames} frames "
          f"@ {spec.fps:g} fps, sample fps={args.fps:g}, backend={args.backend}, processor={proc_name}, "
          f"{rounds} rounds, {os.cpu_count()} CPUs")
    print_table(summary, ratios)

    report = {
        "benchmark": "bench_loop",
        "config": {"modes": {m: list(MODES[m]) for m in modes}, "requests": args.requests, "rounds": rounds,
                   "warmup_rounds": 1, "quick": args.quick,
                   "workers": {"media_load": resolve_workers("media_load"),
                               "input_processing": resolve_workers("input_processing"),
                               "default_executor": min(32, (os.cpu_count() or 1) + 4)},
                   "clip": {"width": spec.width, "height": spec.height, "num_frames": spec.num_frames, "fps": spec.fps,
                            "gop": spec.gop, "bytes": len(data)},
                   "sample_fps": args.fps, "backend": args.backend, "processor": proc_name, "tick_s": TICK_S},
        "machine": system_info(),
        "versions": library_versions(),
        "results": summary,
        "ratios": ratios,
        "uvloop_pools_stage_stats": stats.summary(),
    }
    if "torch" in sys.modules:
        report["config"]["torch_threads"] = sys.modules["torch"].get_num_threads()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
