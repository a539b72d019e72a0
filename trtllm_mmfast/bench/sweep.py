"""The perf sweep: a grid of fps x concurrency x mode (x OSL over HTTP), tables and plots.

Target ``inproc`` (default): N concurrent requests per point run through the same async
path a server uses (load in the media-load pool, the Qwen3-VL processor in the
input-processing pool), once per mode (baselines ``stock`` = TensorRT-LLM 1.2.x and
``trtllm-main`` = current main; ours ``fast`` and ``fast-trtllm``; ablations: ``modes.py``).
Every row shows the frames and tokens (``len(input_ids)``) the model gets. With both
``trtllm-main`` and ``fast-trtllm`` in the grid, the sweep first checks, per fps, that they
give identical model inputs (``input_ids``, ``pixel_values_videos``, ``video_grid_thw``)
and fails if not.
Target ``http``: streaming chat completions against an OpenAI-compatible server (see
``http_target.py``). Every sample, the system and the config go to ``sweep.json``; one
row per point to ``sweep.csv``; a markdown table to stdout and ``sweep.md``; plots to
``sweep.png`` and ``speedup.png``.
"""

from __future__ import annotations

import asyncio
import csv
import json
import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from ._common import (LoadRun, LoopLagTicker, ModelInputsMismatchError, Point, SweepResult, closed_loop, differing_keys,
                      progress_bar, summarize)
from .config import SweepConfig
from .modes import Mode, RequestPath, get_mode
from .plots import RATIO_PAIRS

# Point, SweepResult, summarize: from _common
__all__ = ["ModelInputsMismatchError", "Point", "SweepResult", "check_trtllm_inputs", "run_sweep", "summarize"]


# -- in-process target ----------------------------------------------------------------


async def _inproc_point(path: RequestPath, point: Point, data: bytes, n_requests: int, max_s: float) -> LoadRun:
    from ..runtime import executors, pipeline
    from ..runtime.stats import StageTimings, Stats

    stats = Stats()  # per point, so the process-wide global_stats() is not polluted by the sweep
    mode = path.mode
    loop = asyncio.get_running_loop()
    if mode.pools:
        load_pool, proc_pool = executors.media_load_pool(), executors.input_processing_pool()
    else:
        load_pool = proc_pool = None  # the loop's default executor, shared by both stages

    async def one(rid: int) -> dict[str, Any]:
        t0 = time.perf_counter()
        sample: dict[str, Any] = {**asdict(point), "request": rid, "ok": False}
        try:
            if path.uses_pipeline:  # the server's path: frame budget, timeout, stage timings
                timings = StageTimings()
                loaded = await pipeline.load_video_async(data, timings=timings, stats=stats, **path.load_kwargs(point.fps))
                t1 = time.perf_counter()
                with pipeline.holding(loaded):
                    out = await pipeline.process_async(path.process, loaded=loaded, fps=point.fps, timings=timings, stats=stats)
                sample["stages"] = timings.as_dict()
            else:
                loaded = await loop.run_in_executor(load_pool, path.load, data, point.fps)
                t1 = time.perf_counter()
                out = await loop.run_in_executor(proc_pool, path.process, loaded, point.fps)
            t2 = time.perf_counter()
            sample.update(ok=True, load_s=t1 - t0, process_s=t2 - t1, e2e_s=t2 - t0, frames_out=path.frames_out(out),
                          tokens=path.tokens_out(out))
        except Exception as e:  # a failed request is a data point, not the end of the sweep
            sample.update(error=f"{type(e).__name__}: {e}", e2e_s=time.perf_counter() - t0)
        return sample

    async with LoopLagTicker() as ticker:
        run = await closed_loop(point.concurrency, n_requests, max_s, one)
    run.loop_lags = ticker.lags
    return run


def _run_loop(mode: Mode, coro: Any) -> Any:
    if mode.uvloop:
        from ..runtime.loop import run

        return run(coro)
    return asyncio.run(coro)


def _processor_factory(cfg: SweepConfig) -> Callable[[], Any]:
    if cfg.processor:
        def load() -> Any:
            from transformers import AutoProcessor

            return AutoProcessor.from_pretrained(cfg.processor, local_files_only=True)

        return load
    from functools import partial

    from ..processors.tiny import tiny_processor

    return partial(tiny_processor, family=cfg.model_family)


def prepare_videos(cfg: SweepConfig) -> tuple[list[tuple[str, bytes]], dict[str, Any]]:
    """(name, bytes) of the videos to send, and a description for the results."""
    if cfg.videos:
        out = []
        for v in cfg.videos:
            if v.startswith(("http://", "https://")):
                out.append((v, b""))  # only the http target sends URLs as they are
            else:
                out.append((v, Path(v.removeprefix("file://")).read_bytes()))
        return out, {"files": cfg.videos}
    from ..synth import ClipSpec, cached_clip

    spec = ClipSpec(
        width=cfg.width, height=cfg.height, num_frames=round(cfg.duration_s * cfg.video_fps),
        fps=cfg.video_fps, gop=cfg.gop, seed=cfg.seed,
    )
    path = cached_clip(spec)
    return [(str(path), path.read_bytes())], {"generated": asdict(spec), "path": str(path)}


def run_sweep(cfg: SweepConfig, *, progress: bool = True, echo: Callable[[str], None] = print) -> SweepResult:
    from ..runtime import executors
    from ..versions import system_info

    videos, video_desc = prepare_videos(cfg)
    result = SweepResult(config=asdict(cfg), system=system_info(), video=video_desc)
    if cfg.target == "http":
        from .http_target import run_http

        run_http(cfg, videos, result, progress=progress)
    else:
        executors.configure(
            media_load_workers=cfg.media_load_workers, input_processing_workers=cfg.input_processing_workers
        )
        try:
            _run_inproc(cfg, videos, result, progress=progress)
        finally:
            executors.shutdown()
    write_outputs(cfg, result, echo=echo)
    return result


def _run_inproc(cfg: SweepConfig, videos: list[tuple[str, bytes]], result: SweepResult, *, progress: bool) -> None:
    if any(not data for _, data in videos):
        raise ValueError("the inproc target needs local video files (http URLs are for the http target)")
    factory = _processor_factory(cfg)
    points = [Point(m, f, c) for m in cfg.modes for f in cfg.fps for c in cfg.concurrency]
    paths: dict[str, RequestPath] = {}
    equal = check_trtllm_inputs(cfg, paths, factory, videos)
    bar = progress_bar(len(points), progress)
    warmed: set[str] = set()
    for point in points:
        mode = get_mode(point.mode)
        if point.mode not in paths:
            paths[point.mode] = RequestPath(mode, factory)
        path = paths[point.mode]
        if point.mode not in warmed:
            warmed.add(point.mode)
            _run_loop(mode, _inproc_point(path, point, videos[0][1], 1, cfg.max_seconds_per_point))  # warm-up
        total = LoadRun([], 0.0)
        for i, (_, data) in enumerate(videos):
            n = cfg.requests_for(point.concurrency)
            run = _run_loop(mode, _inproc_point(path, point, data, n, cfg.max_seconds_per_point))
            for x in run.samples:
                x["video"] = i
            total += run
        result.samples += total.samples
        row = summarize(point, total)
        tokens = [s["tokens"] for s in total.samples if s["ok"] and s.get("tokens") is not None]
        if tokens:
            row["tokens"] = int(statistics.median(tokens))
        if point.mode == "fast-trtllm" and equal:
            row["inputs_equal_trtllm_main"] = equal[point.fps]
        result.points.append(row)
        bar.update(1)
        bar.set_postfix_str(f"{point.mode} fps={point.fps:g} c={point.concurrency}")
    bar.close()


_MODEL_INPUTS = ("input_ids", "pixel_values_videos", "video_grid_thw")


def check_trtllm_inputs(cfg: SweepConfig, paths: dict[str, RequestPath], factory: Callable[[], Any],
                        videos: list[tuple[str, bytes]]) -> dict[float, bool]:
    """With both ``trtllm-main`` and ``fast-trtllm`` in the grid: for each fps and video, one
    request through each, compared with ``torch.equal``; raises ``ModelInputsMismatchError``
    on a difference. Returns {fps: True} (empty when the pair is not in the grid)."""
    if not {"trtllm-main", "fast-trtllm"} <= set(cfg.modes):
        return {}
    for name in ("trtllm-main", "fast-trtllm"):
        if name not in paths:
            paths[name] = RequestPath(get_mode(name), factory)
    for fps in cfg.fps:
        for label, data in videos:
            main, ours = (paths[m].run_once(data, fps) for m in ("trtllm-main", "fast-trtllm"))
            keys = _MODEL_INPUTS + (("second_per_grid_ts",) if "second_per_grid_ts" in main else ())
            bad = differing_keys(main, ours, keys)
            if bad:
                raise ModelInputsMismatchError(f"fast-trtllm and trtllm-main differ in {bad} at fps {fps:g} on {label}")
    return {fps: True for fps in cfg.fps}


# -- outputs ---------------------------------------------------------------------------


def _ms(v: Any) -> str:
    return f"{v * 1e3:.0f}" if isinstance(v, (int, float)) else "-"


def markdown_table(points: list[dict[str, Any]]) -> str:
    """One row per (fps, concurrency[, osl]); per mode req/s, latency, frames and tokens the
    model gets; for each pair of ``RATIO_PAIRS`` in the grid, req/s and p50 latency ratios."""
    modes = list(dict.fromkeys(p["mode"] for p in points))
    keys = list(dict.fromkeys((p["fps"], p["concurrency"], p["osl"]) for p in points))
    by = {(p["mode"], p["fps"], p["concurrency"], p["osl"]): p for p in points}
    http = any(p["osl"] for p in points)
    lat = "p50_ttft_s" if http else "p50_e2e_s"
    lat99 = "p99_ttft_s" if http else "p99_e2e_s"
    pairs = [(a, b) for a, b in RATIO_PAIRS if a in modes and b in modes]
    head = ["fps", "conc"] + (["osl"] if http else [])
    for m in modes:
        head += [f"{m} req/s", f"{m} {lat[4:-2]} p50 ms", f"{m} p99 ms", f"{m} frames", f"{m} tokens"]
    for a, b in pairs:
        head += [f"{a}/{b} req/s", f"{a}/{b} p50"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for fps, conc, osl in keys:
        cells = [f"{fps:g}", str(conc)] + ([str(osl)] if http else [])
        for m in modes:
            p = by.get((m, fps, conc, osl), {})
            rps = p.get("req_per_s")
            cells += [f"{rps:.2f}" if rps is not None else "-", _ms(p.get(lat)), _ms(p.get(lat99)),
                      str(p.get("frames_out", "-")), str(p.get("tokens", "-"))]
        for a, b in pairs:
            f, s = by.get((a, fps, conc, osl), {}), by.get((b, fps, conc, osl), {})
            sp = f.get("req_per_s") / s["req_per_s"] if s.get("req_per_s") and f.get("req_per_s") else None
            lr = f.get(lat) / s[lat] if s.get(lat) and f.get(lat) else None
            cells += [f"{sp:.2f}x" if sp else "-", f"{lr:.2f}" if lr else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def equality_note(points: list[dict[str, Any]]) -> str:
    """The line saying fast-trtllm's model inputs were checked equal to trtllm-main's ('' if not run)."""
    fps = sorted({p["fps"] for p in points if p.get("inputs_equal_trtllm_main")})
    if not fps:
        return ""
    return ("model inputs checked identical (torch.equal input_ids, pixel_values_videos, video_grid_thw): "
            f"fast-trtllm == trtllm-main at fps {', '.join(f'{f:g}' for f in fps)}")


def write_outputs(cfg: SweepConfig, result: SweepResult, *, echo: Callable[[str], None] = print) -> None:
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": str(out / "sweep.json"), "csv": str(out / "sweep.csv"), "markdown": str(out / "sweep.md")}
    columns = list(dict.fromkeys(k for p in result.points for k in p))
    with open(files["csv"], "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(result.points)
    table = markdown_table(result.points)
    note = equality_note(result.points)
    table += f"\n\n{note}" if note else ""
    Path(files["markdown"]).write_text(table + "\n")
    if cfg.plots:
        from .plots import plot_sweep

        files.update(plot_sweep(result.points, out))
    result.files = files
    with open(files["json"], "w") as f:
        json.dump(asdict(result), f, indent=1, default=str)
    sysinfo = result.system
    echo(f"\n{cfg.target} sweep on {sysinfo.get('cpu_model')} ({sysinfo.get('affinity_cores', sysinfo.get('cpu_count'))} cores)"
         f", video {result.video.get('generated', result.video.get('files'))}\n")
    echo(table)
    echo("")
    for kind, path in files.items():
        echo(f"{kind:9s} {path}")
