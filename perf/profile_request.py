"""Where one request's time goes: source, open + probe, avcodec decode, colour conversion,
the HF processor, and the rest, for one clip through our path (``load_video`` + ``wrap``).

The split comes from ``cProfile`` over one warm request: each function's own time is put in
the bucket of the module that defines it (PyAV's decode / reformat calls, transformers and
torch for the processor), so the buckets add up to the request's wall time minus the
profiler's overhead (reported).

    python perf/profile_request.py                      # 720p 30 s GOP 250, fps 2, generated
    python perf/profile_request.py --video clip.mp4 --fps 2 --out results/profile_request.json
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections import defaultdict

PROMPT = "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>Describe the video.<|im_end|>\n"

# (bucket, test on (file, function name)): the first that matches wins. PyAV and OpenCV are
# compiled: cProfile names their calls "<method 'decode' of 'av.codec.context...' objects>".
BUCKETS = [
    ("avcodec decode", lambda f, fn: "'decode' of 'av." in fn or "'read' of 'cv2" in fn or "grab" in fn),
    ("colour conversion", lambda f, fn: "reformat" in fn or "to_ndarray" in fn or "cvtColor" in fn or "retrieve" in fn),
    ("demux, open, index", lambda f, fn: "av." in fn or "/video/" in f),
    ("HF processor", lambda f, fn: any(k in f for k in ("/transformers/", "/torch/", "/torchvision/", "/tokenizers/"))
                                   or "torch" in fn),  # fmt: skip
    ("source + hashing", lambda f, fn: "base64" in f or "blake3" in fn or "b64decode" in fn),
]


def _bucket(file: str, fn: str) -> str:
    for name, test in BUCKETS:
        if test(file, fn):
            return name
    return "other (ours, numpy, python)"


def profile(data: bytes, fps: float) -> dict:
    from trtllm_mmfast import load_video
    from trtllm_mmfast.processors.qwen3_vl import sampler_for, wrap
    from trtllm_mmfast.processors.tiny import tiny_processor

    hf = tiny_processor()
    fast, sampler = wrap(hf), sampler_for(hf)

    def request():
        video = load_video(data, fps=fps, sampler=sampler)
        return video, fast(text=[PROMPT], videos=video, padding=True)

    request()  # warm-up: imports, codec init, the _merge_kwargs memo
    t0 = time.perf_counter()
    video, out = request()
    wall = time.perf_counter() - t0
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.runcall(request)
    profiled = time.perf_counter() - t0
    split: dict[str, float] = defaultdict(float)
    for (file, _line, fn), (_cc, _nc, tottime, _ct, _callers) in pstats.Stats(prof).stats.items():  # type: ignore[attr-defined]
        split[_bucket(file, fn)] += tottime
    total = sum(split.values())
    m = video.metadata
    return {
        "clip": {"width": m.width, "height": m.height, "frames": m.total_num_frames, "fps": m.fps, "backend": m.backend},
        "sampled_frames": len(video),
        "tokens": int(out["input_ids"].shape[1]),
        "wall_s": wall,
        "profiled_s": profiled,
        "split_s": dict(sorted(split.items(), key=lambda kv: -kv[1])),
        "split_share": {k: v / total for k, v in sorted(split.items(), key=lambda kv: -kv[1])},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", help="a video file (default: a generated 720p 30 s GOP 250 clip)")
    ap.add_argument("--fps", type=float, default=2.0)
    ap.add_argument("--out", default="results/profile_request.json")
    args = ap.parse_args()
    from trtllm_mmfast.bench._common import write_result

    if args.video:
        with open(args.video, "rb") as f:
            data = f.read()
    else:
        from trtllm_mmfast.synth import ClipSpec, encode_clip

        data = encode_clip(ClipSpec(width=1280, height=720, num_frames=900, fps=30, gop=250, bframes=2))
    res = profile(data, args.fps)
    c = res["clip"]
    print(f"\none request, {c['width']}x{c['height']} {c['frames']} frames @ {c['fps']:g} fps ({c['backend']}), "
          f"fps={args.fps:g}: {res['sampled_frames']} frames, {res['tokens']} tokens; "
          f"wall {res['wall_s'] * 1e3:.0f} ms ({res['profiled_s'] * 1e3:.0f} ms under the profiler)\n")
    print("| stage | ms | share |")
    print("|---|---:|---:|")
    for name, s in res["split_s"].items():
        print(f"| {name} | {s * 1e3:.0f} | {res['split_share'][name]:.0%} |")
    write_result(args.out, "profile_request", res)


if __name__ == "__main__":
    main()
