"""Qwen3-VL processor cost: TensorRT-LLM 1.2.x (stock), TensorRT-LLM main (trtllm-main), ours (fast).

Every path turns the same 60 decoded frames into model inputs of 60 frames:
- stock: 60 float32 CHW tensors (what TensorRT-LLM 1.2.x's loader gives), the HF processor
  re-samples them (``num_frames=60``), ``do_rescale=False``, unmemoized ``_merge_kwargs``;
- trtllm-main: main's ``_preprocess`` (``bench/trtllm_main.py``) on what main's loader gives,
  one uint8 (N,H,W,3) array (format "np") and its metadata, for a request with
  ``mm_processor_kwargs={"num_frames": 60}`` (so ``_decide_do_sample_frames`` is False:
  60 loaded == 60 asked), ``do_rescale=True``, ``video_metadata`` with
  ``total_num_frames`` = 60, unmemoized ``_merge_kwargs``;
- fast: the 60 frames as one uint8 (N,H,W,3) array handed over as a channels-last view,
  ``do_sample_frames=False`` with metadata, memoized ``_merge_kwargs``.
Median per-call time and peak extra RSS during the calls (each case in its own process);
``same as fast``: whether the mode's model inputs (input_ids, pixel_values_videos,
video_grid_thw) are byte-identical to fast's.

    python perf/bench_processor.py [--repeats 5] [--modes stock trtllm-main fast] [--out results/bench_processor.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PROMPT = "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>Describe.<|im_end|>\n"
SIZES = {"374x374": (374, 374), "720p": (1280, 720)}
N_FRAMES = 60
MODES = ("stock", "trtllm-main", "fast")


def run_case(mode: str, size: str, repeats: int) -> dict:
    """One (mode, size) case, in this process."""
    import numpy as np
    import torch

    from trtllm_mmfast.bench._common import PeakRss, inputs_digest
    from trtllm_mmfast.processors.qwen3_vl import wrap
    from trtllm_mmfast.processors.tiny import tiny_processor
    from trtllm_mmfast.synth import synth_frame
    from trtllm_mmfast.types import VideoFrames, VideoMetadata

    w, h = SIZES[size]
    frames = np.stack([synth_frame(w, h, i) for i in range(N_FRAMES)])
    meta = VideoMetadata(N_FRAMES * 5, 30.0, N_FRAMES * 5 / 30.0, w, h, tuple(range(0, N_FRAMES * 5, 5)), "opencv")
    processor = tiny_processor()
    if mode == "trtllm-main":
        from trtllm_mmfast.bench import trtllm_main

        loaded = trtllm_main.MainVideo(np.ascontiguousarray(frames), {
            "total_num_frames": meta.total_num_frames, "fps": meta.fps, "duration": meta.duration,
            "frames_indices": list(meta.frames_indices)})

        def call():
            return trtllm_main.preprocess(processor, PROMPT, [loaded], {"num_frames": N_FRAMES})
    elif mode == "stock":
        float_frames = [torch.from_numpy(f).permute(2, 0, 1).float().div(255) for f in frames]

        def call():
            return processor(text=[PROMPT], videos=[float_frames], padding=True, do_rescale=False,
                             num_frames=N_FRAMES, fps=None, return_tensors="pt")
    else:
        fast = wrap(processor)
        video = VideoFrames(frames, meta)

        def call():
            return fast(text=[PROMPT], videos=video, padding=True)

    out = call()  # warm-up
    times = []
    with PeakRss() as rss:
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = call()
            times.append(time.perf_counter() - t0)
    return {
        "mode": mode,
        "size": size,
        "median_s": statistics.median(times),
        "times_s": times,
        "peak_extra_rss_mib": rss.mib,
        "grid_thw": out["video_grid_thw"].tolist(),
        "tokens": int(out["input_ids"].shape[-1]),
        "inputs_digest": inputs_digest(out),
        "torch_threads": torch.get_num_threads(),
    }


def print_table(rows: list[dict], modes: list[str]) -> None:
    """One row per (size, mode): ms, ratio to each baseline run, peak MiB, grid, tokens, same inputs as fast."""
    print("| size | mode | ms | vs stock | vs trtllm-main | peak MiB | grid | tokens | same as fast |")
    print("|---|---|---:|---:|---:|---:|---|---:|---|")
    for size in SIZES:
        by = {r["mode"]: r for r in rows if r["size"] == size}
        for m in modes:
            r = by[m]

            def vs(base: str) -> str:
                return f"{r['median_s'] / by[base]['median_s']:.2f}" if base in by else "-"

            same = "-" if "fast" not in by else ("yes" if r["inputs_digest"] == by["fast"]["inputs_digest"] else "no")
            print(f"| {size} | {m} | {r['median_s'] * 1e3:.1f} | {vs('stock')} | {vs('trtllm-main')} "
                  f"| {r['peak_extra_rss_mib']} | {r['grid_thw']} | {r['tokens']} | {same} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    ap.add_argument("--out", default="results/bench_processor.json")
    ap.add_argument("--case", nargs=2, metavar=("MODE", "SIZE"), help=argparse.SUPPRESS)  # child process
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case[0], args.case[1], args.repeats)))
        return
    from trtllm_mmfast.versions import system_info

    modes = args.modes
    rows = []
    for size in SIZES:
        for mode in modes:
            res = subprocess.run(
                [sys.executable, __file__, "--case", mode, size, "--repeats", str(args.repeats)],
                capture_output=True, text=True, check=True,
            )
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    print(f"\nQwen3-VL processor, {N_FRAMES} frames in -> model inputs (median of {args.repeats})\n")
    print_table(rows, modes)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump({"benchmark": "processor", "frames": N_FRAMES, "rows": rows, "system": system_info()}, fh, indent=2)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
