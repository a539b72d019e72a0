"""Synthetic test videos ("moving shapes") encoded with PyAV, for tests and the perf sweep.

Frames are a deterministic function of (size, frame number, seed), so tests can
generate clips with known fps, GOP, B-frames, codec and size, and the sweep can cache
them on disk by their parameters.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["ClipSpec", "cached_clip", "encode_clip", "synth_frame"]


@dataclass(frozen=True)
class ClipSpec:
    width: int = 128
    height: int = 96
    num_frames: int = 60
    fps: float = 30.0
    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    gop: int | None = None  # None: the encoder's default (250 for x264)
    bframes: int | None = None  # None: the encoder's default
    container: str = "mp4"
    seed: int = 0
    faststart: bool = False  # mp4 index (moov) before the media data, as streaming files have
    options: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # extra encoder options

    def key(self) -> str:
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


def synth_frame(width: int, height: int, i: int, seed: int = 0) -> np.ndarray:
    """Frame ``i``: a gradient background with a few moving rectangles and a frame-number bar."""
    rng = np.random.default_rng(seed)
    y = np.arange(height, dtype=np.int32)[:, None]
    x = np.arange(width, dtype=np.int32)[None, :]
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[..., 0] = (x * 255 // max(width - 1, 1) + i * 2) % 256
    img[..., 1] = (y * 255 // max(height - 1, 1) + i * 3) % 256
    img[..., 2] = ((x + y + i * 5) // 4) % 256
    for _ in range(4):
        w, h = int(rng.integers(4, max(5, width // 3))), int(rng.integers(4, max(5, height // 3)))
        vx, vy = int(rng.integers(-5, 6)), int(rng.integers(-5, 6))
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        color = rng.integers(0, 256, 3, dtype=np.uint8)
        cx, cy = (x0 + vx * i) % width, (y0 + vy * i) % height
        img[cy : cy + h, cx : cx + w] = color
    bar = min(height, 4)
    img[:bar, :] = 0
    img[:bar, : (i * 7) % max(width, 1)] = 255
    return img


def encode_clip(spec: ClipSpec) -> bytes:
    """Encode ``spec`` and return the container bytes."""
    if spec.faststart:  # the moov move re-reads the output: needs a real file, not a BytesIO
        with tempfile.TemporaryDirectory(prefix="synth-") as d:
            path = os.path.join(d, f"clip.{spec.container}")
            _encode(spec, path, {"movflags": "faststart"})
            with open(path, "rb") as f:
                return f.read()
    buf = io.BytesIO()
    _encode(spec, buf, {})
    return buf.getvalue()


def _encode(spec: ClipSpec, target: "str | io.BytesIO", container_opts: dict[str, str]) -> None:
    import av
    from fractions import Fraction

    rate = Fraction(spec.fps).limit_denominator(1001)
    with av.open(target, "w", format=spec.container, options=container_opts) as out:
        stream = out.add_stream(spec.codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, spec.pix_fmt
        opts = dict(spec.options)
        if spec.gop is not None:
            stream.codec_context.gop_size = spec.gop
            if spec.codec == "libx264":
                opts.setdefault("x264-params", f"keyint={spec.gop}:min-keyint={spec.gop}")
        if spec.bframes is not None:
            stream.codec_context.max_b_frames = spec.bframes
            if spec.codec == "libx264":
                opts["bf"] = str(spec.bframes)
        if spec.codec == "libx265":
            opts.setdefault("x265-params", "log-level=error")
        stream.options = opts
        for i in range(spec.num_frames):
            frame = av.VideoFrame.from_ndarray(synth_frame(spec.width, spec.height, i, spec.seed), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where generated media are cached (made if missing): ``cache_dir``, else $TRTLLM_MMFAST_CACHE,
    else ~/.cache/trtllm-mmfast."""
    root = Path(cache_dir or os.environ.get("TRTLLM_MMFAST_CACHE", Path.home() / ".cache" / "trtllm-mmfast"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def cached_clip(spec: ClipSpec, cache_dir: str | os.PathLike | None = None) -> Path:
    """Path of ``spec`` encoded, generated once and cached by its parameters."""
    root = cache_root(cache_dir)
    path = root / f"clip-{spec.width}x{spec.height}-{spec.num_frames}f-{spec.key()}.{spec.container}"
    if not path.exists():
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(encode_clip(spec))
        os.replace(tmp, path)
    return path
