"""GPU decode (the ``nvdec`` backend) vs the CPU path (``pyav``), side by side on one machine.

Clip: synthetic 1920x1080, 60 s at 30 fps (``moving_clip``: a panning texture), x264 veryfast,
GOP 250, 3 B-frames, generated here.
One request = ``load_video(bytes, fps=2)`` (the ``qwen3_vl`` sampler: 120 frames): pyav into host
memory, nvdec into a CUDA tensor on ``cuda:0`` (released as soon as the request ends).

1. Load: closed-loop clients at concurrency 1, 8, 32 (``--concurrency``), ``--requests`` per client
   (default 2, and 1 at 32: 32 requests at once): requests/s, p50 latency, CPU-seconds per request (process CPU time / requests),
   VRAM peak (device-wide used memory, sampled every 20 ms, and torch's own peak allocation),
   nvdec's fallbacks and session-pool stats. Ratios nvdec/pyav per concurrency.
2. Pixels: the frames of both backends at the same indices: max and mean absolute difference.
3. Burst: ``--burst`` requests (default 256) of a 3840x2160 clip (5 s, 30 fps) at concurrency 64
   under a VRAM budget of ``--burst-budget-gib`` (default 8): every request must finish (the budget
   queues them), with no CUDA out-of-memory error; the budget's peak is reported.

Targets (issue 17): CPU-s/request <= 1/5 of pyav at 1080p; req/s at concurrency 32 >= 2x pyav;
zero OOM in the burst. Without a usable NVDEC (no driver, no GPU) it runs the pyav side only and
says why nvdec was skipped (``--quick``: a small clip and light load, for the CPU test suite).

    python perf/bench_nvdec.py [--quick] [--out results/bench_nvdec.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import threading
import time
from typing import Any

import numpy as np

from trtllm_mmfast import load_video
from trtllm_mmfast.versions import system_info
from trtllm_mmfast.video import nvdec_backend, registry

# (width, height, frames at 30 fps)
CLIP, CLIP_4K = (1920, 1080, 1800), (3840, 2160, 150)
QUICK, QUICK_4K = (320, 240, 300), (640, 360, 60)


def moving_clip(width: int, height: int, num_frames: int, fps: int = 30) -> bytes:
    """An H.264 MP4 (x264 veryfast, GOP 250, 3 B-frames) of a textured picture panning diagonally:
    real motion for the encoder, quick to make (``synth.synth_frame`` takes ~45 ms a 1080p frame)."""
    import io

    import av

    rng = np.random.default_rng(0)
    tile = rng.integers(0, 256, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    base = np.repeat(np.repeat(tile, 8, axis=0), 8, axis=1)[:height, :width]
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = 250
        stream.options = {"preset": "veryfast", "bf": "3", "x264-params": "keyint=250:min-keyint=250"}
        for i in range(num_frames):
            frame = np.roll(base, (2 * i, 3 * i), (0, 1))
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class VramSampler:
    """Device-wide used memory on GPU 0 (total - free), sampled in a thread: its peak."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.peak, self._stop = enabled, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-vram", daemon=True) if enabled else None

    def _run(self) -> None:
        import torch

        while not self._stop.is_set():
            free, total = torch.cuda.mem_get_info(0)
            self.peak = max(self.peak, total - free)
            self._stop.wait(0.02)

    def __enter__(self) -> VramSampler:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _cuda_visible() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def one_request(data: bytes, backend: str, fps: float, device: str | None) -> int:
    """One request; the frames are dropped at once (their VRAM budget goes back)."""
    from trtllm_mmfast.runtime import release_frames

    video = load_video(data, fps=fps, backend=backend, device=device)
    n = len(video)
    release_frames(video)
    return n


def load_run(data: bytes, backend: str, clients: int, per_client: int, fps: float, device: str | None) -> dict[str, Any]:
    """``clients`` closed-loop threads, ``per_client`` requests each: throughput, latency, CPU, VRAM."""
    gpu = bool(device and device.startswith("cuda")) and _cuda_visible()  # VRAM figures where there is a GPU
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(per_client):
            t0 = time.perf_counter()
            try:
                one_request(data, backend, fps, device)
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(f"{type(e).__name__}: {str(e)[:200]}")
                continue
            with lock:
                latencies.append(time.perf_counter() - t0)

    if gpu:
        import torch

        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(0)
    threads = [threading.Thread(target=client, name=f"bench-client-{i}") for i in range(clients)]
    cpu0, t0 = _cpu_s(), time.perf_counter()
    with VramSampler(gpu) as vram:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    wall, cpu = time.perf_counter() - t0, _cpu_s() - cpu0
    done = len(latencies)
    out = {
        "backend": backend, "concurrency": clients, "requests": done, "errors": errors[:5], "error_count": len(errors),
        "wall_s": round(wall, 3), "requests_per_s": round(done / wall, 3) if wall else None,
        "p50_latency_s": round(statistics.median(latencies), 4) if latencies else None,
        "cpu_s_per_request": round(cpu / done, 4) if done else None,
    }  # fmt: skip
    if gpu:
        import torch

        out["vram_peak_used_gib"] = round(vram.peak / 2**30, 3)
        out["torch_peak_allocated_gib"] = round(torch.cuda.max_memory_allocated(0) / 2**30, 3)
    return out


def pixel_diff(data: bytes, fps: float, backend: str = "nvdec") -> dict[str, Any]:
    """nvdec vs pyav frames at the same indices (nvdec copied to host)."""
    a = load_video(data, fps=fps, backend=backend, device="cpu")
    b = load_video(data, fps=fps, backend="pyav")
    same = a.metadata.frames_indices == b.metadata.frames_indices
    d = np.abs(a.frames.astype(np.int16) - b.frames.astype(np.int16)) if same else None
    return {
        "same_indices": same, "frames": len(b),
        "max_abs_diff": int(d.max()) if d is not None else None,
        "mean_abs_diff": round(float(d.mean()), 4) if d is not None else None,
        "p99_abs_diff": float(np.percentile(d, 99)) if d is not None else None,
    }  # fmt: skip


def burst(data: bytes, n: int, clients: int, budget_bytes: int, fps: float, backend: str, device: str) -> dict[str, Any]:
    """``n`` requests at ``clients`` at once under a VRAM budget: all finish, no OOM."""
    from trtllm_mmfast.runtime import vram

    vram.reset()  # a fresh budget (its peak is the burst's) and session pool
    vram.set_vram_budget(0, budget_bytes)
    per = max(1, n // clients)
    run = load_run(data, backend, clients, per, fps, device)
    oom = sum("out of memory" in e.lower() or "OutOfMemory" in e for e in run["errors"])
    budget = vram.vram_budget(0)
    return {**run, "vram_budget_gib": round(budget_bytes / 2**30, 3), "budget_peak_gib": round(budget.peak / 2**30, 3),
            "oom_errors_in_sample": oom, "all_finished": run["requests"] == per * clients}  # fmt: skip


def diagnose(data: bytes) -> dict[str, Any]:
    """Raw facts from PyNvVideoCodec itself (for the next reader of this JSON): its metadata, the
    pts it reports for a few frames next to pyav's, and its frame shape/dtype through DLPack."""
    import PyNvVideoCodec as nvc
    import torch

    from trtllm_mmfast.video import pyav_backend
    from trtllm_mmfast.video.source import MediaSource

    out: dict[str, Any] = {"version": getattr(nvc, "__version__", None)}
    try:
        dec = nvc.SimpleDecoder(data, gpu_id=0, use_device_memory=True, output_color_type=nvc.OutputColorType.RGB)
        meta = dec.get_stream_metadata()
        out["metadata"] = {k: getattr(meta, k, None) for k in ("width", "height", "num_frames", "average_fps", "duration", "codec_name")}
        out["len"] = len(dec)
        idx = [0, 1, 2, 3, 15, 30, 250, 251]
        frames = dec.get_batch_frames_by_index(idx)
        out["nvdec_pts"] = [int(f.getPTS()) for f in frames]
        t = torch.from_dlpack(frames[0])
        out["frame"] = {"shape": list(t.shape), "dtype": str(t.dtype), "device": str(t.device), "strides": list(t.stride())}
        cpu = pyav_backend.BACKEND.open(MediaSource(data=data), decoder_threads=1)
        try:
            out["pyav_pts"] = [int(cpu.index.pts[cpu.index.frame_packet[i]]) for i in idx]
            out["pyav_total"] = cpu.info.total_num_frames
        finally:
            cpu.close()
    except Exception as e:  # noqa: BLE001 - a diagnosis never stops the benchmark
        out["error"] = f"{type(e).__name__}: {str(e)[:300]}"
    return out


def _ratios(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by = {(r["backend"], r["concurrency"]): r for r in rows}
    out = {}
    for (backend, c), r in by.items():
        p = by.get(("pyav", c))
        if backend != "nvdec" or p is None or not r["requests"] or not p["requests"]:
            continue
        out[str(c)] = {
            "requests_per_s_x": round(r["requests_per_s"] / p["requests_per_s"], 3),
            "cpu_s_per_request_x": round(r["cpu_s_per_request"] / p["cpu_s_per_request"], 4),
            "p50_latency_x": round(r["p50_latency_s"] / p["p50_latency_s"], 3),
        }
    return out


def _targets(ratios: dict[str, Any], bursts: dict[str, Any] | None) -> dict[str, Any]:
    if not ratios:
        return {}
    worst_cpu = max(v["cpu_s_per_request_x"] for v in ratios.values())
    out: dict[str, Any] = {"cpu_s_per_request_at_most_one_fifth": worst_cpu <= 0.2}
    if "32" in ratios:
        out["requests_per_s_at_32_at_least_2x"] = ratios["32"]["requests_per_s_x"] >= 2.0
    if bursts is not None:
        out["burst_zero_oom"] = bursts["error_count"] == 0 and bursts["all_finished"]
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small clips, light load (CPU test / smoke run)")
    ap.add_argument("--concurrency", default=None, help="comma-separated client counts (default 1,8,32; quick 1,2)")
    ap.add_argument("--requests", type=int, default=None, help="requests per client (default 2; 1 at concurrency > 8)")
    ap.add_argument("--fps", type=float, default=2.0)
    ap.add_argument("--burst", type=int, default=None, help="4K burst requests (default 256; quick 8; 0: none)")
    ap.add_argument("--burst-budget-gib", type=float, default=8.0)
    ap.add_argument("--out", default="results/bench_nvdec.json")
    ap.add_argument("--nvdec-backend", default="nvdec", help="registry name of the GPU backend (tests: a stand-in)")
    ap.add_argument("--nvdec-device", default="cuda:0", help="where its frames go")
    args = ap.parse_args(argv)
    conc = [int(c) for c in (args.concurrency or ("1,2" if args.quick else "1,8,32")).split(",")]
    t_start = time.perf_counter()
    nv, nv_dev = args.nvdec_backend, args.nvdec_device
    reason = registry.available().get(nv, f"no backend {nv!r}")
    usable = reason is None
    if not usable:
        print(f"nvdec skipped: {reason}. Measuring the pyav side only.", file=sys.stderr)
    t0 = time.perf_counter()
    clip = QUICK if args.quick else CLIP
    data = moving_clip(*clip)
    encode_s = time.perf_counter() - t0
    result: dict[str, Any] = {
        "bench": "bench_nvdec", "clip": "x".join(map(str, clip)) + "@30fps", "clip_bytes": len(data), "encode_s": round(encode_s, 1), "fps": args.fps,
        "nvdec": "available" if usable else f"unavailable: {reason}", "system": system_info(), "load": [],
    }  # fmt: skip
    backends = {"pyav": None, nv: nv_dev} if usable else {"pyav": None}
    for backend, device in backends.items():  # warm-up: sessions, CUDA context, allocator
        one_request(data, backend, args.fps, device)
    for c in conc:
        per = args.requests or (2 if c <= 8 else 1)  # 32 clients x 1: a burst of 32 at once
        for backend, device in backends.items():
            row = load_run(data, backend, c, per, args.fps, device)
            row["backend"] = "nvdec" if backend == nv else backend
            result["load"].append(row)
            print(json.dumps(row), file=sys.stderr)
            _save(result, args.out)
    if usable:
        if nv == "nvdec":
            result["diagnosis"] = diagnose(data)
        result["pixels"] = pixel_diff(data, args.fps, nv)
        result["ratios_nvdec_over_pyav"] = _ratios(result["load"])
        result["targets"] = _targets(result["ratios_nvdec_over_pyav"], None)
        result["fallbacks"] = nvdec_backend.fallbacks()
        result["fallback_examples"] = nvdec_backend.fallback_examples()
        from trtllm_mmfast.runtime import vram

        result["session_pool_load"] = vars(vram.session_pool(0, "nvdec", object).stats)
        _save(result, args.out)
        n_burst = args.burst if args.burst is not None else (8 if args.quick else 256)
        clip4k = moving_clip(*(QUICK_4K if args.quick else CLIP_4K)) if n_burst else b""
        budget = int(args.burst_budget_gib * 2**30)
        result["burst_4k"] = burst(clip4k, n_burst, min(64, n_burst), budget, args.fps, nv, nv_dev) if n_burst else None
        result["targets"] = _targets(result["ratios_nvdec_over_pyav"], result["burst_4k"])
        result["fallbacks"] = nvdec_backend.fallbacks()
        result["fallback_examples"] = nvdec_backend.fallback_examples()
        result["session_pool_burst"] = vars(vram.session_pool(0, "nvdec", object).stats)
    result["total_s"] = round(time.perf_counter() - t_start, 1)
    _save(result, args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    return result


def _save(result: dict[str, Any], path: str) -> None:
    """Write what is measured so far (a run cut short by a timeout still leaves its figures)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(result, f, indent=2, default=str)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
