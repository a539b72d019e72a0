"""``load_video``: the load path's steps in a row (see ``reader``): open, sample, decode."""

from __future__ import annotations

from ..types import VideoFrames
from .backend import Allocator
from .limits import Limits
from .policy import SourcePolicy
from .reader import DEFAULT_DECODER_THREADS, OpenedVideo, open_video
from .sampling import SamplerLike, get_sampler
from .source import SourceLike

__all__ = ["DEFAULT_DECODER_THREADS", "OpenedVideo", "load_video", "open_video"]


def load_video(
    source: SourceLike,
    *,
    fps: float | None = None,
    num_frames: int | None = None,
    sampler: SamplerLike = "qwen3_vl",
    backend: str = "auto",
    limits: Limits | None = None,
    decoder_threads: int | None = None,
    policy: SourcePolicy | None = None,
    allocator: Allocator | None = None,
) -> VideoFrames:
    """Decode the frames ``sampler`` picks from ``source`` into one uint8 (N, H, W, 3) RGB array.

    ``source``: bytes, a path, a ``file://`` URL or a ``data:video/...;base64,`` URL.
    ``fps`` / ``num_frames``: the request's sampling (mutually exclusive for ``qwen3_vl``).
    ``sampler``: ``"qwen3_vl"`` (what transformers' Qwen3-VL processor picks), ``"uniform"``
    (TensorRT-LLM's stock loader) or a sampler object (``sampler_for(processor)``).
    ``backend``: ``"auto"`` (fastest exact backend installed) or a name from ``backend_names()``.
    Bad input raises ``InvalidMediaError``; a limit, ``MediaTooLargeError``.
    ``policy``: a ``SourcePolicy`` limiting which local files may be read (default: any).
    ``allocator``: where the frame array is allocated (default host memory); the async
    runtime passes one that first reserves the bytes from its frame budget.
    To decode more frames of the same source later, use ``open_video`` instead.
    """
    pick = get_sampler(sampler)  # an unknown sampler fails before any I/O
    with open_video(source, backend=backend, limits=limits, decoder_threads=decoder_threads, policy=policy) as video:
        indices = video.sample(fps=fps, num_frames=num_frames, sampler=pick)
        return video.decode(indices, allocator=allocator)
