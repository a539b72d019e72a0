"""``load_video``: the load path's steps in a row (see ``reader``): open, sample, decode."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..types import VideoFrames
from .backend import Allocator
from .limits import DEFAULT_LIMITS, Limits
from .policy import SourcePolicy
from .reader import DEFAULT_DECODER_THREADS, OpenedVideo, open_video
from .sampling import SamplerLike, get_sampler
from .source import SourceLike, resolve_source

if TYPE_CHECKING:
    from ..cache import VideoCache

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
    cache: VideoCache | None = None,
    resize_for: Any = None,
    device: str | None = None,
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
    ``cache``: a ``VideoCache``; a repeat of the same source bytes with the same sampling
    returns the cached frames (shared: read-only) without probing or decoding (``video.cached``).
    ``resize_for``: a Qwen3-VL processor (``wrap``'s, or the HF one): each frame is resized as
    it is decoded, exactly as that processor's defaults resize it, so only (N, h', w', 3) frames
    are kept (``metadata.frames_size``; ``metadata.width/height`` stay the source's); the fast
    processor then skips its resize (``video.resize``). None: full-size frames.
    ``device``: where the frames live: ``"cpu"`` (numpy; the default), ``"pinned"`` (numpy over
    page-locked host memory), ``"cuda"`` / ``"cuda:N"`` (a uint8 (N, H, W, 3) CUDA tensor, its
    bytes held from that GPU's VRAM budget until freed or ``release_frames``). ``backend="nvdec"``
    decodes on the GPU whatever ``device`` says; a CPU backend's frames are copied to a GPU once.
    To decode more frames of the same source later, use ``open_video`` instead.
    """
    pick = get_sampler(sampler)  # an unknown sampler fails before any I/O
    if cache is not None and device not in (None, "cpu", "pinned"):
        raise ValueError(f"cache= holds host frames; it cannot be combined with device={device!r}")

    def load(src: Any) -> VideoFrames:
        with open_video(src, backend=backend, limits=limits, decoder_threads=decoder_threads, policy=policy, device=device) as video:
            idx = video.sample(fps=fps, num_frames=num_frames, sampler=pick)
            if resize_for is None:
                return video.decode(idx, allocator=allocator)
            return video.decode(idx, allocator=allocator, resize_for=resize_for)

    if cache is None:
        return load(source)
    from .cached import frames_params, load_cached

    src = resolve_source(source, limits=limits or DEFAULT_LIMITS, policy=policy)
    params = frames_params(sampler=pick, fps=fps, num_frames=num_frames, backend=backend, limits=limits, resize_for=resize_for)
    return load_cached(cache, src, params, load)
