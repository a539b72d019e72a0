"""Qwen3-VL processor cost, the same decoded frames -> model inputs, every mode side by side:

- hf: plain transformers, the frames as one uint8 (N,H,W,3) numpy array with their metadata,
  ``do_sample_frames=False`` (what a careful caller of the stock processor does);
- stock: TensorRT-LLM 1.2.x: N float32 CHW tensors, the HF processor re-samples them
  (``num_frames=N``), ``do_rescale=False``, unmemoized ``_merge_kwargs``;
- trtllm-main: main's ``_preprocess`` (``bench/trtllm_main.py``) on what main's loader gives,
  one uint8 (N,H,W,3) array (format "np") and its metadata, ``mm_processor_kwargs={"num_frames": N}``;
- fast-unfused: our wrapper before the fused video tail (``wrap(hf, fused=False)``): channels-last
  uint8 view, ``do_sample_frames=False`` with metadata, memoized ``_merge_kwargs``;
- fast: our wrapper as shipped (``wrap(hf)``): the same, with the video processor's rescale,
  normalize, patchify and concatenation fused (``processors/_fused_video.py``).

Cases: 374x374 x 4 frames, 374x374 x 20, 1280x720 x 20. Each case runs in its own process; in
it every mode has its own processor, is warmed up, then the modes are called round-robin
(rotating the order every round) so that all of them see the same machine, and the table gives
median per-call ms and ratios measured in that one process. Torch intra-op threads: 1 by
default, as in the server's input-processing threads (``--torch-threads``). ``same as fast``:
whether the mode's model inputs (every output tensor) are byte-identical to fast's.

    python perf/bench_processor.py [--repeats 15] [--modes hf fast-unfused fast ...] [--out results/bench_processor.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

PROMPT = "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>Describe.<|im_end|>\n"
SIZES = {"374x374": (374, 374), "720p": (1280, 720)}
CASES = (("374x374", 4), ("374x374", 20), ("720p", 20))
MODES = ("hf", "stock", "trtllm-main", "fast-unfused", "fast")
BASELINES = ("hf", "fast-unfused", "stock")  # ratio columns, when run


def _callable(mode: str, frames, meta):
    """A no-argument call of ``mode`` on its own fresh processor."""
    import numpy as np
    import torch

    from trtllm_mmfast.processors.qwen3_vl import wrap
    from trtllm_mmfast.processors.tiny import tiny_processor
    from trtllm_mmfast.types import VideoFrames

    n = len(frames)
    processor = tiny_processor()
    if mode == "hf":
        hf_meta = meta.to_hf()
        return lambda: processor(text=[PROMPT], videos=[frames], video_metadata=[hf_meta], do_sample_frames=False,
                                 padding=True, return_tensors="pt")  # fmt: skip
    if mode == "trtllm-main":
        from trtllm_mmfast.bench import trtllm_main

        loaded = trtllm_main.MainVideo(np.ascontiguousarray(frames), {
            "total_num_frames": meta.total_num_frames, "fps": meta.fps, "duration": meta.duration,
            "frames_indices": list(meta.frames_indices)})  # fmt: skip
        return lambda: trtllm_main.preprocess(processor, PROMPT, [loaded], {"num_frames": n})
    if mode == "stock":
        float_frames = [torch.from_numpy(f).permute(2, 0, 1).float().div(255) for f in frames]
        return lambda: processor(text=[PROMPT], videos=[float_frames], padding=True, do_rescale=False,
                                 num_frames=n, fps=None, return_tensors="pt")  # fmt: skip
    fast = wrap(processor, fused=mode == "fast")
    video = VideoFrames(frames, meta)
    return lambda: fast(text=[PROMPT], videos=video, padding=True)


def run_case(size: str, n: int, modes: list[str], repeats: int, threads: int) -> list[dict]:
    """One case, every mode, in this process (round-robin)."""
    import numpy as np
    import torch

    from trtllm_mmfast.bench._common import inputs_digest
    from trtllm_mmfast.synth import synth_frame
    from trtllm_mmfast.types import VideoMetadata

    torch.set_num_threads(threads)
    w, h = SIZES[size]
    frames = np.stack([synth_frame(w, h, i) for i in range(n)])
    meta = VideoMetadata(n * 5, 30.0, n * 5 / 30.0, w, h, tuple(range(0, n * 5, 5)), "opencv")
    calls = {m: _callable(m, frames, meta) for m in modes}
    outs = {m: calls[m]() for m in modes}  # warm-up (and the outputs compared)
    for m in modes:
        calls[m]()
    times: dict[str, list[float]] = {m: [] for m in modes}
    for r in range(repeats):
        for m in modes[r % len(modes):] + modes[: r % len(modes)]:
            t0 = time.perf_counter()
            calls[m]()
            times[m].append(time.perf_counter() - t0)
    return [
        {
            "case": f"{size} x {n}",
            "mode": m,
            "median_s": statistics.median(times[m]),
            "times_s": times[m],
            "grid_thw": outs[m]["video_grid_thw"].tolist(),
            "tokens": int(outs[m]["input_ids"].shape[-1]),
            "inputs_digest": inputs_digest(outs[m]),
            "torch_threads": torch.get_num_threads(),
        }
        for m in modes
    ]


def print_table(rows: list[dict], modes: list[str]) -> None:
    """One row per (case, mode): ms, ratio to each baseline run, grid, tokens, same inputs as fast."""
    bases = [b for b in BASELINES if b in modes]
    print("| case | mode | ms | " + " | ".join(f"vs {b}" for b in bases) + " | grid | tokens | same as fast |")
    print("|---|---|---:|" + "---:|" * len(bases) + "---|---:|---|")
    for case in dict.fromkeys(r["case"] for r in rows):
        by = {r["mode"]: r for r in rows if r["case"] == case}
        for m in modes:
            r = by[m]
            ratios = " | ".join(f"{r['median_s'] / by[b]['median_s']:.2f}" for b in bases)
            same = "-" if "fast" not in by else ("yes" if r["inputs_digest"] == by["fast"]["inputs_digest"] else "no")
            print(f"| {case} | {m} | {r['median_s'] * 1e3:.1f} | {ratios} | {r['grid_thw']} | {r['tokens']} | {same} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    ap.add_argument("--torch-threads", type=int, default=1)
    ap.add_argument("--out", default="results/bench_processor.json")
    ap.add_argument("--case", nargs=2, metavar=("SIZE", "FRAMES"), help=argparse.SUPPRESS)  # child process
    args = ap.parse_args()
    modes = list(dict.fromkeys(args.modes))
    if args.case:
        print(json.dumps(run_case(args.case[0], int(args.case[1]), modes, args.repeats, args.torch_threads)))
        return
    from trtllm_mmfast.bench._common import write_result

    rows = []
    for size, n in CASES:
        res = subprocess.run(
            [sys.executable, __file__, "--case", size, str(n), "--repeats", str(args.repeats),
             "--torch-threads", str(args.torch_threads), "--modes", *modes],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rows.extend(json.loads(res.stdout.strip().splitlines()[-1]))
    print(f"\nQwen3-VL processor, decoded frames in -> model inputs (median of {args.repeats}, round-robin, "
          f"torch threads {args.torch_threads}; ratios: this mode's ms / that mode's ms)\n")  # fmt: skip
    print_table(rows, modes)
    write_result(args.out, "processor", {"cases": [list(c) for c in CASES], "rows": rows})


if __name__ == "__main__":
    main()
