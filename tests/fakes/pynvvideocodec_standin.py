"""STAND-IN for NVIDIA's PyNvVideoCodec 2.2.4 ``SimpleDecoder`` (it needs an NVIDIA GPU and driver,
so it cannot run here). Not NVIDIA's code: written from the facts in the installed wheel
(``PyNvVideoCodec/decoders/SimpleDecoder.py``, the native module's signatures; see
docs/facts/pynvvideocodec.md), modelling only what the nvdec backend uses:

- ``SimpleDecoder(enc_file_path, gpu_id=0, cuda_context=0, cuda_stream=0, use_device_memory=True,
  max_width=0, max_height=0, need_scanned_stream_metadata=0, decoder_cache_size=4,
  output_color_type=OutputColorType.NATIVE, ...)``: ``enc_file_path`` a path or bytes;
- ``len()`` = the container's frame count; ``get_stream_metadata()``;
- ``get_batch_frames_by_index(indices)``: out-of-range indices dropped, duplicates removed, frames
  returned in the caller's order; ``reconfigure_decoder(path: str)`` (a path only, like the real one);
- ``DecodedFrame``: ``__dlpack__`` / ``__dlpack_device__`` (here host memory: a numpy array stands
  for the CUDA surface, so ``torch.from_dlpack`` gives a CPU tensor) and ``getPTS()``.

Pixels are PyAV's full decode (rgb24) in presentation order, so the backend's copying, index
mapping and batching can be checked exactly; colour conversion is NVDEC's on a real GPU
(tests/test_nvdec.py's CUDA tests, run by perf/gpu_check.sh, check that). Knobs (``FAULTS``)
make it misbehave the ways a real decoder might; ``STATS`` counts what it was asked to do.
The module also exposes ``BACKEND``: the nvdec backend built on this stand-in, for the registry.
"""

from __future__ import annotations

import enum
import io
import threading
import weakref
from dataclasses import dataclass, field

import numpy as np


class OutputColorType(enum.Enum):
    NATIVE = 0
    RGB = 1
    RGBP = 2


@dataclass
class Faults:
    count_offset: int = 0  # len() reports this many frames more than the container has
    pts_shift: int = 0  # each frame returned is this many presentation-order frames later
    short_by: int = 0  # get_batch_frames_by_index returns this many frames fewer
    raise_on_decode: str | None = None  # get_batch_frames_by_index raises RuntimeError(this)
    raise_on_open: str | None = None  # the constructor raises RuntimeError(this)
    pts_in_ms: bool = False  # getPTS() in milliseconds (as the Video Codec SDK's demuxer scales them)


@dataclass
class Stats:
    constructed: int = 0
    reconfigured: int = 0
    batches: int = 0
    batch_sizes: list[int] = field(default_factory=list)
    live_decoders: int = 0
    held_bytes: int = 0  # bytes of DecodedFrames alive now ("VRAM" held by the library)
    peak_held_bytes: int = 0


FAULTS = Faults()
STATS = Stats()
_lock = threading.Lock()


def reset() -> None:
    global FAULTS, STATS
    FAULTS, STATS = Faults(), Stats()


def _release(nbytes: int) -> None:
    with _lock:
        STATS.held_bytes -= nbytes


class DecodedFrame:
    def __init__(self, rgb: np.ndarray, pts: int) -> None:
        self._rgb, self._pts = rgb.copy(), pts
        n = self._rgb.nbytes
        with _lock:
            STATS.held_bytes += n
            STATS.peak_held_bytes = max(STATS.peak_held_bytes, STATS.held_bytes)
        weakref.finalize(self, _release, n)

    def __dlpack__(self, stream=None, **kwargs):  # noqa: ANN001 - the protocol's signature
        return self._rgb.__dlpack__()

    def __dlpack_device__(self):
        return self._rgb.__dlpack_device__()

    def getPTS(self) -> int:  # noqa: N802 - the real name
        return self._pts


@dataclass(frozen=True)
class StreamMetadata:
    width: int
    height: int
    num_frames: int
    average_fps: float
    duration: float
    codec_name: str


def _decode_all(source: str | bytes) -> tuple[list[np.ndarray], list[int], StreamMetadata, float]:
    import av

    with av.open(source if isinstance(source, str) else io.BytesIO(source)) as c:
        s = c.streams.video[0]
        frames = sorted(((f.pts, f.to_ndarray(format="rgb24")) for f in c.decode(s)), key=lambda x: x[0])
        rate = float(s.average_rate or 0)
        meta = StreamMetadata(s.codec_context.width, s.codec_context.height, int(s.frames or len(frames)),
                              rate, float(s.duration * s.time_base) if s.duration else 0.0, s.codec_context.name)
        time_base = float(s.time_base)  # read while the container is open
    return [f for _, f in frames], [int(p) for p, _ in frames], meta, time_base


class SimpleDecoder:
    def __init__(self, enc_file_path, gpu_id=0, cuda_context=0, cuda_stream=0, use_device_memory=True,  # noqa: ANN001
                 max_width=0, max_height=0, need_scanned_stream_metadata=0, decoder_cache_size=4,
                 output_color_type=OutputColorType.NATIVE, bWaitForSessionWarmUp=False,  # noqa: N803
                 enableDecodeStats=False):  # noqa: N803
        if not isinstance(enc_file_path, (str, bytes)):
            raise TypeError(f"enc_file_path must be str or bytes, got {type(enc_file_path).__name__}")
        if FAULTS.raise_on_open:
            raise RuntimeError(FAULTS.raise_on_open)
        if output_color_type is not OutputColorType.RGB:
            raise NotImplementedError("the stand-in models OutputColorType.RGB only")
        self.gpu_id = gpu_id
        self._load(enc_file_path)
        with _lock:
            STATS.constructed += 1
            STATS.live_decoders += 1
        weakref.finalize(self, _gone)

    def _load(self, source: str | bytes) -> None:
        self._frames, self._pts, self._meta, self._tb = _decode_all(source)

    def __len__(self) -> int:
        return self._meta.num_frames + FAULTS.count_offset

    def get_stream_metadata(self) -> StreamMetadata:
        return self._meta

    def reconfigure_decoder(self, new_source: str) -> None:
        if not isinstance(new_source, str):
            raise TypeError("reconfigure_decoder(): incompatible function arguments (new_source: str)")
        self._load(new_source)
        with _lock:
            STATS.reconfigured += 1

    def get_batch_frames_by_index(self, indices: list[int]) -> list[DecodedFrame]:
        if FAULTS.raise_on_decode:
            raise RuntimeError(FAULTS.raise_on_decode)
        seen, picked = set(), []
        for i in indices:
            if 0 <= i < len(self._frames) and i not in seen:
                seen.add(i)
                picked.append(i)
        with _lock:
            STATS.batches += 1
            STATS.batch_sizes.append(len(picked))
        n = len(self._frames)
        out = []
        for i in picked:
            j = min(i + FAULTS.pts_shift, n - 1)
            pts = round(self._pts[j] * self._tb * 1000) if FAULTS.pts_in_ms else self._pts[j]
            out.append(DecodedFrame(self._frames[j], pts))
        return out[: len(out) - FAULTS.short_by] if FAULTS.short_by else out


def _gone() -> None:
    with _lock:
        STATS.live_decoders -= 1


def _library():
    import sys

    return sys.modules[__name__]


def _build_backend():
    from trtllm_mmfast.video.nvdec_backend import NvdecBackend

    return NvdecBackend(library=_library, cuda_check=lambda: None)


BACKEND = _build_backend()
