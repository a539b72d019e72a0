"""The multi-turn chat workload: every turn resends the whole conversation, video included.

A chat client sends the full history each turn, so a server sees the same video (a ``data:``
URL) ``turns`` times per session. This measures the preprocessing it pays per turn on the
in-process fast path (``load_video_async`` in the media-load pool, the wrapped Qwen3-VL
processor in the input-processing pool) with the repeat-video cache ``on`` (one
``VideoCache(cache_bytes)`` shared by all sessions) and ``off`` (none), side by side. With
the cache, turn >= 2 pays only for base64-decoding and hashing the source and the text side.

``concurrency`` workers run whole sessions (turns in order) as a closed loop; each (cache,
fps, concurrency) point gets a fresh cache. Exactness is checked: a hit's model inputs are
``torch.equal`` to the cold turn's, and every turn's inputs hash the same with the cache on
and off; else ``CacheMismatchError``. Writes ``multiturn.json`` / ``.csv`` / ``.md`` / ``.png``.
"""

from __future__ import annotations

import base64
import csv
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ._common import closed_loop, differing_keys, inputs_digest, percentile, progress_bar
from .config import SweepConfig

__all__ = ["CacheMismatchError", "MultiturnResult", "markdown_table", "prompt_for", "run_multiturn"]

TURN_CLASSES = ("1", ">=2")
_URL_PREFIX = "data:video/mp4;base64,"


class CacheMismatchError(RuntimeError):
    """Model inputs built from cached results differ from those built from a fresh decode."""


def prompt_for(turn: int) -> str:
    """The text a chat client sends at ``turn`` (1-based): the video and question 1, then
    each earlier answer and the next question, so the text side grows as a real chat's does."""
    text = "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>Question 1: what happens in the video?<|im_end|>\n"
    for t in range(2, turn + 1):
        text += (f"<|im_start|>assistant\nAnswer {t - 1}.<|im_end|>\n"
                 f"<|im_start|>user\nQuestion {t}: and what happens after that?<|im_end|>\n")
    return text + "<|im_start|>assistant\n"


@dataclass
class MultiturnResult:
    """Everything ``multiturn.json`` holds (layout in ``run_multiturn``'s docstring)."""

    config: dict[str, Any]
    system: dict[str, Any]
    videos: list[dict[str, Any]]
    samples: list[dict[str, Any]] = field(default_factory=list)
    points: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    workload: str = "multiturn"


# -- videos --------------------------------------------------------------------------------


def session_videos(cfg: SweepConfig) -> tuple[list[str], list[dict[str, Any]]]:
    """The base64 payload each session sends (index = session; one more at the end: the
    warm-up's) and a description of each session's. Files given in ``videos`` are dealt round
    robin; else generated clips, one per session (seed + session) unless ``shared_video``,
    and the warm-up's own (seed + sessions), so no session resends the warmed-up video."""
    from ..synth import ClipSpec, cached_clip

    payloads: dict[str, str] = {}  # one encoding per distinct file: sessions sharing one share it
    out, desc = [], []
    for s in range(cfg.sessions + 1):
        if cfg.videos:
            path = Path(cfg.videos[s % len(cfg.videos)].removeprefix("file://"))
            info: dict[str, Any] = {"file": str(path)}
        else:
            seed = cfg.seed + (0 if cfg.shared_video and s < cfg.sessions else s)
            spec = ClipSpec(width=cfg.width, height=cfg.height, num_frames=round(cfg.duration_s * cfg.video_fps),
                            fps=cfg.video_fps, gop=cfg.gop, seed=seed)
            path = cached_clip(spec)
            info = {"generated": asdict(spec)}
        if str(path) not in payloads:
            payloads[str(path)] = base64.b64encode(path.read_bytes()).decode("ascii")
        out.append(payloads[str(path)])
        desc.append({"session": s, "path": str(path), "bytes": path.stat().st_size,
                     "data_url_chars": len(out[-1]) + len(_URL_PREFIX), **info})
    return out, desc[:-1]


# -- one point: all sessions under one cache setting -----------------------------------------


@dataclass
class _Point:
    """The state of one (cache, fps, concurrency) run."""

    cache_setting: str
    fps: float
    concurrency: int
    fast: Any  # the wrapped processor (with this point's cache, if on)
    sampler: Any
    cache: Any  # VideoCache or None
    payloads: list[str]
    turns: int
    reference: dict[str, Any] = field(default_factory=dict)  # session 0's turn-1 model inputs

    def key(self) -> dict[str, Any]:
        return {"cache": self.cache_setting, "fps": self.fps, "concurrency": self.concurrency}


async def _turn(pt: _Point, session: int, turn: int, *, prompt_turn: int | None = None) -> tuple[dict[str, Any], Any]:
    """One request: the preprocessing a server does for this turn. A failure is a data point."""
    from ..runtime import pipeline
    from ..runtime.stats import StageTimings, Stats

    url = _URL_PREFIX + pt.payloads[session]  # a fresh string each turn, as a server parses a fresh body
    timings = StageTimings()
    sample: dict[str, Any] = {**pt.key(), "session": session, "turn": turn, "ok": False}
    out = None
    t0 = time.perf_counter()
    try:
        video = await pipeline.load_video_async(url, fps=pt.fps, sampler=pt.sampler, cache=pt.cache,
                                                timings=timings, stats=Stats())
        t1 = time.perf_counter()
        with pipeline.holding(video):
            out = await pipeline.process_async(pt.fast, text=[prompt_for(prompt_turn or turn)], videos=video,
                                               padding=True, timings=timings, stats=Stats())
        t2 = time.perf_counter()
        sample.update(ok=True, load_s=t1 - t0, process_s=t2 - t1, e2e_s=t2 - t0, stages=timings.as_dict(),
                      frames_out=int(out["video_grid_thw"][0, 0]) * 2)
    except Exception as e:  # noqa: BLE001 (recorded, counted as an error in the rows)
        sample.update(error=f"{type(e).__name__}: {e}", e2e_s=time.perf_counter() - t0)
    return sample, out


def _check_equal(ref: Any, out: Any, keys: tuple[str, ...], what: str) -> None:
    bad = differing_keys(ref, out, keys)
    if bad:
        k = bad[0]
        raise CacheMismatchError(f"{what}: {k} differs from the cold turn's ({tuple(out[k].shape)} vs "
                                 f"{tuple(ref[k].shape)}): the cache returned other model inputs")


async def _session(pt: _Point, session: int) -> dict[str, Any]:
    samples = []
    for turn in range(1, pt.turns + 1):
        sample, out = await _turn(pt, session, turn)
        if out is not None:
            sample["inputs_digest"] = inputs_digest(out)
            if session == 0 and turn == 1:
                pt.reference = dict(out)
            elif session == 0 and turn == 2 and pt.reference:  # video tensors do not depend on the question
                _check_equal(pt.reference, out, ("pixel_values_videos", "video_grid_thw"), "session 0 turn 2")
        samples.append(sample)
    return {"samples": samples}


async def _run_point(pt: _Point, sessions: int, max_s: float) -> dict[str, Any]:
    """Warm-up, the sessions, the cache stats, then a re-send of session 0's turn-1 question
    (after the stats: it is a check, not part of the workload)."""
    # Two warm-up turns (a video of its own) on the point's own objects take lazy imports and
    # the first-call costs of the cold and the hit path off the record; then the cache forgets
    # them (counts are taken as differences). A second cache cannot: one HF processor has one.
    for turn in (1, 2):
        await _turn(pt, -1, turn)
    before = pt.cache.clear() or pt.cache.stats() if pt.cache is not None else None  # clear() is None
    run = await closed_loop(pt.concurrency, sessions, max_s, lambda s: _session(pt, s))
    stats = _stats_since(before, pt.cache.stats()) if before is not None else None
    resent = None  # not checked: no cache, one turn, or session 0's turn 1 failed
    if pt.cache is not None and pt.reference and pt.turns >= 2:
        _, out = await _turn(pt, 0, pt.turns + 1, prompt_turn=1)
        if out is None:
            raise CacheMismatchError("re-sending session 0's turn-1 question failed on the cached path")
        _check_equal(pt.reference, out, tuple(sorted(pt.reference)), "session 0, turn-1 question re-sent")
        resent = True
    samples = sorted((x for s in run.samples for x in s["samples"]), key=lambda x: (x["session"], x["turn"]))
    return {"samples": samples, "wall_s": run.wall_s, "cache_stats": stats, "resent_equal": resent}


def _stats_since(before: dict[str, int], now: dict[str, int]) -> dict[str, int]:
    """Counts (hits, misses, ...) since ``before``; entries, bytes, max_bytes as they are now."""
    return {k: v - before[k] if k not in ("entries", "bytes", "max_bytes") else v for k, v in now.items()}


# -- rows ------------------------------------------------------------------------------------


def _quantiles(samples: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [s for s in samples if s["ok"]]
    row: dict[str, Any] = {"requests": len(samples), "errors": len(samples) - len(ok)}
    for key in ("e2e_s", "load_s", "process_s"):
        for q, name in ((0.5, "p50"), (0.99, "p99")):
            v = percentile([s[key] for s in ok], q)
            row[f"{name}_{key}"] = round(v, 6) if v is not None else None
    return row


def hit_ratio(stats: dict[str, int] | None) -> float | None:
    """Lookups answered without computing (hits + joins) over all lookups; None: no cache."""
    lookups = stats["hits"] + stats["joins"] + stats["misses"] if stats is not None else 0
    return (stats["hits"] + stats["joins"]) / lookups if stats is not None and lookups else None


def summarize_point(
    key: dict[str, Any], ran: dict[str, Any], cfg: SweepConfig, video_of: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The point's summary and its two rows (turn 1, turn >= 2); each row repeats the point's
    hit ratio and ratios so the CSV reads on its own. ``video_of``: each session's video path."""
    samples = ran["samples"]
    by_class = {"1": [s for s in samples if s["turn"] == 1], ">=2": [s for s in samples if s["turn"] >= 2]}
    q = {c: _quantiles(v) for c, v in by_class.items()}
    t1_p50, t1_p99, t2_p99 = q["1"]["p50_e2e_s"], q["1"]["p99_e2e_s"], q[">=2"]["p99_e2e_s"]
    # every lookup but each distinct video's first one hits (frames and processed alike)
    distinct = {video_of[s["session"]] for s in samples}
    expected = 1 - len(distinct) / len(samples) if samples else 0.0
    point = {
        **key, "sessions": cfg.sessions, "turns": cfg.turns, "wall_s": round(ran["wall_s"], 4),
        "hit_ratio": hit_ratio(ran["cache_stats"]),
        "expected_hit_ratio": None if key["cache"] == "off" else round(expected, 6),
        "turn2_p99_over_turn1_p50": round(t2_p99 / t1_p50, 4) if t1_p50 and t2_p99 is not None else None,
        "turn2_p99_over_turn1_p99": round(t2_p99 / t1_p99, 4) if t1_p99 and t2_p99 is not None else None,
        "cache_stats": ran["cache_stats"], "resent_equal": ran["resent_equal"],
    }
    shared = {k: point[k] for k in ("hit_ratio", "turn2_p99_over_turn1_p50", "turn2_p99_over_turn1_p99")}
    rows = [{**key, "turns": c, **q[c], **shared} for c in TURN_CLASSES]
    return point, rows


def check_on_equals_off(samples: list[dict[str, Any]]) -> int:
    """Every turn's model inputs hash the same with the cache on and off; returns how many
    turns were compared (0 when only one setting ran)."""
    seen: dict[tuple, dict[str, str]] = {}
    for s in samples:
        if "inputs_digest" in s:
            seen.setdefault((s["fps"], s["concurrency"], s["session"], s["turn"]), {})[s["cache"]] = s["inputs_digest"]
    compared = 0
    for (fps, conc, session, turn), digests in sorted(seen.items()):
        if len(digests) == 2:
            compared += 1
            if len(set(digests.values())) != 1:
                raise CacheMismatchError(f"session {session} turn {turn} (fps {fps:g}, concurrency {conc}): "
                                         f"model inputs differ between cache on and off: {digests}")
    return compared


# -- the run -------------------------------------------------------------------------------


def _make_point(cfg: SweepConfig, hf: Any, setting: str, fps: float, conc: int, payloads: list[str]) -> _Point:
    from ..cache import VideoCache
    from ..processors.qwen3_vl import sampler_for, wrap

    # "off" is no cache at all, not a disabled VideoCache(0), which would still hash the source.
    # Fresh per point (no carry-over); wrap() re-points this hf's processed-video cache to it.
    cache = VideoCache(int(cfg.cache_bytes)) if setting == "on" else None
    return _Point(setting, fps, conc, wrap(hf, cache=cache), sampler_for(hf), cache, payloads, cfg.turns)


def run_multiturn(cfg: SweepConfig, *, progress: bool = True, echo: Callable[[str], None] = print) -> MultiturnResult:
    """Run the multi-turn workload and write its outputs. ``multiturn.json``:
    ``{workload, config, system, videos: [per session: path, bytes, data_url_chars, generated
    spec], samples: [per turn: cache, fps, concurrency, session, turn, ok, load_s, process_s,
    e2e_s, stages, frames_out, inputs_digest], points: [per (cache, fps,
    concurrency): hit_ratio, expected_hit_ratio, turn2_p99_over_turn1_p50/_p99, cache_stats,
    wall_s], rows: [per point and turn class "1" / ">=2": requests, errors, p50/p99 of e2e_s,
    load_s, process_s], checks, files}``."""
    from ..runtime import executors
    from ..runtime.loop import run
    from ..versions import system_info
    from .sweep import _processor_factory

    payloads, videos = session_videos(cfg)
    result = MultiturnResult(config=asdict(cfg), system=system_info(), videos=videos)
    grid = [(c, f, n) for f in cfg.fps for n in cfg.concurrency for c in cfg.cache]
    bar = progress_bar(len(grid), progress)
    executors.configure(media_load_workers=cfg.media_load_workers, input_processing_workers=cfg.input_processing_workers)
    try:
        factory = _processor_factory(cfg)
        hfs = {c: factory() for c in cfg.cache}  # one per setting, as the grid sweep has one per mode
        for setting, fps, conc in grid:
            pt = _make_point(cfg, hfs[setting], setting, fps, conc, payloads)
            ran = run(_run_point(pt, cfg.sessions, cfg.max_seconds_per_point))
            point, rows = summarize_point(pt.key(), ran, cfg, [v["path"] for v in videos])
            result.samples += ran["samples"]
            result.points.append(point)
            result.rows += rows
            bar.update(1)
            bar.set_postfix_str(f"cache {setting} fps={fps:g} c={conc}")
    finally:
        bar.close()
        executors.shutdown()
    resent = [p["resent_equal"] for p in result.points if p["resent_equal"] is not None]  # a mismatch raised
    result.checks = {"on_equals_off_turns": check_on_equals_off(result.samples),
                     "hit_equals_cold": all(resent) if resent else None}
    write_outputs(cfg, result, echo=echo)
    return result


# -- outputs ---------------------------------------------------------------------------------


def _ms(v: Any) -> str:
    return f"{v * 1e3:.1f}" if isinstance(v, (int, float)) else "-"


def markdown_table(points: list[dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    """One line per (fps, concurrency, cache): turn 1 and turn >= 2 p50 / p99, the ratios,
    the hit ratio, and how much faster turn >= 2 is than with the cache off."""
    by = {(r["cache"], r["fps"], r["concurrency"], r["turns"]): r for r in rows}
    head = ["fps", "conc", "cache", "turn 1 p50 ms", "turn 1 p99 ms", "turn>=2 p50 ms", "turn>=2 p99 ms",
            "t>=2 p99 / t1 p50", "t>=2 p99 / t1 p99", "hit ratio", "t>=2 p50 off/on"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in points:
        k = (p["fps"], p["concurrency"])
        t1, t2 = by[(p["cache"], *k, "1")], by[(p["cache"], *k, ">=2")]
        off = by.get(("off", *k, ">=2"), {}).get("p50_e2e_s")
        speed = f"{off / t2['p50_e2e_s']:.1f}x" if p["cache"] == "on" and off and t2["p50_e2e_s"] else "-"
        ratio = [f"{p[r]:.3f}" if p[r] is not None else "-" for r in ("turn2_p99_over_turn1_p50", "turn2_p99_over_turn1_p99")]
        hr = f"{p['hit_ratio']:.3f}" if p["hit_ratio"] is not None else "-"
        lines.append("| " + " | ".join([f"{p['fps']:g}", str(p["concurrency"]), p["cache"], _ms(t1["p50_e2e_s"]),
                                        _ms(t1["p99_e2e_s"]), _ms(t2["p50_e2e_s"]), _ms(t2["p99_e2e_s"]),
                                        *ratio, hr, speed]) + " |")
    return "\n".join(lines)


def plot_multiturn(rows: list[dict[str, Any]], out_dir: Path) -> dict[str, str]:
    """Bars: p50 and p99 preprocessing time of turn 1 and turn >= 2, cache on vs off (first
    fps / concurrency point; the table has them all)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = (rows[0]["fps"], rows[0]["concurrency"])
    mine = sorted((r for r in rows if (r["fps"], r["concurrency"]) == first), key=lambda r: r["turns"])
    labels = [f"{r['turns'].replace('>=', '≥')}\ncache {r['cache']}" for r in mine]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = range(len(mine))
    for offset, q in ((-0.2, "p50"), (0.2, "p99")):
        ax.bar([x + offset for x in xs], [(r[f"{q}_e2e_s"] or 0) * 1e3 for r in mine], width=0.4, label=q)
    ax.set_xticks(list(xs), [f"turn {lb}" for lb in labels], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylim(top=ax.get_ylim()[1] * 4)  # headroom for the legend above the bars
    ax.set_ylabel("preprocessing per request (ms, load + process)")
    ax.set_title(f"multi-turn chat: repeat-video cache on vs off (fps={first[0]:g}, concurrency={first[1]})")
    ax.grid(alpha=0.3, axis="y")
    ax.legend()
    fig.tight_layout()
    files = {"plot": str(out_dir / "multiturn.png")}
    fig.savefig(files["plot"], dpi=110)
    plt.close(fig)
    return files


def write_outputs(cfg: SweepConfig, result: MultiturnResult, *, echo: Callable[[str], None] = print) -> None:
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {k: str(out / f"multiturn.{ext}") for k, ext in (("json", "json"), ("csv", "csv"), ("markdown", "md"))}
    columns = list(dict.fromkeys(k for r in result.rows for k in r))
    with open(files["csv"], "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(result.rows)
    table = markdown_table(result.points, result.rows)
    Path(files["markdown"]).write_text(table + "\n")
    if cfg.plots:
        try:
            files.update(plot_multiturn(result.rows, out))
        except ImportError:  # matplotlib is in the perf extra: the table and JSON are the result
            pass
    result.files = files
    with open(files["json"], "w") as f:
        json.dump(asdict(result), f, indent=1, default=str)
    sysinfo = result.system
    echo(f"\nmultiturn: {cfg.sessions} sessions x {cfg.turns} turns on {sysinfo.get('cpu_model')} "
         f"({sysinfo.get('affinity_cores', sysinfo.get('cpu_count'))} cores), "
         f"{cfg.width}x{cfg.height} {cfg.duration_s:g} s clips, cache {int(cfg.cache_bytes) / 2**30:g} GiB\n")
    echo(table)
    echo("")
    for kind, path in files.items():
        echo(f"{kind:9s} {path}")
