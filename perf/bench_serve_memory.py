"""What the server holds for one video request: the TensorRT-LLM integration with
``resize_on_decode`` off (full-resolution frames until the processor resizes them) vs on (only
the frames the processor would make), through the stand-in of TensorRT-LLM main's media loader
and Qwen3-VL input processor (``tests/trtllm_standins``), on the 1080p 60 s footage clip at the
server's fps 2. Each case in a fresh process, warmed by one small request first; peak RSS growth
= VmHWM after the request - VmRSS before it (``bench._common.PeakRss``). ``same``: the model
inputs of both cases are byte-identical.

    python perf/bench_serve_memory.py [--seconds 60] [--out results/bench_serve_memory.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the stand-ins and their harness live with the tests


def run_case(resize: bool, path: str) -> dict:
    import av  # noqa: F401  (imported before the baseline)

    from trtllm_harness import data_url, load_sync, make_processor, process
    from trtllm_mmfast.bench._common import PeakRss, inputs_digest
    from trtllm_mmfast.integrations import tensorrt_llm as mmfast
    from trtllm_mmfast.synth import ClipSpec, encode_clip
    from trtllm_standins.standin import make_model_dir, use_standin

    url = data_url(Path(path).read_bytes())
    warm = data_url(encode_clip(ClipSpec(width=320, height=180, num_frames=60)))
    with use_standin("main") as trt, tempfile.TemporaryDirectory(prefix="mmfast-bench-") as tmp:
        model_dir = make_model_dir(Path(tmp) / "model")
        mmfast.enable(resize_on_decode=resize, video_cache_bytes=0)
        processor = make_processor(model_dir)
        process(processor, [load_sync(trt, warm, fps=2, format="np")])
        with PeakRss() as rss:
            t0 = time.perf_counter()
            vd = load_sync(trt, url, fps=2, format="np")
            held = int(vd.frames.nbytes)
            _, extra = process(processor, [vd])
            total = time.perf_counter() - t0
        mmfast.disable()
    video = extra["multimodal_data"]["video"]
    return {"resize_on_decode": resize, "frames_held_mib": round(held / 2**20, 1), "frames_shape": list(vd.frames.shape),
            "total_s": total, "peak_rss_growth_mib": rss.mib, "grid_thw": video["video_grid_thw"].tolist(),
            "inputs_digest": inputs_digest({"pixel_values_videos": video["pixel_values_videos"], "video_grid_thw": video["video_grid_thw"]})}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--out", default="results/bench_serve_memory.json")
    ap.add_argument("--case", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case[0] == "on", args.case[1])))
        return
    from trtllm_mmfast.footage import footage_clip
    from trtllm_mmfast.bench._common import write_result

    path = str(footage_clip(1920, 1080, args.seconds))
    rows = []
    for case in ("off", "on"):
        res = subprocess.run([sys.executable, __file__, "--case", case, path], capture_output=True, text=True)
        if res.returncode:
            raise RuntimeError(res.stderr[-3000:])
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    same = len({r["inputs_digest"] for r in rows}) == 1
    print(f"\nOne request through the stand-in of TensorRT-LLM main, 1920x1080 {args.seconds} s footage, fps 2\n")
    print("| resize_on_decode | frames held | MiB held | total s | peak RSS growth MiB | grid (t,h,w) | same inputs |")
    print("|---|---|---:|---:|---:|---|---|")
    for r in rows:
        print(f"| {'on' if r['resize_on_decode'] else 'off'} | {tuple(r['frames_shape'])} | {r['frames_held_mib']} "
              f"| {r['total_s']:.2f} | {r['peak_rss_growth_mib']} | {tuple(r['grid_thw'][0])} | {'yes' if same else 'NO'} |")
    write_result(args.out, "serve_memory", {"rows": rows, "same": same})


if __name__ == "__main__":
    main()
