"""``load_video``: resolve the source, probe, sample, decode exactly the sampled frames."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from ..errors import InvalidMediaError
from ..types import VideoFrames, VideoMetadata
from .backend import resolve
from .limits import DEFAULT_LIMITS, Limits
from .policy import SourcePolicy
from .sampling import SamplerLike, get_sampler
from .source import SourceLike, resolve_source

__all__ = ["DEFAULT_DECODER_THREADS", "LoadTrace", "load_video"]

log = logging.getLogger(__name__)

# One decoder thread per request: under serving load the pools give the parallelism, and
# FFmpeg's unbounded default (one thread per core per decode) oversubscribes the CPU.
DEFAULT_DECODER_THREADS = 1


@dataclass
class LoadTrace:
    """Optional ``load_video(..., trace=...)`` record and hook (the async runtime passes one).

    ``load_video`` fills ``read_s`` (resolve source, open, probe, sample) and ``decode_s``.
    ``on_plan``, when set, is called with the bytes the frame array will take, after sampling
    and before it is allocated; it may block (a frame budget) or raise to abort the load.
    """

    on_plan: Callable[[int], None] | None = None
    read_s: float = 0.0
    decode_s: float = 0.0


def load_video(
    source: SourceLike,
    *,
    fps: float | None = None,
    num_frames: int | None = None,
    sampler: SamplerLike = "qwen3_vl",
    backend: str = "auto",
    limits: Limits | None = None,
    decoder_threads: int | None = None,
    trace: LoadTrace | None = None,
    policy: SourcePolicy | None = None,
) -> VideoFrames:
    """Decode the frames ``sampler`` picks from ``source`` into one uint8 (N, H, W, 3) RGB array.

    ``source``: bytes, a path, a ``file://`` URL or a ``data:video/...;base64,`` URL.
    ``fps`` / ``num_frames``: the request's sampling (mutually exclusive for ``qwen3_vl``).
    ``sampler``: ``"qwen3_vl"`` (what transformers' Qwen3-VL processor picks), ``"uniform"``
    (TensorRT-LLM's stock loader) or a sampler object (``sampler_for(processor)``).
    ``backend``: ``"auto"`` (fastest exact backend installed) or a name from ``backends()``.
    Bad input raises ``InvalidMediaError``; a limit, ``MediaTooLargeError``.
    ``trace``: a ``LoadTrace`` to fill with stage times (and whose ``on_plan`` sees the frame bytes).
    ``policy``: a ``SourcePolicy`` limiting which local files may be read (default: any).
    """
    t0 = time.perf_counter()
    limits = limits or DEFAULT_LIMITS
    threads = DEFAULT_DECODER_THREADS if decoder_threads is None else int(decoder_threads)
    if threads < 1:
        raise ValueError(f"decoder_threads must be >= 1, got {decoder_threads}")
    sample = get_sampler(sampler)
    chosen = resolve(backend)
    src = resolve_source(source, limits=limits, policy=policy)
    video = chosen.open(src, decoder_threads=threads)
    try:
        info = video.info
        limits.check_stream(
            width=info.width,
            height=info.height,
            total_num_frames=info.total_num_frames,
            duration=info.duration,
            received=src.label,
        )
        indices = sample(info.total_num_frames, info.fps, fps=fps, num_frames=num_frames)
        limits.check_output(len(indices), src.label)
        if trace is not None:
            trace.read_s = time.perf_counter() - t0
            if trace.on_plan is not None:
                trace.on_plan(len(indices) * info.height * info.width * 3)
            t0 = time.perf_counter()
        frames, decoded = video.decode(indices)
        info = video.info  # a backend may learn the display rotation (hence width/height) while decoding
        damage = getattr(video, "damage", None)
        if trace is not None:
            trace.decode_s = time.perf_counter() - t0
    finally:
        video.close()
    if len(decoded) == 0:
        why = f" ({damage})" if damage else ""
        raise InvalidMediaError(f"{src.label}: no frame could be decoded (damaged or truncated video){why}")
    problems = [damage] if damage else []
    if len(decoded) < len(indices):
        missing = sorted(set(indices.tolist()) - set(decoded.tolist()))
        problems.append(
            f"{len(missing)} of {len(set(indices.tolist()))} sampled frames could not be decoded"
            f" and are left out (indices {missing[:10]}{' ...' if len(missing) > 10 else ''})"
        )
    if problems:
        log.warning("%s: incomplete decode: %s", src.label, "; ".join(problems))
    meta = VideoMetadata(
        total_num_frames=info.total_num_frames,
        fps=info.fps,
        duration=info.duration,
        width=info.width,
        height=info.height,
        frames_indices=tuple(int(i) for i in decoded),
        backend=chosen.name,
    )
    return VideoFrames(frames=frames, metadata=meta)
