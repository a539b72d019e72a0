"""Issue 16's one-request targets on realistic footage: a 1080p 60 s camera clip at fps=2.

The clip is ``trtllm_mmfast.footage.footage_clip`` (a pan and zoom over a real photo, x264
defaults, 6 s segments looped: 10 GOPs). One request = ``load_video`` of its bytes (read
before the measurement starts, as a server holds the request body) + the fast Qwen3-VL
processor (the tiny offline one; same video pipeline as a real checkpoint). Each case runs
in a fresh process (``--repeats`` times; latency is the median, peak RSS growth the max):

- ``single``: the path before issue 16: every GOP run on the request's own thread
  (``TRTLLM_MMFAST_PARALLEL_RUNS=1``), full-resolution frames, the processor resizes;
- ``parallel``: GOP runs spread over idle decoder slots (the default), full frames;
- ``parallel+resize``: the default plus frames resized as decoded (``resize_for=``);
- ``trtllm-main``: TensorRT-LLM main's own path on the same bytes (``bench.trtllm_main``),
  for reference (its own frames: ``linspace`` loader + HF re-sampling).

Each child first serves one tiny request of its case (warm, as a server is: code pages, thread
pools and allocator arenas are not this request's memory). Peak RSS growth = VmHWM after the
request - VmRSS before it (``bench._common.PeakRss``).
``same``: the model inputs of the three ``ours`` cases are byte-identical.

    python perf/bench_request_1080p.py [--repeats 3] [--no-main] [--out results/bench_request_1080p.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

PROMPT = "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>Describe.<|im_end|>\n"
FPS = 2
CASES = ("single", "parallel", "parallel+resize", "trtllm-main")


def run_case(case: str, path: str) -> dict:
    """One request of ``case`` on ``path``, in this process."""
    import resource

    import av  # noqa: F401  (imported before the baseline: not part of the request)
    import torch

    from trtllm_mmfast.bench._common import PeakRss, inputs_digest
    from trtllm_mmfast.processors.qwen3_vl import wrap
    from trtllm_mmfast.processors.tiny import tiny_processor

    data = open(path, "rb").read()
    fast = wrap(tiny_processor(), memo=case != "trtllm-main")
    fast.hf.video_processor.cap_pixels_per_frame = False  # silences the v5.22 warning; today's default
    _warm_up(case, fast)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    with PeakRss() as rss:
        t0 = time.perf_counter()
        video = _load(case, fast, data)
        t1 = time.perf_counter()
        out = _process(case, fast, video)
        t2 = time.perf_counter()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    return {"case": case, "load_s": t1 - t0, "process_s": t2 - t1, "total_s": t2 - t0, "cpu_s": cpu,
            "peak_rss_growth_mib": rss.mib, "grid_thw": out["video_grid_thw"].tolist(),
            "inputs_digest": inputs_digest(out), "torch_threads": torch.get_num_threads()}  # fmt: skip


def _load(case: str, fast: Any, data: bytes) -> Any:
    """The request's load stage in ``case``: main's loader, or ours (resized as decoded for ``+resize``)."""
    from trtllm_mmfast import load_video
    from trtllm_mmfast.bench import trtllm_main
    from trtllm_mmfast.processors.qwen3_vl import sampler_for

    if case == "trtllm-main":
        return trtllm_main.load_bytes(data, **trtllm_main.request_media_io_kwargs(fps=FPS))
    return load_video(data, fps=FPS, sampler=sampler_for(fast), resize_for=fast if case.endswith("resize") else None)


def _process(case: str, fast: Any, video: Any) -> Any:
    """The request's processor stage in ``case``: main's call on the HF processor, or the fast one."""
    from trtllm_mmfast.bench import trtllm_main

    if case == "trtllm-main":
        return trtllm_main.preprocess(fast.hf, PROMPT, [video], {})
    return fast(text=[PROMPT], videos=video)


def _warm_up(case: str, fast: Any) -> None:
    """One tiny request of the same case first: the process is warm as a server's is (code pages,
    thread pools and allocator arenas are not the request's memory)."""
    from trtllm_mmfast.synth import ClipSpec, encode_clip

    _process(case, fast, _load(case, fast, encode_clip(ClipSpec(width=320, height=180, num_frames=60))))


def _child(case: str, path: str) -> dict:
    env = dict(os.environ)
    if case == "single":
        env["TRTLLM_MMFAST_PARALLEL_RUNS"] = "1"
    res = subprocess.run([sys.executable, __file__, "--case", case, path], capture_output=True, text=True, env=env)
    if res.returncode:
        raise RuntimeError(f"case {case} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def summarize(runs: dict[str, list[dict]]) -> list[dict]:
    ours = {r[0]["inputs_digest"] for c, r in runs.items() if c != "trtllm-main"}
    base = statistics.median(r["total_s"] for r in runs["single"])
    rows = []
    for case, rs in runs.items():
        total = statistics.median(r["total_s"] for r in rs)
        rows.append({"case": case, "load_s": statistics.median(r["load_s"] for r in rs),
                     "process_s": statistics.median(r["process_s"] for r in rs), "total_s": total,
                     "cpu_s": statistics.median(r["cpu_s"] for r in rs), "vs_single": total / base,
                     "peak_rss_growth_mib": max(r["peak_rss_growth_mib"] for r in rs), "grid_thw": rs[0]["grid_thw"],
                     "same": (len(ours) == 1) if case != "trtllm-main" else None})  # fmt: skip
    return rows


def print_table(rows: list[dict]) -> None:
    print("| case | load s | process s | total s | CPU s | vs single | peak RSS growth MiB | grid (t,h,w) | same inputs |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        same = {True: "yes", False: "NO", None: "(own frames)"}[r["same"]]
        print(f"| {r['case']} | {r['load_s']:.2f} | {r['process_s']:.2f} | {r['total_s']:.2f} | {r['cpu_s']:.2f} "
              f"| {r['vs_single']:.2f}x | {r['peak_rss_growth_mib']} | {tuple(r['grid_thw'][0])} | {same} |")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="fresh processes per case (default 3)")
    ap.add_argument("--seconds", type=int, default=60, help="clip length (a multiple of 6; default 60)")
    ap.add_argument("--no-main", action="store_true", help="skip the trtllm-main reference case (slow)")
    ap.add_argument("--out", default="results/bench_request_1080p.json")
    ap.add_argument("--case", nargs=2, metavar=("CASE", "PATH"), help=argparse.SUPPRESS)  # child process
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(*args.case)))
        return
    from trtllm_mmfast.footage import footage_clip
    from trtllm_mmfast.bench._common import write_result

    path = str(footage_clip(1920, 1080, args.seconds))  # encoded once (about 30 s), then cached
    cases = [c for c in CASES if not (args.no_main and c == "trtllm-main")]
    runs: dict[str, list[dict]] = {c: [] for c in cases}
    for _ in range(args.repeats):  # interleaved: drift hits every case alike
        for c in cases:
            runs[c].append(_child(c, path))
    rows = summarize(runs)
    print(f"\nOne request, 1920x1080 {args.seconds} s footage at fps={FPS}, {os.cpu_count()} cores, "
          f"{args.repeats} fresh processes per case (median latency, max RSS growth)\n")
    print_table(rows)
    write_result(args.out, "request_1080p", {"fps": FPS, "rows": rows, "runs": runs})


if __name__ == "__main__":
    main()
