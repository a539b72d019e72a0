"""``nvdec`` backend: GPU decode with NVIDIA's PyNvVideoCodec (``SimpleDecoder``), opt-in only.

``auto`` never picks it (``auto = False``): ask for it (``backend="nvdec"``,
``enable(video_backend="nvdec")``, ``--video-backend nvdec``). Install: ``pip install
'trtllm-mmfast[nvdec]'``; it needs NVIDIA's driver (``import PyNvVideoCodec`` raises
``RuntimeError`` when ``libnvidia-encode.so.1`` is missing: then ``unavailable_reason`` says
so, ``info`` lists it as unavailable and ``backend="nvdec"`` raises ``BackendUnavailableError``).

Frame identity is the CPU backends': ``open`` opens the source with the ``pyav`` backend too
(one packets-only demux, no pixel decoded), so ``info`` (frame count, fps, size) and so the
sampled indices are exactly the CPU path's, and the pts of every presentation-order frame is
known. ``decode(indices)`` asks NVDEC for those frames in batches of ``BATCH_FRAMES`` (sorted,
unique; repeats are copied by the ``FrameSink``), checks that each returned frame's pts is the
expected one, and copies it (``torch.from_dlpack``: the library's CUDA RGB frame, zero copy)
into its slot of the caller's allocator: a CUDA tensor (``device="cuda:N"``: ``reader`` reserves
its bytes from the GPU's VRAM budget first), pinned or plain host memory (the default: numpy, the
CPU backends' contract, decoded on GPU ``TRTLLM_MMFAST_NVDEC_GPU``, default 0). The decoder comes
from the GPU's bounded session pool (``runtime.vram``); the library's own frames are held one batch
per session at a time, at most ``BATCH_BYTES`` each, so they add a fixed bound to the budget.

Fallback, per request, to the ``pyav`` decode of the same opened source (same indices, same
contract; frames copied to the device when one was asked for), counted in ``fallbacks()`` and
logged once per kind: what ``_nvdec_caps.fallback_reason`` refuses (codec, profile, bit depth,
chroma, size, rotation), a damaged or truncated stream (the CPU probe's notes), streams whose
frames cannot be numbered by pts, and anything NVDEC gets wrong at decode time (an error, a
frame count or a pts that differs from the CPU probe's: ``identity``).

Bytes in memory: ``SimpleDecoder`` takes bytes, but only a path can re-point a pooled decoder
(``reconfigure_decoder(str)``), so by default the source is spilled to /dev/shm once per opened
video (removed in ``close()``) and the pooled session re-pointed at it;
``TRTLLM_MMFAST_NVDEC_REUSE_SESSIONS=0`` constructs a decoder from the bytes for each request
instead (no spill; still at most the pool's bound at once). Pixels differ slightly from the CPU
path's (NVDEC's YUV->RGB is not swscale's): ``tests/test_nvdec.py`` states the tolerance.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from ..runtime.vram import cuda_index, session_pool
from ._nvdec_caps import DEFAULT_CAPS, NvdecCaps, fallback_reason, probe
from ._nvdec_memory import DeviceSpec, copy_into, to_device
from .backend import HOST, Allocator, Decoded, FrameSink, frame_nbytes
from .source import MediaSource

__all__ = [
    "BACKEND",
    "BATCH_FRAMES",
    "NvdecBackend",
    "fallback_examples",
    "fallbacks",
    "identity_problem",
    "plan_batches",
    "reset_fallbacks",
]

log = logging.getLogger(__name__)

BATCH_FRAMES = 32  # most frames asked of NVDEC at once (held in VRAM by the library while copied out)
BATCH_BYTES = 256 * 2**20  # ... and at most this many bytes of them (4K: 10 frames)
REUSE_SESSIONS = os.environ.get("TRTLLM_MMFAST_NVDEC_REUSE_SESSIONS", "1") != "0"
ENV_GPU = "TRTLLM_MMFAST_NVDEC_GPU"  # the GPU that decodes frames meant for host memory


def load_library() -> Any:
    """``PyNvVideoCodec`` (raises what its import raises: ``RuntimeError`` without the driver)."""
    import PyNvVideoCodec

    return PyNvVideoCodec


def cuda_reason() -> str | None:
    """None when torch sees a CUDA device, else why not."""
    try:
        import torch
    except ImportError as e:
        return f"cannot import torch: {e}"
    return None if torch.cuda.is_available() else "torch sees no CUDA device"


# ---- fallbacks: counted per kind, logged once per kind --------------------------------------

_fallbacks: Counter[str] = Counter()
_logged: dict[str, str] = {}  # kind -> the first reason of that kind (logged)
_fallback_lock = threading.Lock()


def fallbacks() -> dict[str, int]:
    """Requests decoded on the CPU instead, by kind (codec, bit_depth, damaged, identity, ...)."""
    with _fallback_lock:
        return dict(_fallbacks)


def fallback_examples() -> dict[str, str]:
    """The first reason of each fallback kind (what was logged): for diagnosis and benchmarks."""
    with _fallback_lock:
        return dict(_logged)


def reset_fallbacks() -> None:
    with _fallback_lock:
        _fallbacks.clear()
        _logged.clear()


def _record_fallback(reason: str, label: str) -> None:
    kind = reason.partition(":")[0]
    with _fallback_lock:
        _fallbacks[kind] += 1
        first = kind not in _logged
        _logged.setdefault(kind, reason)
    if first:
        log.warning("nvdec: %s: %s; such requests decode on the CPU backend (logged once; see fallbacks())", label, reason)


class _Refused(Exception):
    """NVDEC's result cannot be used for this request (the message is the fallback reason)."""


def plan_batches(targets: list[int], batch_frames: int = BATCH_FRAMES) -> list[list[int]]:
    """Sorted unique ``targets`` in consecutive batches of at most ``batch_frames``."""
    if batch_frames < 1:
        raise ValueError(f"batch_frames must be >= 1, got {batch_frames}")
    return [targets[i : i + batch_frames] for i in range(0, len(targets), batch_frames)]


# Units a decoder may report pts in besides the stream's time base (NVIDIA's Video Codec SDK demuxer
# scales pts to a "user timescale", 1000 Hz by default): each within one unit of the exact time.
PTS_UNITS = (("ms", 1000), ("us", 1_000_000), ("90kHz", 90_000))


def identity_problem(
    batch: list[int], got_pts: list[int | None], want_pts: list[int], time_base: Fraction | None = None
) -> str | None:
    """None when NVDEC returned exactly the frames of ``batch``, else what differs.

    ``want_pts``: the CPU probe's pts (in ``time_base``) of each frame. A frame matches when its pts
    is the same, or, for the whole batch in one of ``PTS_UNITS``, within one unit of the same time
    (frames less than 2 units apart could not be told apart: fps above 500 for ms, never in practice).
    """
    if len(got_pts) != len(batch):
        return f"identity: NVDEC returned {len(got_pts)} of {len(batch)} frames asked for"
    if list(got_pts) == list(want_pts):
        return None
    if time_base is not None and None not in got_pts:
        for _, scale in PTS_UNITS:
            if all(abs(g - w * time_base * scale) <= 1 for g, w in zip(got_pts, want_pts)):  # type: ignore[operator]
                return None
    t, g, w = next((t, g, w) for t, g, w in zip(batch, got_pts, want_pts) if g != w)
    return (
        f"identity: frame {t} came back with pts {g}, its presentation-order pts is {w}"
        f" (time base {time_base}; NVDEC pts of this batch: {list(got_pts)[:4]}, expected {list(want_pts)[:4]})"
    )


class _Session:
    """One pooled NVDEC decoder on one GPU, re-pointed at each request's source."""

    def __init__(self, nvc: Any, gpu: int) -> None:
        self.nvc, self.gpu = nvc, gpu
        self.decoder: Any = None

    def _make(self, target: str | bytes) -> Any:
        nvc = self.nvc
        return nvc.SimpleDecoder(
            target, gpu_id=self.gpu, use_device_memory=True, output_color_type=nvc.OutputColorType.RGB,
        )  # fmt: skip

    def open(self, target: str | bytes) -> Any:
        """The decoder, pointed at ``target`` (always re-pointed: a path may name new bytes)."""
        if isinstance(target, bytes) or self.decoder is None:
            self.decoder = self._make(target)
        else:
            try:
                self.decoder.reconfigure_decoder(target)
            except Exception:  # a source this decoder cannot be re-pointed at: a new one
                self.decoder = self._make(target)
        return self.decoder

    def close(self) -> None:
        self.decoder = None


class _NvdecVideo:
    resize_on_decode = False  # ``resize_for=`` frames are resized after decoding (host memory only)

    def __init__(self, source: MediaSource, backend: NvdecBackend, *, decoder_threads: int, gpu: int) -> None:
        from . import pyav_backend

        self._source, self._backend, self._gpu = source, backend, gpu
        self._spill: str | None = None
        self.time_base: Fraction | None = None  # of the stream's pts (from ``probe``)
        self._cpu = pyav_backend.BACKEND.open(source, decoder_threads=decoder_threads)
        try:
            self.info = self._cpu.info
            self.reason = self._decide()  # None: NVDEC decodes; else the fallback reason
        except BaseException:
            self._cpu.close()
            raise

    def _decide(self) -> str | None:
        index = self._cpu.index
        if index.notes:
            return "damaged: " + "; ".join(index.notes)
        if not index.sparse or index.total_num_frames != index.num_packets:
            return "identity: frames cannot be numbered by pts alone (missing/repeated pts or an edit list)"
        try:
            facts = probe(self._source)
        except Exception as e:  # noqa: BLE001 - the CPU probe opened it: any failure here -> CPU
            return f"probe: {type(e).__name__}: {e}"
        self.time_base = facts.time_base
        return fallback_reason(facts, self._backend.caps)

    def decode(self, indices: np.ndarray, allocator: Allocator) -> Decoded:
        if self.reason is None:
            return self._decode_gpu(indices, allocator)
        return self._fallback(self.reason, indices, allocator)

    def _fallback(self, reason: str, indices: np.ndarray, allocator: Allocator, sink: FrameSink | None = None) -> Decoded:
        """The CPU decode of the same source (counted, logged once per kind). With ``sink`` (frames
        already allocated for the NVDEC decode), a complete result is written into it: no second
        allocation, no second reservation."""
        _record_fallback(reason, self._source.label)
        if sink is None and allocator.device == "cpu":
            return self._cpu.decode(indices, allocator)
        d = self._cpu.decode(indices, HOST)
        if sink is not None and np.array_equal(d.indices, sink.indices):
            copy_into(sink.frames, d.frames)
            return Decoded(sink.frames, d.indices, d.info, d.damage, d.frames_size)
        return Decoded(to_device(d.frames, allocator), d.indices, d.info, d.damage, d.frames_size)

    def _target(self) -> str | bytes:
        src = self._source
        if src.path is not None:
            return src.path
        if not self._backend.reuse_sessions:
            return bytes(src.data)  # type: ignore[arg-type]
        if self._spill is None:
            from .opencv_backend import spill_dir

            fd, path = tempfile.mkstemp(prefix="mmfast-nvdec-", suffix=".mp4", dir=spill_dir())
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(src.data)  # type: ignore[arg-type]
            except BaseException:
                os.unlink(path)
                raise
            self._spill = path
        return self._spill

    def _decode_gpu(self, indices: np.ndarray, allocator: Allocator) -> Decoded:
        """NVDEC's decode into ``allocator``'s frames. Resources are taken in one order, output
        frames (a budget allocator may wait here) then a session (may wait), so waits never form a
        cycle; the library's batch frames are bounded by the pool (one batch per session)."""
        info, index, b = self.info, self._cpu.index, self._backend
        sink = FrameSink(indices, info.height, info.width, allocator)
        pool = session_pool(self._gpu, "nvdec", lambda: _Session(b.library(), self._gpu))
        targets = sink.targets.tolist()
        want = [int(index.pts[index.frame_packet[t]]) for t in targets]
        per_batch = max(1, min(b.batch_frames, b.batch_bytes // frame_nbytes(1, info.height, info.width)))
        refused: str | None = None
        try:
            with pool.borrow() as session:
                decoder = session.open(self._target())
                try:
                    if len(decoder) != info.total_num_frames:
                        raise _Refused(f"identity: NVDEC counts {len(decoder)} frames, the CPU probe {info.total_num_frames}")
                    done = 0
                    for batch in plan_batches(targets, per_batch):
                        self._copy_batch(decoder, batch, want[done : done + len(batch)], sink, done)
                        done += len(batch)
                except _Refused as e:  # the session is sound: it goes back to the pool
                    refused = str(e)
        except Exception as e:  # noqa: BLE001 - whatever the library raised (the session is closed)
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            refused = f"decode_error: {type(e).__name__}: {first}"
        if refused is not None:
            return self._fallback(refused, indices, allocator, sink)
        return sink.result(info, None)

    def _copy_batch(self, decoder: Any, batch: list[int], want: list[int], sink: FrameSink, first: int) -> None:
        import torch

        frames = decoder.get_batch_frames_by_index(batch)
        got = [int(f.getPTS()) if hasattr(f, "getPTS") else None for f in frames]
        problem = identity_problem(batch, got, want, self.time_base)
        if problem:
            raise _Refused(problem)
        shape = (self.info.height, self.info.width, 3)
        for j, frame in enumerate(frames):
            t = torch.from_dlpack(frame)
            if tuple(t.shape) != shape or t.dtype != torch.uint8:
                raise _Refused(f"format: NVDEC gave a {t.dtype} {tuple(t.shape)} frame, expected uint8 {shape}")
            copy_into(sink.slot(first + j), t)
            sink.filled(first + j)

    def close(self) -> None:
        self._cpu.close()
        path, self._spill = self._spill, None
        if path is not None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


class NvdecBackend:
    name = ""  # set by the registry (its table names the backend)
    extra: str | None = "nvdec"
    priority = 30
    auto = False  # GPU decode only when asked for
    exact = False  # pixels are NVDEC's colour conversion, within a tolerance of the CPU backends'
    takes_device = True  # ``open(..., device=)``: frames go straight to that memory
    default_device = "cpu"  # the CPU backends' contract (numpy) unless ``device="cuda:N"`` is asked for
    modules = ("PyNvVideoCodec", "av", "torch")

    def __init__(
        self,
        *,
        library: Callable[[], Any] = load_library,
        cuda_check: Callable[[], str | None] = cuda_reason,
        caps: NvdecCaps = DEFAULT_CAPS,
        batch_frames: int = BATCH_FRAMES,
        batch_bytes: int = BATCH_BYTES,
        reuse_sessions: bool = REUSE_SESSIONS,
    ) -> None:
        self.library, self._cuda_check = library, cuda_check
        self.caps, self.batch_frames, self.reuse_sessions = caps, batch_frames, reuse_sessions
        self.batch_bytes = batch_bytes
        self._reason: list[str | None] = []  # cached once computed
        self._lock = threading.Lock()

    def unavailable_reason(self) -> str | None:
        with self._lock:
            if not self._reason:
                self._reason.append(self._find_reason())
            return self._reason[0]

    def _find_reason(self) -> str | None:
        try:
            self.library()
        except Exception as e:  # noqa: BLE001 - ImportError (not installed), RuntimeError (no driver), ...
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            return f"PyNvVideoCodec cannot be loaded: {type(e).__name__}: {first}"
        try:
            import av  # noqa: F401
        except ImportError as e:
            return f"cannot import av (nvdec probes and falls back with the pyav backend): {e}"
        return self._cuda_check()

    def open(self, source: MediaSource, *, decoder_threads: int, device: str | None = None) -> _NvdecVideo:
        """``device``: where frames go (default host memory); NVDEC decodes on that GPU, or for
        host memory on GPU ``TRTLLM_MMFAST_NVDEC_GPU`` (default 0)."""
        spec = DeviceSpec.parse(device or self.default_device)
        gpu = spec.index if spec.index is not None else cuda_index(os.environ.get(ENV_GPU, "").strip() or 0)
        return _NvdecVideo(source, self, decoder_threads=decoder_threads, gpu=gpu)


BACKEND = NvdecBackend()
