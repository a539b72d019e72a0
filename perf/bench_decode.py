"""Sparse video decode: our exact PyAV backend against OpenCV, naive seeking and a full-decode floor.

Clips are synthetic (``trtllm_mmfast.synth``, cached on disk): 30 s at 30 fps, 374x374 and
1280x720, libx264 defaults (GOP 250, B-pyramid) and GOP 30. For each sampling fps the
Qwen3-VL sampler picks the indices, and every method decodes those same frames to uint8 RGB
from in-memory bytes, with one decoder thread:

- ``opencv``: ``load_video(backend="opencv")`` (bytes via a /dev/shm tempfile, one grab per frame, retrieve at targets);
- ``pyav``: ``load_video(backend="pyav")`` (skips GOPs without targets and disposable frames);
- ``naive``: PyAV, seek to each target and decode forward to it (TensorRT-LLM 1.2.x style);
- ``torchcodec``: ``VideoDecoder.get_frames_at`` (exact seek mode), when torchcodec imports;
- ``floor``: PyAV decodes every frame, no RGB conversion (what a full decode costs at least);
- ``trtllm-main``: TensorRT-LLM main's cv2 loop (``bench/trtllm_main.py``: in memory from a
  BytesIO, one sequential ``grab()`` pass to the last target, ``retrieve()`` at targets), with
  OpenCV's own decoder thread count as main leaves it (not ``--threads``).

``--policy trtllm`` asks the question of the sweep's ``fast-trtllm`` vs ``trtllm-main``
instead: for a request with the sampling fps in ``media_io_kwargs``, the other methods decode
only the frames main's path feeds the model (policy ``trtllm``: ``L[S]``), and
``trtllm-main`` runs main's whole ``VideoMediaIO.load_bytes`` (BLAKE3 of the bytes, its own
pick ``L``: ``num_frames`` 10, ``floor(duration * fps)``); ``main frames`` is ``len(L)`` and
exactness is checked on the frames of ``L[S]``. Needs transformers (the live HF video processor).

Each method gets a warm-up and ``--repeats`` timed runs, interleaved across methods; a run
slower than ``--slow-s`` is timed once. Reported: median wall time (and process CPU time),
ratios to opencv and to the floor, and whether the frames equal OpenCV's.

    python perf/bench_decode.py [--quick] [--repeats 5] [--policy hf|trtllm] [--out results/bench_decode.json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np

from trtllm_mmfast import load_video
from trtllm_mmfast.synth import ClipSpec, cached_clip
from trtllm_mmfast.versions import library_versions, system_info
from trtllm_mmfast.video.backend import HOST
from trtllm_mmfast.video.registry import get as get_backend
from trtllm_mmfast.video.sampling import qwen3_vl_indices
from trtllm_mmfast.video.source import MediaSource

SIZES = {"374x374": (374, 374), "720p": (1280, 720)}
GOPS = {"x264-default": None, "gop30": 30}  # None: x264's defaults (keyint 250)
FPS = (1.0, 2.0, 4.0, 8.0)
METHODS = ("opencv", "pyav", "naive", "torchcodec", "floor", "trtllm-main")


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _to_rgb(frame: Any) -> np.ndarray:
    """The same exact conversion as the backends (OpenCV's): swscale bicubic to bgr24, then RGB."""
    import cv2

    return cv2.cvtColor(frame.to_ndarray(format="bgr24", interpolation="BICUBIC"), cv2.COLOR_BGR2RGB)


def naive_seek_per_target(data: bytes, indices: np.ndarray, threads: int) -> np.ndarray:
    """For each target: seek to its timestamp (to the keyframe before it), decode forward to it."""
    import av

    out = []
    with av.open(io.BytesIO(data)) as c:
        st = c.streams.video[0]
        st.codec_context.thread_count = threads
        st.codec_context.thread_type = "FRAME" if threads > 1 else "NONE"
        fps, tb, start = float(st.average_rate), st.time_base, st.start_time or 0
        for i in indices:
            target = start + int(round(i / fps / tb))
            c.seek(target, stream=st, backward=True)
            for frame in c.decode(st):
                if frame.pts is not None and frame.pts >= target:
                    out.append(_to_rgb(frame))
                    break
    return np.stack(out)


def floor_decode_all(data: bytes, threads: int) -> int:
    """Decode every frame with PyAV, no colour conversion."""
    import av

    n = 0
    with av.open(io.BytesIO(data)) as c:
        st = c.streams.video[0]
        st.codec_context.thread_count = threads
        st.codec_context.thread_type = "FRAME" if threads > 1 else "NONE"
        for pkt in c.demux(st):
            n += len(st.codec_context.decode(pkt))
    return n


def torchcodec_frames(data: bytes, indices: np.ndarray, threads: int) -> np.ndarray:
    from torchcodec.decoders import VideoDecoder

    dec = VideoDecoder(data, seek_mode="exact", num_ffmpeg_threads=threads, dimension_order="NHWC")
    return dec.get_frames_at(indices.tolist()).data.numpy()


def have_torchcodec() -> bool:
    try:
        import torchcodec.decoders  # noqa: F401
    except Exception:  # ImportError, or a torch/FFmpeg mismatch at import
        return False
    return True


def trtllm_indices(total: int, source_fps: float, fps: float) -> tuple[np.ndarray, list[int]]:
    """Policy trtllm for a request with ``fps`` in media_io_kwargs: (the frames main's path feeds
    the model, ``L[S]``; main's loader pick ``L``)."""
    from trtllm_mmfast.bench import trtllm_main
    from trtllm_mmfast.bench.modes import PolicyTrtllmPlan
    from trtllm_mmfast.processors.tiny import tiny_processor

    media = trtllm_main.request_media_io_kwargs(fps=fps)
    plan = PolicyTrtllmPlan(tiny_processor().video_processor, media, {}).plan(total, source_fps)
    loader = trtllm_main.loader_indices(total, source_fps, **{k: v for k, v in media.items() if k != "format"})
    return plan.indices, loader


def _main_load(data: bytes, fps: float, model: np.ndarray) -> np.ndarray:
    """main's whole load for the request; returns its frames of ``model`` (for the exactness check)."""
    from trtllm_mmfast.bench import trtllm_main

    v = trtllm_main.load_bytes(data, **trtllm_main.request_media_io_kwargs(fps=fps))
    row = {int(i): k for k, i in enumerate(v.metadata["frames_indices"])}
    return v.frames[[row[int(i)] for i in model]]


def make_methods(data: bytes, fps: float, threads: int, methods: list[str],
                 policy: str = "hf") -> tuple[dict[str, Callable[[], Any]], int, int | None]:
    """The methods to time on ``data`` at ``fps``, how many frames each returns, and (policy
    trtllm) how many main's loader decodes."""
    from trtllm_mmfast.bench.trtllm_main import decode_indices

    video = get_backend("opencv").open(MediaSource(data=data), decoder_threads=threads)
    try:
        info = video.info
    finally:
        video.close()
    main_frames = None
    if policy == "trtllm":
        indices, loader = trtllm_indices(info.total_num_frames, info.fps, fps)
        main_frames = len(loader)
        kw: dict[str, Any] = {"sampler": lambda total, src_fps, **_: indices}
        main = lambda: _main_load(data, fps, indices)  # noqa: E731
    else:
        indices = qwen3_vl_indices(info.total_num_frames, info.fps, fps=fps)
        kw = {"fps": fps}
        main = lambda: decode_indices(data, indices)  # noqa: E731
    table: dict[str, Callable[[], Any]] = {
        "opencv": lambda: load_video(data, backend="opencv", decoder_threads=threads, **kw).frames,
        "pyav": lambda: load_video(data, backend="pyav", decoder_threads=threads, **kw).frames,
        "naive": lambda: naive_seek_per_target(data, indices, threads),
        "torchcodec": lambda: torchcodec_frames(data, indices, threads),
        "floor": lambda: floor_decode_all(data, threads),
        "trtllm-main": main,
    }
    return {m: table[m] for m in methods}, len(indices), main_frames


def pyav_stats(data: bytes, fps: float, threads: int, policy: str = "hf") -> dict[str, int]:
    video = get_backend("pyav").open(MediaSource(data=data), decoder_threads=threads)
    try:
        info = video.info
        if policy == "trtllm":
            indices = trtllm_indices(info.total_num_frames, info.fps, fps)[0]
        else:
            indices = qwen3_vl_indices(info.total_num_frames, info.fps, fps=fps)
        video.decode(indices, HOST)
        counts = {k: v for k, v in vars(video.stats).items() if k != "sent"}  # the per-packet list is for tests
        return dict(counts, total_packets=video.index.num_packets, gops=video.index.num_gops)
    finally:
        video.close()


def time_case(fns: dict[str, Callable[[], Any]], repeats: int, slow_s: float) -> dict[str, dict[str, Any]]:
    res: dict[str, dict[str, Any]] = {m: {"wall_s": [], "cpu_s": []} for m in fns}
    outputs: dict[str, Any] = {}
    slow: set[str] = set()
    for m, fn in fns.items():  # warm-up (and the frames, for the exactness check)
        w0, c0 = time.perf_counter(), _cpu_s()
        outputs[m] = fn()
        wall = time.perf_counter() - w0
        if wall > slow_s:  # too slow to repeat: the warm-up is its one timing
            slow.add(m)
            res[m]["wall_s"].append(wall)
            res[m]["cpu_s"].append(_cpu_s() - c0)
    for _ in range(repeats):
        for m, fn in fns.items():
            if m in slow:
                continue
            w0, c0 = time.perf_counter(), _cpu_s()
            fn()
            res[m]["wall_s"].append(time.perf_counter() - w0)
            res[m]["cpu_s"].append(_cpu_s() - c0)
    ref = outputs.get("opencv")
    for m, r in res.items():
        r["median_wall_s"] = statistics.median(r["wall_s"])
        r["median_cpu_s"] = statistics.median(r["cpu_s"])
        out = outputs[m]
        comparable = isinstance(out, np.ndarray) and ref is not None and m != "opencv"
        r["exact_vs_opencv"] = bool(np.array_equal(out, ref)) if comparable else None
    return res


def opencv_default_threads(data: bytes) -> int | None:
    """The decoder threads OpenCV's FFmpeg reader uses when nobody sets them (what main gets)."""
    import cv2

    from trtllm_mmfast.bench.trtllm_main import stream_buffered_backend

    backend = stream_buffered_backend()
    if backend is None:
        return None
    buf = io.BytesIO(data)  # read by OpenCV until release: keep it referenced
    cap = cv2.VideoCapture(buf, backend, [])
    try:
        return int(cap.get(cv2.CAP_PROP_N_THREADS))
    finally:
        cap.release()
        del buf


def machine_info() -> dict[str, Any]:
    """The shared system facts plus the load average at start (this box may be shared)."""
    return {**system_info(), "loadavg_start": os.getloadavg() if hasattr(os, "getloadavg") else None}


def _fmt(x: float | None, spec: str = ".3f") -> str:
    return "-" if x is None else format(x, spec)


def print_table(rows: list[dict[str, Any]]) -> None:
    print("\n| clip | GOP | fps | frames | main frames | opencv s | pyav s | naive s | torchcodec s | floor s "
          "| trtllm-main s | pyav/opencv | pyav/floor | naive/opencv | pyav/trtllm-main | pyav/opencv (cpu) "
          "| sent/total pkts | exact |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        t = {m: r["methods"].get(m, {}).get("median_wall_s") for m in METHODS}
        c = {m: r["methods"].get(m, {}).get("median_cpu_s") for m in METHODS}

        def ratio(a: str, b: str, d: dict = t) -> str:
            return _fmt(d[a] / d[b], ".2f") if d.get(a) and d.get(b) else "-"

        exact = all(v["exact_vs_opencv"] in (True, None) for v in r["methods"].values())
        s = r["pyav_stats"]
        print(f"| {r['size']} | {r['gop']} | {r['fps']:g} | {r['frames']} | {r.get('main_frames') or r['frames']} "
              f"| {_fmt(t['opencv'])} | {_fmt(t['pyav'])} | {_fmt(t['naive'])} | {_fmt(t['torchcodec'])} "
              f"| {_fmt(t['floor'])} | {_fmt(t['trtllm-main'])} | {ratio('pyav', 'opencv')} | {ratio('pyav', 'floor')} "
              f"| {ratio('naive', 'opencv')} | {ratio('pyav', 'trtllm-main')} | {ratio('pyav', 'opencv', c)} "
              f"| {s['packets_sent']}/{s['total_packets']} | {'yes' if exact else 'NO'} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="720p x264-default at fps 2 only, 3 repeats")
    ap.add_argument("--sizes", nargs="+", choices=list(SIZES), default=None)
    ap.add_argument("--gops", nargs="+", choices=list(GOPS), default=None)
    ap.add_argument("--fps", nargs="+", type=float, default=None)
    ap.add_argument("--methods", nargs="+", choices=METHODS, default=None)
    ap.add_argument("--repeats", type=int, default=None, help="timed runs per method (default 5; 3 with --quick)")
    ap.add_argument("--slow-s", type=float, default=8.0, help="a warm-up slower than this is the only timing")
    ap.add_argument("--threads", type=int, default=1, help="decoder threads for every method but trtllm-main")
    ap.add_argument("--policy", choices=["hf", "trtllm"], default="hf",
                    help="hf: every method decodes the Qwen3-VL sampler's frames; trtllm: the frames main feeds "
                         "the model (fps in media_io_kwargs), trtllm-main runs main's whole load (its own pick)")
    ap.add_argument("--seconds", type=float, default=30.0, help="clip duration")
    ap.add_argument("--cache-dir", default=None, help="clip cache (default $TRTLLM_MMFAST_CACHE or ~/.cache)")
    ap.add_argument("--out", default="results/bench_decode.json")
    args = ap.parse_args()

    sizes = args.sizes or (["720p"] if args.quick else list(SIZES))
    gops = args.gops or (["x264-default"] if args.quick else list(GOPS))
    fps_list = args.fps or ([2.0] if args.quick else list(FPS))
    repeats = args.repeats or (3 if args.quick else 5)
    methods = list(args.methods or METHODS)
    if "torchcodec" in methods and not have_torchcodec():
        print("torchcodec is not importable: skipping it", file=sys.stderr)
        methods.remove("torchcodec")

    rows = []
    for size in sizes:
        w, h = SIZES[size]
        for gop in gops:
            spec = ClipSpec(width=w, height=h, num_frames=int(args.seconds * 30), fps=30.0, gop=GOPS[gop])
            path = cached_clip(spec, args.cache_dir)
            data = path.read_bytes()
            for fps in fps_list:
                fns, frames, main_frames = make_methods(data, fps, args.threads, methods, args.policy)
                print(f"{size} {gop} fps={fps:g} ...", file=sys.stderr, flush=True)
                res = time_case(fns, repeats, args.slow_s)
                row = {"size": size, "gop": gop, "fps": fps, "frames": frames, "main_frames": main_frames,
                       "policy": args.policy, "trtllm_main_threads": opencv_default_threads(data), "clip": str(path),
                       "clip_bytes": len(data), "spec": {k: v for k, v in vars(spec).items() if k != "options"},
                       "methods": res, "pyav_stats": pyav_stats(data, fps, args.threads, args.policy)}
                rows.append(row)
                print_table([row])

    print(f"\nSparse decode (policy {args.policy}), median wall seconds of {repeats} runs ({args.threads} decoder "
          "thread(s); trtllm-main: OpenCV's default); ratios < 1 are faster")
    print_table(rows)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump({"benchmark": "decode", "policy": args.policy, "repeats": repeats, "threads": args.threads,
                   "methods": methods,
                   "rows": rows, "libraries": library_versions(), "machine": machine_info()}, fh, indent=2)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
