"""Policy ``trtllm`` against current TensorRT-LLM main's stock path, at identical model inputs.

Both sides run one chat request through the stand-in of TensorRT-LLM main
(``tests/trtllm_standins/main``: its ``VideoMediaIO`` with the in-memory cv2 decode as
main's source does it, one sequential ``grab()`` pass and ``retrieve()`` at the targets into
a preallocated uint8 array; its ``OpenAIServer`` chat path, ``_decide_do_sample_frames``
and the HF processor): load + input processing, wall time, one request at a time.

- ``stock``: the stand-in as it is (OpenCV's FFmpeg reader uses one decoder thread per core
  by default: ``CAP_PROP_N_THREADS``);
- ``fast``: ``enable(video_sampling="trtllm")``: our decoder picks main's frames and decodes
  only those the HF processor keeps; the processor gets them without re-sampling. Ours runs
  one decoder thread per video by default (under load the pools are the parallelism), so it
  is measured twice: ``fast`` (1 thread) and ``fast-threads`` (as many as OpenCV uses).

Every repeat checks ``input_ids``, ``pixel_values_videos`` and ``video_grid_thw`` are equal.

    python perf/bench_trtllm_policy.py [--repeats 5] [--seconds 30] [--out results/bench_trtllm_policy.json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the stand-ins and their harness live with the tests


def _request(srv, url: str):
    from trtllm_harness import messages

    t0 = time.perf_counter()
    out = asyncio.run(srv.chat_multimodal(messages(url)))
    return time.perf_counter() - t0, out


def _same(a, b) -> bool:
    import torch

    va, vb = a[1]["multimodal_data"]["video"], b[1]["multimodal_data"]["video"]
    return a[0] == b[0] and all(torch.equal(va[k], vb[k]) for k in ("pixel_values_videos", "video_grid_thw"))


def _opencv_threads(clip: bytes) -> int:
    """The decoder threads OpenCV's FFmpeg reader uses by default (what stock main gets)."""
    import io

    import cv2

    buf = io.BytesIO(clip)  # OpenCV reads from it until release: keep it referenced
    cap = cv2.VideoCapture(buf, cv2.CAP_FFMPEG, [])
    try:
        return max(1, int(cap.get(cv2.CAP_PROP_N_THREADS)))
    finally:
        cap.release()
        del buf


def run(seconds: int, repeats: int) -> dict:
    from trtllm_harness import make_processor, server
    from trtllm_mmfast.integrations import tensorrt_llm as mmfast
    from trtllm_mmfast.synth import ClipSpec, encode_clip
    from trtllm_standins.standin import make_model_dir, use_standin

    spec = ClipSpec(width=1280, height=720, num_frames=30 * seconds, fps=30, gop=250, bframes=2)
    clip = encode_clip(spec)
    url = "data:video/mp4;base64," + base64.b64encode(clip).decode()
    modes = ("stock", "fast", "fast-threads")
    rows: dict[str, list[float]] = {m: [] for m in modes}
    outputs: dict = {}
    stats: dict = {}
    threads = _opencv_threads(clip)
    with tempfile.TemporaryDirectory() as tmp, use_standin("main") as trt:
        model_dir = make_model_dir(Path(tmp))
        for mode in modes * (repeats + 1):  # interleaved; the first round is warm-up
            if mode != "stock":  # every request cold: no repeat-video cache
                mmfast.enable(video_sampling="trtllm", video_cache_bytes=0, decoder_threads=threads if mode == "fast-threads" else 1)
            srv = server(trt, make_processor(model_dir))
            dt, out = _request(srv, url)
            srv.shutdown()
            if mode != "stock":
                stats = mmfast.stats(reset=True)
            mmfast.disable()
            if mode in outputs and not _same(outputs[mode], out):
                raise AssertionError(f"{mode}: model inputs changed between repeats")
            outputs.setdefault(mode, out)
            rows[mode].append(dt)
    if not (_same(outputs["stock"], outputs["fast"]) and _same(outputs["stock"], outputs["fast-threads"])):
        raise AssertionError("policy trtllm gave other model inputs than stock main")
    med = {m: statistics.median(t[1:]) for m, t in rows.items()}
    return {
        "clip": {"width": spec.width, "height": spec.height, "frames": spec.num_frames, "fps": spec.fps, "gop": spec.gop},
        "decoder_threads": {"stock (OpenCV default)": threads, "fast": 1, "fast-threads": threads},
        "median_s": med,
        "times_s": rows,
        "fast_over_stock": med["fast"] / med["stock"],
        "fast_threads_over_stock": med["fast-threads"] / med["stock"],
        "video_grid_thw": outputs["fast"][1]["multimodal_data"]["video"]["video_grid_thw"].tolist(),
        "tokens": len(outputs["fast"][0]),
        "stats_last_fast_request": stats,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=30, help="clip length (720p, 30 fps, GOP 250)")
    ap.add_argument("--out", default="results/bench_trtllm_policy.json")
    args = ap.parse_args()
    from trtllm_mmfast.bench._common import write_result

    res = run(args.seconds, args.repeats)
    c = res["clip"]
    print(f"\nload + input processing, one default request, {c['width']}x{c['height']} {c['frames'] // c['fps']} s "
          f"GOP {c['gop']} (median of {args.repeats}; identical model inputs: grid {res['video_grid_thw']}, "
          f"{res['tokens']} tokens)\n")
    n = res["decoder_threads"]["fast-threads"]
    print("| path | decoder threads | wall ms | vs stock main |")
    print("|---|---:|---:|---:|")
    print(f"| TensorRT-LLM main stock (stand-in) | {n} (OpenCV default) | {res['median_s']['stock'] * 1e3:.0f} | 1.00x |")
    print(f"| trtllm-mmfast, video_sampling=trtllm | 1 (default) | {res['median_s']['fast'] * 1e3:.0f} | {res['fast_over_stock']:.2f}x |")
    print(f"| trtllm-mmfast, video_sampling=trtllm | {n} | {res['median_s']['fast-threads'] * 1e3:.0f} | "
          f"{res['fast_threads_over_stock']:.2f}x |")
    write_result(args.out, "trtllm_policy", res)


if __name__ == "__main__":
    main()
