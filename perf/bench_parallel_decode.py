"""One request decoded on several cores: the pyav backend's GOP runs sequentially vs spread over
extra decoder contexts (``trtllm_mmfast.video._parallel``), and what concurrency does to it.

Clips: synthetic 1280x720, 30 s at 30 fps, x264 with its default B-pyramid: keyint 250 (x264's
default, which adds scene-cut keyframes: 7 GOPs here), a strict keyint 250 and GOP 30. The targets are the ones the
``qwen3_vl`` sampler picks at ``--fps`` (default 2: 60 frames). One request = open (index scan)
+ decode of those targets from in-memory bytes, one decoder thread per context:

- ``sequential``: ``parallel_runs=1`` (every run on the request's own thread);
- ``parallel``: the default (extra contexts while decode-thread slots are idle).

Part 1, one request at a time: warm-up, then ``--repeats`` timed runs, interleaved; median wall
and CPU time, and the speed-up. The frames of the two modes are compared (must be identical).
Part 2, throughput: ``c`` = 1 and 2 closed-loop clients, ``--requests`` each, for both modes;
requests/s, median latency, and the allowance's peak slots in use (never above the cores: with
two requests at once on two cores, each decodes on its own core and none spreads).

    python perf/bench_parallel_decode.py [--quick] [--repeats 5] [--out results/bench_parallel_decode.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import threading
import time
from typing import Any

import numpy as np

from trtllm_mmfast.synth import ClipSpec, cached_clip
from trtllm_mmfast.versions import library_versions, system_info
from trtllm_mmfast.video import _parallel, pyav_backend
from trtllm_mmfast.video._packet_index import plan_runs
from trtllm_mmfast.video.backend import HOST
from trtllm_mmfast.video.sampling import qwen3_vl_indices
from trtllm_mmfast.video.source import MediaSource

GOPS = {"gop250": 250, "gop30": 30, "x264-default": None}  # None: x264's defaults (keyint 250 + scenecut)
MODES = {"sequential": 1, "parallel": None}


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def request(data: bytes, indices: np.ndarray, parallel_runs: int | None) -> tuple[Any, Any, Any]:
    """One request: open + decode; (Decoded, stats, index)."""
    video = pyav_backend.BACKEND.open(MediaSource(data=data), decoder_threads=1, parallel_runs=parallel_runs)
    try:
        return video.decode(indices, HOST), video.stats, video.index
    finally:
        video.close()


def single(data: bytes, indices: np.ndarray, repeats: int) -> dict[str, Any]:
    """Part 1: one request at a time, modes interleaved."""
    out: dict[str, Any] = {}
    frames = {}
    for mode, p in MODES.items():  # warm-up
        decoded, stats, index = request(data, indices, p)
        frames[mode] = decoded
        out[mode] = {"wall_s": [], "cpu_s": [], "contexts": stats.contexts, "packets_sent": stats.packets_sent}
    out["runs"] = len(plan_runs(index, sorted(set(indices.tolist()))).runs)
    out["gops"] = index.num_gops
    for _ in range(repeats):
        for mode, p in MODES.items():
            t0, c0 = time.perf_counter(), _cpu_s()
            request(data, indices, p)
            out[mode]["wall_s"].append(time.perf_counter() - t0)
            out[mode]["cpu_s"].append(_cpu_s() - c0)
    for mode in MODES:
        out[mode]["median_wall_s"] = statistics.median(out[mode]["wall_s"])
        out[mode]["median_cpu_s"] = statistics.median(out[mode]["cpu_s"])
    a, b = frames["sequential"], frames["parallel"]
    out["identical"] = bool(
        np.array_equal(a.frames, b.frames) and a.indices.tolist() == b.indices.tolist() and a.damage == b.damage
    )
    out["speedup"] = out["sequential"]["median_wall_s"] / out["parallel"]["median_wall_s"]
    return out


def throughput(data: bytes, indices: np.ndarray, mode: str, clients: int, requests: int) -> dict[str, Any]:
    """Part 2: ``clients`` closed-loop clients, ``requests`` each."""
    slots = _parallel.allowance()
    slots.peak = slots.in_use
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client() -> None:
        start.wait()
        for _ in range(requests):
            t0 = time.perf_counter()
            request(data, indices, MODES[mode])
            with lock:
                latencies.append(time.perf_counter() - t0)

    workers = [threading.Thread(target=client) for _ in range(clients)]
    t0, c0 = time.perf_counter(), _cpu_s()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - t0
    return {
        "mode": mode, "clients": clients, "requests": len(latencies), "wall_s": wall, "cpu_s": _cpu_s() - c0,
        "req_per_s": len(latencies) / wall, "median_latency_s": statistics.median(latencies),
        "peak_slots": slots.peak, "allowance": slots.total,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="GOP 250 only, 3 repeats, 3 requests per client")
    ap.add_argument("--gops", nargs="+", choices=list(GOPS), default=None)
    ap.add_argument("--fps", type=float, default=2.0)
    ap.add_argument("--repeats", type=int, default=None, help="timed runs per mode (default 5; 3 with --quick)")
    ap.add_argument("--requests", type=int, default=None, help="requests per client (default 6; 3 with --quick)")
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--out", default="results/bench_parallel_decode.json")
    args = ap.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    per_client = args.requests or (3 if args.quick else 6)
    rows = []
    for gop in args.gops or (["gop250"] if args.quick else list(GOPS)):
        spec = ClipSpec(width=1280, height=720, num_frames=900, fps=30.0, gop=GOPS[gop])
        data = cached_clip(spec, args.cache_dir).read_bytes()
        indices = qwen3_vl_indices(spec.num_frames, spec.fps, fps=args.fps)
        row: dict[str, Any] = {"clip": "1280x720 30s", "gop": gop, "fps": args.fps, "frames": len(indices)}
        row["single"] = single(data, indices, repeats)
        row["throughput"] = [
            throughput(data, indices, mode, clients, per_client) for clients in (1, 2) for mode in MODES
        ]
        rows.append(row)
        print_row(row)
    result = {"bench": "parallel_decode", "machine": {**system_info(), "loadavg_start": os.getloadavg()},
              "versions": library_versions(), "repeats": repeats, "requests_per_client": per_client, "rows": rows}
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2, default=str)
    print(f"\nwrote {args.out}")


def print_row(row: dict[str, Any]) -> None:
    s = row["single"]
    print(f"\n{row['clip']} {row['gop']} ({s['gops']} GOPs, {s['runs']} runs), fps {row['fps']:g}, {row['frames']} frames")
    print("| mode | contexts | median wall s | median cpu s | speed-up | identical |")
    print("|---|---:|---:|---:|---:|---|")
    for mode in MODES:
        m = s[mode]
        up = f"{s['speedup']:.2f}x" if mode == "parallel" else "1.00x"
        print(f"| {mode} | {m['contexts']} | {m['median_wall_s']:.3f} | {m['median_cpu_s']:.3f} | {up} | {s['identical']} |")
    print("| clients | mode | req/s | median latency s | cpu s / req | peak slots / allowance |")
    print("|---:|---|---:|---:|---:|---|")
    for t in row["throughput"]:
        print(f"| {t['clients']} | {t['mode']} | {t['req_per_s']:.2f} | {t['median_latency_s']:.3f} "
              f"| {t['cpu_s'] / t['requests']:.3f} | {t['peak_slots']} / {t['allowance']} |")


if __name__ == "__main__":
    main()
