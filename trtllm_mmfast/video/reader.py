"""The load path as explicit steps: ``open_video`` -> ``sample`` -> (reserve bytes) -> ``decode``.

::

    with open_video(source, backend="auto") as video:      # resolve source, open, probe, limits
        idx = video.sample(fps=2)                          # pure: which source frames
        nbytes = video.frame_nbytes(idx)                   # a caller may check / reserve these
        frames = video.decode(idx)                         # VideoFrames, exactly those frames
        more = video.decode(video.sample(num_frames=8))    # a second set, same opened source

``load_video`` is these steps in a row; the async runtime puts its frame budget between
``sample`` and ``decode``. Keeping the video open lets a caller decode more indices later
(re-planning frames for a request whose sampling arrives after loading) without reopening
or re-indexing the source.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ..errors import InvalidMediaError
from ..types import VideoFrames, VideoMetadata
from .backend import HOST, Allocator, BackendVideo, Decoded, StreamInfo, frame_nbytes
from .limits import DEFAULT_LIMITS, Limits
from .policy import SourcePolicy
from .registry import resolve
from .sampling import SamplerLike, get_sampler
from .source import SourceLike, resolve_source

__all__ = ["DEFAULT_DECODER_THREADS", "OpenedVideo", "open_video", "to_video_frames"]

log = logging.getLogger(__name__)

# One decoder thread per request: under serving load the pools give the parallelism, and
# FFmpeg's unbounded default (one thread per core per decode) oversubscribes the CPU.
DEFAULT_DECODER_THREADS = 1


def open_video(
    source: SourceLike,
    *,
    backend: str = "auto",
    limits: Limits | None = None,
    decoder_threads: int | None = None,
    policy: SourcePolicy | None = None,
    device: str | None = None,
) -> OpenedVideo:
    """Resolve ``source``, open it with ``backend`` and check the stream against ``limits``.

    No pixel is decoded yet. Bad input raises ``InvalidMediaError``; a limit,
    ``MediaTooLargeError``; an unusable backend, ``BackendUnavailableError``. Close the
    result (``with open_video(...) as video:``) to release the decoder and any temp file.
    ``device``: where decoded frames live (``"cpu"``, ``"pinned"``, ``"cuda"``, ``"cuda:N"``;
    default ``"cpu"``): see ``OpenedVideo.decode``. The nvdec backend decodes on a GPU either way.
    """
    from ._nvdec_memory import DeviceSpec

    limits = limits or DEFAULT_LIMITS
    threads = DEFAULT_DECODER_THREADS if decoder_threads is None else int(decoder_threads)
    if threads < 1:
        raise ValueError(f"decoder_threads must be >= 1, got {decoder_threads}")
    chosen = resolve(backend)
    takes_device = bool(getattr(chosen, "takes_device", False))
    spec = DeviceSpec.parse(device if device is not None else getattr(chosen, "default_device", None))
    spec.check()
    src = resolve_source(source, limits=limits, policy=policy)
    if takes_device:
        handle = chosen.open(src, decoder_threads=threads, device=spec.name)  # type: ignore[call-arg]
    else:
        handle = chosen.open(src, decoder_threads=threads)
    try:
        info = handle.info
        limits.check_stream(
            width=info.width,
            height=info.height,
            total_num_frames=info.total_num_frames,
            duration=info.duration,
            received=src.label,
        )
    except BaseException:
        handle.close()
        raise
    video = OpenedVideo(handle, backend=chosen.name, label=src.label, limits=limits)
    video.device, video._direct = spec, takes_device
    return video


class OpenedVideo:
    """One opened source: ``info``, ``sample(...)``, ``decode(indices)`` (any number of times), ``close()``.

    It holds the decoder, and for some backends a temp file or the source bytes, until
    ``close()`` (or the end of its ``with`` block). Not thread-safe: use it from one thread
    at a time (it may move between threads, e.g. media-load pool workers, between calls).
    """

    def __init__(self, handle: BackendVideo, *, backend: str, label: str, limits: Limits) -> None:
        self._handle: BackendVideo | None = handle
        self._info = handle.info
        self.backend = backend  # the backend's registry name
        self.label = label  # the source as named in errors and warnings
        self.limits = limits
        self.device: Any = None  # ``_nvdec_memory.DeviceSpec`` of the frames (None: host memory)
        self._direct = False  # the backend writes into device memory itself

    @property
    def info(self) -> StreamInfo:
        """Frame count, fps and size; after the first decode of a quarter-turn rotated stream,
        width and height are the rotated ones (same pixel count, so byte counts hold)."""
        return self._info

    def sample(self, *, fps: float | None = None, num_frames: int | None = None, sampler: SamplerLike = "qwen3_vl") -> np.ndarray:
        """The sorted source indices ``sampler`` picks for this stream (checked against ``limits``)."""
        pick = get_sampler(sampler)
        indices = pick(self._info.total_num_frames, self._info.fps, fps=fps, num_frames=num_frames)
        self.limits.check_output(len(indices), self.label)
        return indices

    def frame_nbytes(self, indices: Any) -> int:
        """Bytes the frames of ``indices`` will take (what a frame budget reserves before ``decode``)."""
        return frame_nbytes(len(indices), self._info.height, self._info.width)

    def decode(self, indices: Any, *, allocator: Allocator | None = None, resize_for: Any = None) -> VideoFrames:
        """Decode exactly ``indices`` (sorted source indices, repeats allowed) into ``VideoFrames``.

        Frames that could not be decoded (damaged input) are left out, with one warning;
        none decoded raises ``InvalidMediaError``. ``allocator``: where the frame array lives
        (default host memory, ``HOST``). ``resize_for``: a Qwen3-VL processor (fast or HF) or
        its video processor: every frame is resized as it is decoded, exactly as that processor
        would resize it (``video.resize``); ``metadata.frames_size`` then says the frames' size.
        Frames go to the memory ``open_video(device=)`` named unless an ``allocator`` is given: on
        a GPU, their bytes are reserved from that GPU's VRAM budget first (``runtime.vram``: waits
        while they do not fit) and given back by ``release_frames`` or when the frames are freed.
        """
        if self._handle is None:
            raise ValueError(f"{self.label}: this OpenedVideo is closed; open the source again to decode more")
        idx = self._check_indices(indices)
        self.limits.check_output(len(idx), self.label)
        spec = self.device
        if allocator is None and spec is not None and spec.kind != "cpu":
            return self._decode_on(idx, spec, resize_for)
        if resize_for is None:
            decoded = self._handle.decode(idx, allocator or HOST)
        else:
            from .resize import ResizePlan, decode_resized

            decoded = decode_resized(self._handle, idx, allocator or HOST, ResizePlan.of(resize_for))
        self._info = decoded.info
        return to_video_frames(decoded, idx, label=self.label, backend=self.backend)

    def _decode_on(self, idx: np.ndarray, spec: Any, resize_for: Any) -> VideoFrames:
        """``decode`` into pinned host memory, or into a GPU's memory under its VRAM budget."""
        from ..runtime.budget import BudgetAllocator
        from ..runtime.vram import vram_budget
        from ._nvdec_memory import CudaAllocator, PinnedAllocator, to_device

        if spec.kind == "pinned":
            return self.decode(idx, allocator=PinnedAllocator(), resize_for=resize_for)
        if resize_for is not None:
            raise ValueError(
                f"resize_for= resizes on the CPU, but device={spec.name!r}: leave resizing to the processor"
                " (it runs on the frames' device), or decode to host memory"
            )
        handle, label = self._handle, f"{self.label} (VRAM budget of {spec.name})"
        alloc = BudgetAllocator(vram_budget(spec.index), label=label, inner=CudaAllocator(spec.index))
        try:
            if self._direct:  # the backend decodes into device memory itself
                decoded = handle.decode(idx, alloc)  # type: ignore[union-attr]
            else:  # a CPU backend: host frames, copied to the GPU once
                d = handle.decode(idx, HOST)  # type: ignore[union-attr]
                decoded = Decoded(to_device(d.frames, alloc), d.indices, d.info, d.damage, d.frames_size)
            self._info = decoded.info
            video = to_video_frames(decoded, idx, label=self.label, backend=self.backend)
        except BaseException:
            alloc.release()
            raise
        return alloc.lease(video)

    def _check_indices(self, indices: Any) -> np.ndarray:
        idx = np.asarray(indices)
        total = self._info.total_num_frames
        if idx.ndim != 1 or len(idx) == 0 or idx.dtype.kind not in "iu":
            raise ValueError(f"indices must be a non-empty 1-D array of integers, got {indices!r}")
        if np.any(np.diff(idx) < 0):
            raise ValueError(f"indices must be sorted, got {idx.tolist()[:10]}")
        if idx[0] < 0 or idx[-1] >= total:
            raise ValueError(f"{self.label}: indices must lie in [0, {total}) (the stream's frames), got {idx[0]}..{idx[-1]}")
        return idx.astype(np.int64, copy=False)

    def close(self) -> None:
        """Release the decoder (and any temp file); idempotent."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()

    def __enter__(self) -> OpenedVideo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else "open"
        return f"<OpenedVideo {self.label} via {self.backend}, {self._info}, {state}>"


def to_video_frames(decoded: Decoded, requested: np.ndarray, *, label: str, backend: str) -> VideoFrames:
    """``VideoFrames`` from one decode, logging its one damage warning (or raising when empty)."""
    damage, got = decoded.damage, decoded.indices
    if len(got) == 0:
        why = f" ({damage})" if damage else ""
        raise InvalidMediaError(f"{label}: no frame could be decoded (damaged or truncated video){why}")
    problems = [damage] if damage else []
    if len(got) < len(requested):
        missing = sorted(set(requested.tolist()) - set(got.tolist()))
        problems.append(
            f"{len(missing)} of {len(set(requested.tolist()))} sampled frames could not be decoded"
            f" and are left out (indices {missing[:10]}{' ...' if len(missing) > 10 else ''})"
        )
    if problems:
        log.warning("%s: incomplete decode: %s", label, "; ".join(problems))
    info = decoded.info
    meta = VideoMetadata(
        total_num_frames=info.total_num_frames,
        fps=info.fps,
        duration=info.duration,
        width=info.width,
        height=info.height,
        frames_indices=tuple(int(i) for i in got),
        backend=backend,
        frames_size=decoded.frames_size,
    )
    return VideoFrames(frames=decoded.frames, metadata=meta)
