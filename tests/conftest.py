"""Shared fixtures: clips generated at test time (PyAV + libx264) and a reference decode."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from trtllm_mmfast.synth import ClipSpec, encode_clip

_CLIPS: dict[ClipSpec, bytes] = {}


def backend_params() -> list:
    """Every registered video backend (``registry.available()``: the built-in table plus
    ``TRTLLM_MMFAST_VIDEO_BACKENDS``), as pytest params skipped where unusable here.

    The generic suites parametrize over this, so a new backend is exercised by all of them;
    a backend marked ``exact = False`` (``nvdec``) is skipped there: they compare pixels exactly.
    """
    from trtllm_mmfast.video import registry

    def skip_why(name: str, why: str | None) -> str | None:
        if why is None and not getattr(registry.get(name), "exact", True):  # nvdec: its own tolerance tests
            return f"{name} is not pixel-exact (its own colour conversion); tested in its own suite"
        return why

    return [
        pytest.param(name, id=name, marks=[pytest.mark.skip(reason=why)] if why else [])
        for name, why in ((n, skip_why(n, w)) for n, w in registry.available().items())
    ]


BACKENDS = backend_params()
BACKEND_NAMES = [p.values[0] for p in BACKENDS if not p.marks]  # the usable ones


def clip_bytes(spec: ClipSpec) -> bytes:
    """Encoded bytes of ``spec`` (memoized for the session)."""
    if spec not in _CLIPS:
        _CLIPS[spec] = encode_clip(spec)
    return _CLIPS[spec]


def python_stdout(code: str) -> str:
    """What ``python -c code`` prints, in a fresh interpreter (for what an import pulls in or starts)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


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


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A tiny offline Qwen3-VL checkpoint (``trtllm_standins.standin.make_model_dir``); tests only read it."""
    from trtllm_standins.standin import make_model_dir

    return make_model_dir(tmp_path_factory.mktemp("qwen3vl-tiny"))


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


def _mmfast_threads() -> set[str]:
    import threading

    return {t.name for t in threading.enumerate() if t.name.startswith("mmfast-")}


def _open_fds() -> dict[int, str]:
    out = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            out[int(fd)] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the fd listdir itself used, closed since
            pass
    return out


def _repo_entries() -> set[str]:
    """Top-level entries of the checkout (tests write under tmp_path, never here)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return {e for e in os.listdir(root) if e not in (".pytest_cache", ".hypothesis", "__pycache__", "results")}


@pytest.fixture(scope="session", autouse=True)
def session_leak_check():
    """After the whole run: no new file descriptors, no mmfast-* temp files, no mmfast-* threads,
    no file written into the checkout.

    Native libraries are imported first, so what they open once at import is not counted; the
    runtime pools are shut down (as at interpreter exit) before threads are counted.
    """
    import cv2  # noqa: F401

    try:
        import av  # noqa: F401
    except ImportError:
        pass
    try:  # uvloop opens one signal-wakeup pipe pair per process, with its first loop
        import uvloop

        uvloop.run(asyncio.sleep(0))
    except ImportError:
        pass
    fds_before, (_, tmp_before) = _open_fds(), snapshot_resources()
    repo_before = _repo_entries()
    yield
    from trtllm_mmfast.runtime import executors

    executors.shutdown()
    fds_after, (_, tmp_after) = _open_fds(), snapshot_resources()
    site = os.path.dirname(os.path.dirname(np.__file__))  # library data files kept open by caches (fonts)
    leaked_fds = {
        fd: target for fd, target in fds_after.items() if fds_before.get(fd) != target and not target.startswith(site)
    }
    problems = []
    if tmp_after - tmp_before:
        problems.append(f"temp files left behind: {sorted(tmp_after - tmp_before)}")
    if leaked_fds:
        problems.append(f"file descriptors left open: {leaked_fds}")
    if _repo_entries() - repo_before:
        problems.append(f"files written into the checkout: {sorted(_repo_entries() - repo_before)}")
    if _mmfast_threads():
        problems.append(f"threads still running: {sorted(_mmfast_threads())}")
    if problems:
        pytest.fail("resource leak over the test session: " + "; ".join(problems), pytrace=False)


@pytest.fixture(params=["sequential", "parallel"])
def parallel(request, monkeypatch):
    """Parallel pyav decode on (a 4-slot allowance, more than enough contexts) or off."""
    from trtllm_mmfast.video import _parallel

    if request.param == "parallel":
        monkeypatch.setattr(_parallel, "_allowance", _parallel.DecodeThreads(4))
        monkeypatch.delenv(_parallel.ENV_PARALLEL_RUNS, raising=False)
    else:
        monkeypatch.setenv(_parallel.ENV_PARALLEL_RUNS, "1")
    return request.param
