"""The ``trtllm-mmfast`` command: ``info``, ``serve``, ``decode`` and ``sweep``."""

from __future__ import annotations

import json
import logging
import sys
import time

import click

from ._version import __version__


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
    """Print library versions, which video backends are usable here, the TensorRT-LLM
    API generation detected and which hooks `enable()` / `serve` would apply (a dry run:
    nothing is patched; TensorRT-LLM is imported when installed, which can take a while)."""
    from .integrations.tensorrt_llm import summary
    from .versions import library_versions
    from .video.registry import available

    report = {"versions": library_versions(), "backends": available(), "tensorrt_llm": summary()}
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    click.echo("versions:")
    for k, v in report["versions"].items():
        click.echo(f"  {k:22s} {v if v is not None else '-- not installed'}")
    click.echo("video backends:")
    for name, reason in report["backends"].items():
        click.echo(f"  {name:22s} {'available' if reason is None else 'unavailable: ' + reason}")
    _echo_trtllm(report["tensorrt_llm"])


def _echo_trtllm(trt: dict) -> None:
    from .integrations.tensorrt_llm import format_report

    click.echo("tensorrt_llm:")
    if not trt["installed"]:
        click.echo(f"  not installed (for `serve` / enable(): {trt['hint']})")
    elif "error" in trt:
        click.echo(f"  installed, but the hooks cannot be planned: {trt['error']}")
    else:
        for line in format_report(trt):
            click.echo("  " + line)


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": ["-h", "--help"]}
)
@click.argument("model")
@click.argument("trtllm_serve_args", nargs=-1, type=click.UNPROCESSED)
@click.option(
    "--media-load-workers",
    type=click.IntRange(min=1),
    default=None,
    help="Threads decoding videos [env TRTLLM_MMFAST_MEDIA_LOAD_WORKERS; default 8].",
)
@click.option(
    "--input-processing-workers",
    type=click.IntRange(min=1),
    default=None,
    help="Threads running the HF input processor [env TRTLLM_MMFAST_INPUT_PROCESSING_WORKERS; default 8].",
)
@click.option("--video-backend", default="auto", show_default=True, help="Video decoder backend (see `info`).")
@click.option(
    "--video-sampling",
    type=click.Choice(["hf", "trtllm"]),
    default=None,
    help="Which frames the model gets: 'hf' = what transformers' processor picks from the whole clip; "
    "'trtllm' = exactly what stock TensorRT-LLM feeds the model (only those are decoded) "
    "[env TRTLLM_MMFAST_VIDEO_SAMPLING; default hf].",
)
@click.option(
    "--video-cache-bytes",
    default=None,
    metavar="SIZE",
    help="Repeat-video cache budget, e.g. 4GiB or 500M; 0 turns it off. A chat resending a video "
    "pays for it once. Per process: each --num_serve_frontends frontend has its own "
    "[env TRTLLM_MMFAST_VIDEO_CACHE_BYTES; default 2GiB].",
)
@click.option(
    "--decoder-threads",
    type=click.IntRange(min=1),
    default=None,
    help="FFmpeg threads per video. Under load the pools are the parallelism (keep 1); with few "
    "concurrent requests on idle cores more threads lower latency [env TRTLLM_MMFAST_DECODER_THREADS; default 1].",
)
@click.option(
    "--resize-on-decode",
    type=click.Choice(["on", "off"]),
    default=None,
    help="Keep only frames resized as the processor resizes them, as they are decoded (a 1080p 60 s "
    "request holds ~1 MiB of frames instead of ~700), where everything TensorRT-LLM computes stays "
    "stock's; 'off' keeps full-resolution frames [env TRTLLM_MMFAST_RESIZE_ON_DECODE; default on].",
)
@click.pass_context
def serve(
    ctx: click.Context,
    model: str,
    trtllm_serve_args: tuple[str, ...],
    media_load_workers: int | None,
    input_processing_workers: int | None,
    video_backend: str,
    video_sampling: str | None,
    video_cache_bytes: str | None,
    decoder_threads: int | None,
    resize_on_decode: str | None,
) -> None:
    """Run TensorRT-LLM's trtllm-serve for MODEL with trtllm-mmfast's video path.

    Applies trtllm_mmfast.integrations.tensorrt_llm.enable() (exact Qwen3-VL sampling,
    in-memory decode, sized pools, the fast Qwen3-VL input processor; see `info`), then runs
    TensorRT-LLM's own `trtllm-serve` command in this process. Every option not listed here
    is passed to trtllm-serve untouched (see `trtllm-serve --help`), e.g.

    \b
        trtllm-mmfast serve Qwen/Qwen3-VL-8B-Instruct --media-load-workers 16 \\
            --host 0.0.0.0 --port 8000 --extra_llm_api_options qwen3vl.yaml

    Where trtllm-serve has its own --num_media_load_workers / --num_input_processor_workers
    (newer TensorRT-LLM), the worker counts are passed on to them as well. With
    --num_serve_frontends N, every frontend trtllm-serve starts re-enters
    `trtllm-mmfast serve` with the same options, so each applies the same hooks.

    \b
    Needs TensorRT-LLM:  pip install 'trtllm-mmfast[trtllm]'
    """
    import importlib.util

    if importlib.util.find_spec("tensorrt_llm") is None:
        click.echo(
            "Error: `trtllm-mmfast serve` needs TensorRT-LLM, which is not installed here; "
            "install it with: pip install 'trtllm-mmfast[trtllm]'",
            err=True,
        )
        ctx.exit(2)
    from .errors import MMFastError
    from .integrations.tensorrt_llm import enable, reexec_argv, serve_argv, with_argv
    from .video.registry import resolve

    try:
        resolve(video_backend)
    except (ValueError, ImportError) as e:
        raise click.BadParameter(str(e), param_hint="'--video-backend'") from None
    try:
        report = enable(
            media_load_workers=media_load_workers,
            input_processing_workers=input_processing_workers,
            video_backend=video_backend,
            video_sampling=video_sampling,  # type: ignore[arg-type]
            video_cache_bytes=video_cache_bytes,
            decoder_threads=decoder_threads,
            resize_on_decode=None if resize_on_decode is None else resize_on_decode == "on",
        )
    except (MMFastError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"trtllm-mmfast: {report}", err=True)
    from tensorrt_llm.commands.serve import main as trtllm_serve

    try:
        argv = serve_argv(
            trtllm_serve.commands.get("serve"),
            model,
            trtllm_serve_args,
            media_load_workers=media_load_workers,
            input_processing_workers=input_processing_workers,
        )
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    ours = {"media_load_workers": media_load_workers, "input_processing_workers": input_processing_workers,
            "video_backend": video_backend, "video_sampling": video_sampling, "video_cache_bytes": video_cache_bytes,
            "decoder_threads": decoder_threads, "resize_on_decode": resize_on_decode}
    with with_argv(reexec_argv(model, trtllm_serve_args, ours)):  # what extra frontends re-execute
        rc = trtllm_serve.main(args=argv, prog_name="trtllm-serve", standalone_mode=False)
    if isinstance(rc, int) and rc != 0:
        ctx.exit(rc)


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
