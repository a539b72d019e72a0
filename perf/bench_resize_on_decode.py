"""Frames resized as they are decoded (``load_video(..., resize_for=processor)``) vs today's full frames.

One request per case, each in a fresh subprocess: ``load_video(clip, fps=2)`` then the fast Qwen3-VL
processor (the tiny offline one: same video pipeline as a real checkpoint, defaults). ``full``
decodes every sampled frame at the source size and lets the processor resize; ``resize`` resizes
each frame as it is decoded (per-thread full-size scratch, small output array) and the processor
skips its resize. Peak RSS growth = VmHWM after the request - VmRSS before it (the high-water mark
reset first, as perf/bench_processor.py does), so imports and the processor's construction are
not counted. ``same``: the model inputs (input_ids, pixel_values_videos, video_grid_thw) of both
modes are byte-identical. Clips are synthesised once (libx264, preset ultrafast, GOP 2 s) and cached
(``synth.cached_clip``).

    python perf/bench_resize_on_decode.py [--clips 720p-30s 1080p-60s] [--out results/bench_resize_on_decode.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

PROMPT = "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>Describe.<|im_end|>\n"
CLIPS = {"720p-30s": (1280, 720, 30), "1080p-60s": (1920, 1080, 60), "1080p-20s": (1920, 1080, 20)}
MODES = ("full", "resize")
FPS = 2


def _spec(name: str):
    from trtllm_mmfast.synth import ClipSpec

    w, h, seconds = CLIPS[name]
    return ClipSpec(width=w, height=h, num_frames=30 * seconds, fps=30, gop=60, bframes=2, options=(("preset", "ultrafast"),))


def run_case(mode: str, clip: str) -> dict:
    """One (mode, clip) request, in this process."""
    import torch

    from trtllm_mmfast import load_video
    from trtllm_mmfast.bench._common import PeakRss, inputs_digest
    from trtllm_mmfast.processors.qwen3_vl import sampler_for, wrap
    from trtllm_mmfast.processors.tiny import tiny_processor
    from trtllm_mmfast.synth import cached_clip

    path = str(cached_clip(_spec(clip)))
    fast = wrap(tiny_processor())
    fast.hf.video_processor.cap_pixels_per_frame = False  # silences the v5.22 warning; today's default
    import av  # noqa: F401  (imported before the baseline: not part of the request)

    with PeakRss() as rss:
        t0 = time.perf_counter()
        video = load_video(path, fps=FPS, sampler=sampler_for(fast), resize_for=fast if mode == "resize" else None)
        t1 = time.perf_counter()
        out = fast(text=[PROMPT], videos=video)
        t2 = time.perf_counter()
    return {
        "mode": mode, "clip": clip, "frames": len(video), "frames_shape": list(video.frames.shape),
        "frames_mib": round(video.frames.nbytes / 2**20, 1), "load_s": t1 - t0, "process_s": t2 - t1,
        "total_s": t2 - t0, "peak_rss_growth_mib": rss.mib, "grid_thw": out["video_grid_thw"].tolist(),
        "inputs_digest": inputs_digest(out), "torch_threads": torch.get_num_threads(),
    }  # fmt: skip


def print_table(rows: list[dict]) -> None:
    print("| clip | mode | frames array | MiB | load s | process s | total s | peak RSS growth MiB | same |")
    print("|---|---|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        other = {x["mode"]: x for x in rows if x["clip"] == r["clip"]}
        same = "yes" if len({x["inputs_digest"] for x in other.values()}) == 1 else "no"
        print(f"| {r['clip']} | {r['mode']} | {tuple(r['frames_shape'])} | {r['frames_mib']} | {r['load_s']:.2f} "
              f"| {r['process_s']:.2f} | {r['total_s']:.2f} | {r['peak_rss_growth_mib']} | {same} |")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", nargs="+", choices=sorted(CLIPS), default=["720p-30s", "1080p-60s"])
    ap.add_argument("--out", default="results/bench_resize_on_decode.json")
    ap.add_argument("--case", nargs=2, metavar=("MODE", "CLIP"), help=argparse.SUPPRESS)  # child process
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case[0], args.case[1])))
        return
    from trtllm_mmfast.synth import cached_clip
    from trtllm_mmfast.bench._common import write_result

    rows = []
    for clip in args.clips:
        cached_clip(_spec(clip))  # encode once, outside the measured children
        for mode in MODES:
            res = subprocess.run([sys.executable, __file__, "--case", mode, clip], capture_output=True, text=True, check=True)
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    print(f"\nOne request at fps={FPS}: load_video + fast Qwen3-VL processor, each case in a fresh process\n")
    print_table(rows)
    write_result(args.out, "resize_on_decode", {"fps": FPS, "rows": rows})


if __name__ == "__main__":
    main()
