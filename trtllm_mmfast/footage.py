"""Realistic footage for benchmarks: a camera moving over a real photograph, encoded with x264 defaults.

Synthetic "moving shapes" clips compress far better than camera footage, so decode cost and
bitrate read low on them. This builds a clip from a real photo that a package ships
(matplotlib's ``grace_hopper.jpg``, installed with the ``perf`` extra): a slow pan and zoom
over it (each frame resampled from the photo, so textures, gradients and motion are a
camera's), light sensor noise, encoded once as a ``segment_s`` segment with libx264's
defaults (preset medium, keyint 250, B-pyramid), then looped to ``seconds`` by remuxing
its packets (no re-encode; every loop starts at the segment's IDR frame). Cached on disk
by its parameters like ``synth.cached_clip``.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np

from .synth import cache_root

__all__ = ["footage_clip", "footage_frame", "photo"]


def photo() -> np.ndarray:
    """The real photo (RGB uint8), from matplotlib's sample data."""
    try:
        import matplotlib
    except ImportError as e:
        raise ImportError("footage clips need matplotlib's sample photo: pip install 'trtllm-mmfast[perf]'") from e
    from PIL import Image

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def footage_frame(src: np.ndarray, width: int, height: int, i: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Frame ``i`` of ``n``: a ``width``x``height`` view of ``src`` panned and zoomed along a smooth path."""
    import cv2

    sh, sw = src.shape[:2]
    t = i / max(n - 1, 1)
    zoom = 0.55 + 0.35 * (0.5 - 0.5 * np.cos(2 * np.pi * t))  # fraction of the photo's width in view
    cw = sw * zoom
    ch = min(cw * height / width, sh)
    cw = ch * width / height
    cx = (sw - cw) * (0.5 + 0.5 * np.sin(2 * np.pi * t))
    cy = (sh - ch) * (0.5 - 0.5 * np.cos(np.pi * t))
    # Affine map from the output grid onto the crop window (sub-pixel: a camera's smooth motion).
    m = np.array([[cw / width, 0, cx], [0, ch / height, cy]], dtype=np.float64)
    frame = cv2.warpAffine(src, m, (width, height), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
    noise = rng.normal(0.0, 2.0, frame.shape).astype(np.int16)
    return np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def _segment(width: int, height: int, fps: int, frames: int) -> bytes:
    import av

    src, rng = photo(), np.random.default_rng(0)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(footage_frame(src, width, height, i, frames, rng), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return buf.getvalue()


def _loop(segment: bytes, loops: int, target: str) -> None:
    """Remux ``segment`` ``loops`` times back to back into ``target`` (timestamps shifted)."""
    import av

    with av.open(io.BytesIO(segment)) as inp:
        ins = inp.streams.video[0]
        packets = [p for p in inp.demux(ins) if p.size]
        span = max(p.pts + p.duration for p in packets) - min(p.pts for p in packets)
        with av.open(target, "w", format="mp4") as out:
            outs = out.add_stream_from_template(ins)
            for k in range(loops):
                for p in packets:
                    p.stream = outs
                    p.pts, p.dts = p.pts + (span if k else 0), p.dts + (span if k else 0)
                    out.mux(p)


def footage_clip(width: int = 1920, height: int = 1080, seconds: int = 60, *, fps: int = 30, segment_s: int = 6,
                 cache_dir: str | os.PathLike | None = None) -> Path:
    """Path of a ``seconds`` long ``width``x``height`` footage clip (H.264, x264 defaults, mp4), cached."""
    if seconds % segment_s:
        raise ValueError(f"seconds ({seconds}) must be a multiple of segment_s ({segment_s})")
    root = cache_root(cache_dir)
    key = hashlib.sha1(f"footage-v1-{width}x{height}-{seconds}-{fps}-{segment_s}".encode()).hexdigest()[:12]
    path = root / f"footage-{width}x{height}-{seconds}s-{key}.mp4"
    if not path.exists():
        tmp = path.with_suffix(f".tmp{os.getpid()}.mp4")
        try:
            _loop(_segment(width, height, fps, fps * segment_s), seconds // segment_s, str(tmp))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path
