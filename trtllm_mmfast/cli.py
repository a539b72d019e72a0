"""The ``trtllm-mmfast`` command: ``info``, ``decode`` (and ``serve``, ``sweep`` as they land)."""

from __future__ import annotations

import json
import logging
import sys
import time

import click

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trtllm-mmfast")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def main(verbose: int) -> None:
    """Fast, exact video preprocessing for TensorRT-LLM's trtllm-serve (Qwen3-VL first)."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def info(as_json: bool) -> None:
    """Print library versions and which video backends are usable here."""
    from .versions import library_versions
    from .video.backend import available

    report = {"versions": library_versions(), "backends": available()}
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    click.echo("versions:")
    for k, v in report["versions"].items():
        click.echo(f"  {k:22s} {v if v is not None else '-- not installed'}")
    click.echo("video backends:")
    for name, reason in report["backends"].items():
        click.echo(f"  {name:22s} {'available' if reason is None else 'unavailable: ' + reason}")


@main.command()
@click.argument("source")
@click.option("--fps", type=float, default=None, help="Frames per second to sample (qwen3_vl default: 2).")
@click.option("--num-frames", type=click.IntRange(min=1), default=None, help="Number of frames to sample.")
@click.option("--sampler", type=click.Choice(["qwen3_vl", "uniform"]), default="qwen3_vl", show_default=True)
@click.option("--backend", default="auto", show_default=True, help="Video backend name (see `info`).")
def decode(source: str, fps: float | None, num_frames: int | None, sampler: str, backend: str) -> None:
    """Decode SOURCE (path, file:// or data: URL) and print what was sampled and how long it took."""
    from .errors import MMFastError
    from .video.api import load_video

    t0 = time.perf_counter()
    try:
        video = load_video(source, fps=fps, num_frames=num_frames, sampler=sampler, backend=backend)
    except (MMFastError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    dt = time.perf_counter() - t0
    m = video.metadata
    click.echo(
        f"{m.backend}: {len(video)} frames {tuple(video.frames.shape)} of {m.total_num_frames} "
        f"({m.width}x{m.height} @ {m.fps:g} fps, {m.duration:.2f}s) in {dt * 1000:.1f} ms; "
        f"indices {list(m.frames_indices[:8])}{' ...' if len(m.frames_indices) > 8 else ''}"
    )


from .bench.cli import sweep  # noqa: E402

main.add_command(sweep)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
