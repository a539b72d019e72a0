"""``trtllm-mmfast sweep``: the perf sweep's command line (perf/sweep.py calls the same).

Two workloads behind one command: ``grid`` (default; ``sweep.py``) and ``multiturn``
(``multiturn.py``); the config's ``workload`` key picks one, ``--workload`` overrides it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .modes import MODES

if TYPE_CHECKING:
    from .config import SweepConfig


def _floats(ctx: click.Context, param: click.Parameter, value: str | None) -> list[float] | None:
    if value is None:
        return None
    try:
        out = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {value!r}") from None
    if not out or any(v <= 0 for v in out):
        raise click.BadParameter(f"expected positive numbers, got {value!r}")
    return out


def _ints(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int] | None:
    out = _floats(ctx, param, value)
    if out is not None and any(v != int(v) for v in out):
        raise click.BadParameter(f"expected whole numbers, got {value!r}")
    return None if out is None else [int(v) for v in out]


def _modes(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    out = [v.strip() for v in value.split(",") if v.strip()]
    if out == ["all"]:
        return list(MODES)
    bad = [m for m in out if m not in MODES]
    if bad:
        raise click.BadParameter(f"unknown mode(s) {bad}; valid: {', '.join(MODES)}, or 'all'")
    return out


def _words(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    # Only split here: the config validates the values, so YAML and flags fail the same way.
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


_HELP = """Perf sweep of video preprocessing.

\b
--workload grid (default): fps x concurrency x mode. Writes sweep.json (every sample +
  system info), sweep.csv, sweep.md and plots (sweep.png, speedup.png).
--workload multiturn: --sessions chats of --turns turns; every turn resends the same video
  as a data: URL with a new question, through the server's in-process fast path (load in
  the media-load pool, the Qwen3-VL processor in the input-processing pool), once with the
  repeat-video cache on (one VideoCache of --cache-bytes shared by all sessions) and once
  off, side by side. Sessions use distinct clips (seed + session) so they never hit each
  other's entries; --shared-video gives all one clip. --concurrency sessions run at once
  (closed loop), after two unmeasured warm-up turns on a clip of their own; --modes does
  not apply. Reports turn 1 vs turn >= 2 p50/p99, the hit
  ratio and turn>=2 p99 / turn 1 p50 and p99; fails if a hit's model inputs differ from a
  cold turn's. Writes multiturn.json, .csv, .md, .png (default results/multiturn-quick).

\b
  trtllm-mmfast sweep --config configs/sweep-quick.yaml
  trtllm-mmfast sweep --config configs/multiturn-quick.yaml        # 374x374 10 s, 4 x 4
  trtllm-mmfast sweep --config configs/multiturn-quick.yaml --width 1280 --height 720 --duration 30
"""


@click.command("sweep", help=_HELP)
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="YAML sweep config (configs/sweep-quick.yaml, configs/sweep-full.yaml, "
                   "configs/multiturn-quick.yaml). Without it: the quick sweep's (or quick multiturn's) settings.")
@click.option("--workload", type=click.Choice(["grid", "multiturn", "image"]),
              help="grid (default): fps x concurrency x mode. multiturn: chat sessions resending one video, cache on vs off. "
                   "image: one image per request, stock vs trtllm-main vs fast (default a 1080p JPEG, c 1,4,16).")
@click.option("--sessions", type=click.IntRange(min=1), help="multiturn: chat sessions per point (default 4).")
@click.option("--turns", type=click.IntRange(min=1), help="multiturn: turns per session (default 4).")
@click.option("--cache", callback=_words, help="multiturn: cache settings to measure, comma-separated: on, off "
              "(default on,off).")
@click.option("--cache-bytes", help="multiturn: the shared cache's budget, e.g. 2GiB (default), 512M; 0 turns it off.")
@click.option("--shared-video/--distinct-videos", "shared_video", default=None,
              help="multiturn: one clip for all sessions, or one per session (seed + session; default).")
@click.option("--target", type=click.Choice(["inproc", "http"]), help="inproc (default): no server, no GPU. "
              "http: an OpenAI-compatible server at --url.")
@click.option("--fps", callback=_floats, help="Sampling fps values, comma-separated (e.g. 1,2,4; multiturn default 2).")
@click.option("--concurrency", callback=_ints, help="Concurrent requests, comma-separated (e.g. 1,4,16); "
              "multiturn: sessions at once (default 1).")
@click.option("--modes", callback=_modes, help=f"Comma-separated, or 'all': {', '.join(MODES)}.")
@click.option("--osl", callback=_ints, help="Output lengths (max_tokens) for the http target, comma-separated.")
@click.option("--video", "videos", multiple=True, help="Video file (or http URL for the http target) instead of "
              "the generated clip; repeatable.")
@click.option("--duration", "duration_s", type=click.FloatRange(min=0.1), help="Generated clip length in seconds.")
@click.option("--size", help="Generated clip size WxH, e.g. 374x374.")
@click.option("--width", type=click.IntRange(min=16), help="Generated clip width (or use --size).")
@click.option("--height", type=click.IntRange(min=16), help="Generated clip height (or use --size).")
@click.option("--processor", type=click.Path(exists=True, file_okay=False),
              help="HF processor directory (a Qwen3-VL, Qwen2.5-VL or Qwen2-VL checkpoint: its family is read off "
                   "the processor); default: the offline tiny processor of --model-family.")
@click.option("--model-family", type=click.Choice(["qwen3_vl", "qwen2_vl", "qwen2_5_vl"]),
              help="The tiny offline processor to use (default qwen3_vl): Qwen3-VL, Qwen2-VL or Qwen2.5-VL.")
@click.option("--media-load-workers", type=click.IntRange(min=1), help="Media-load pool size (default 8).")
@click.option("--input-processing-workers", type=click.IntRange(min=1), help="Input-processing pool size (default 8).")
@click.option("--requests-per-concurrency", type=click.IntRange(min=1), help="Requests per point = this x concurrency.")
@click.option("--max-seconds-per-point", type=click.FloatRange(min=0.1), help="Stop a point after this long.")
@click.option("--url", help="http target: server base URL (loopback unless --allow-remote).")
@click.option("--model", help="http target: model name to send.")
@click.option("--video-url-form", type=click.Choice(["data", "file", "http"]), help="http target: how the video is sent.")
@click.option("--allow-remote", is_flag=True, default=None, help="http target: allow a non-loopback server.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output directory.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--image", "images", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="workload image: an image file to send (repeatable); default one generated 1920x1080 JPEG.")
def sweep(config_path: str | None, size: str | None, videos: tuple[str, ...], images: tuple[str, ...], no_plots: bool,
          no_progress: bool, **overrides: object) -> None:
    from ..errors import MMFastError
    from .config import load_config

    if size:
        try:
            w, h = (int(v) for v in size.lower().split("x"))
        except ValueError:
            raise click.BadParameter(f"expected WxH, got {size!r}", param_hint="--size") from None
        overrides.update(width=w, height=h)
    if videos:
        overrides["videos"] = list(videos)
    if images:
        overrides["images"] = list(images)
    if no_plots:
        overrides["plots"] = False
    try:
        cfg = load_config(config_path, **overrides)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    try:
        _run(cfg, progress=not no_progress)
    except (MMFastError, OSError, ValueError) as e:
        raise click.ClickException(str(e)) from None


def _run(cfg: "SweepConfig", *, progress: bool) -> None:
    # A CacheMismatchError (a hit's model inputs differ from a cold turn's) propagates with its traceback.
    if cfg.workload == "multiturn":
        from .multiturn import run_multiturn

        run_multiturn(cfg, progress=progress, echo=click.echo)
    elif cfg.workload == "image":
        from .images import run_images

        run_images(cfg, progress=progress, echo=click.echo)
    else:
        from .sweep import run_sweep

        run_sweep(cfg, progress=progress, echo=click.echo)
