"""Shared fixtures: clips generated at test time (PyAV + libx264) and a reference decode."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from trtllm_mmfast.synth import ClipSpec, encode_clip

_CLIPS: dict[ClipSpec, bytes] = {}


def clip_bytes(spec: ClipSpec) -> bytes:
    """Encoded bytes of ``spec`` (memoized for the session)."""
    if spec not in _CLIPS:
        _CLIPS[spec] = encode_clip(spec)
    return _CLIPS[spec]


def reference_frames(data: bytes) -> np.ndarray:
    """Every frame, in presentation order, decoded by plain PyAV: the ground truth.

    Colour conversion follows OpenCV's (swscale to bgr24 with SWS_BICUBIC, then to RGB).
    For 8-bit 4:2:0 at even sizes this equals PyAV's plain ``to_ndarray("rgb24")``
    (checked in test_opencv_backend); odd sizes and 10-bit input differ in chroma
    upsampling and dithering, and we follow OpenCV there, as TensorRT-LLM's loader does.
    """
    import av

    with av.open(io.BytesIO(data)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "NONE"
        return np.stack(
            [f.to_ndarray(format="bgr24", interpolation="BICUBIC")[..., ::-1] for f in c.decode(stream)]
        )


def plain_rgb24_frames(data: bytes) -> np.ndarray:
    """Every frame through PyAV's default ``to_ndarray("rgb24")``."""
    import av

    with av.open(io.BytesIO(data)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


@pytest.fixture(scope="session")
def small_clip() -> bytes:
    """3 s, 30 fps, 96x64 H.264 with B-frames: the everyday test clip."""
    return clip_bytes(ClipSpec(width=96, height=64, num_frames=90, fps=30, gop=30, bframes=3))


@pytest.fixture
def clip_file(tmp_path: Path, small_clip: bytes) -> Path:
    p = tmp_path / "clip with space.mp4"
    p.write_bytes(small_clip)
    return p


def _temp_dirs() -> list[str]:
    dirs = [tempfile.gettempdir()]
    if os.path.isdir("/dev/shm"):
        dirs.append("/dev/shm")
    return dirs


def snapshot_resources() -> tuple[int, set[str]]:
    """(open file descriptors, our temp files) of this process, for leak checks."""
    fds = len(os.listdir("/proc/self/fd"))
    temps = {os.path.join(d, f) for d in _temp_dirs() for f in os.listdir(d) if f.startswith("mmfast-")}
    return fds, temps


@pytest.fixture
def no_leaks():
    """Fails the test if it leaves file descriptors or mmfast temp files behind."""
    before_fds, before_tmp = snapshot_resources()
    yield
    after_fds, after_tmp = snapshot_resources()
    assert after_tmp - before_tmp == set(), f"temp files left behind: {after_tmp - before_tmp}"
    assert after_fds <= before_fds, f"file descriptors leaked: {before_fds} -> {after_fds}"
