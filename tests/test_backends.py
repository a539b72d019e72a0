"""The generic backend suite: every registered backend (``conftest.BACKENDS``, read from the
registry) through the public steps, pixel-exact against the reference decode and OpenCV."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from conftest import BACKENDS, clip_bytes, python_stdout, reference_frames
from trtllm_mmfast import InvalidMediaError, load_video
from trtllm_mmfast.synth import ClipSpec
from trtllm_mmfast.video import open_video, registry
from trtllm_mmfast.video.backend import HOST, Decoded, StreamInfo
from trtllm_mmfast.video.sampling import get_sampler
from trtllm_mmfast.video.source import MediaSource

CLIPS = [
    ClipSpec(width=96, height=64, num_frames=90, fps=30, gop=30, bframes=3),
    ClipSpec(width=96, height=64, num_frames=60, fps=25, gop=250, bframes=0),
    ClipSpec(width=64, height=48, num_frames=40, fps=30, gop=10, codec="libx265"),
    ClipSpec(width=96, height=64, num_frames=40, fps=30, gop=12, codec="mpeg4", container="avi"),
]
# num_frames=200 is more than any clip has: the sampler repeats indices
REQUESTS = [{"fps": 2}, {"num_frames": 8, "sampler": "uniform"}, {"num_frames": 200}]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("spec", CLIPS, ids=lambda s: f"{s.codec}-{s.container}-g{s.gop}-b{s.bframes}")
@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: "-".join(f"{k}{v}" for k, v in r.items()))
def test_pixel_exact_against_the_reference_and_opencv(backend, spec, req, caplog):
    data = clip_bytes(spec)
    ref = reference_frames(data)
    video = load_video(data, backend=backend, **req)
    assert _warnings(caplog) == []  # an intact clip is not reported as damaged
    meta = video.metadata
    assert meta.backend == backend and meta.total_num_frames == len(ref) == spec.num_frames
    assert (meta.width, meta.height) == (spec.width, spec.height)
    sampler = get_sampler(req.get("sampler", "qwen3_vl"))
    want = sampler(len(ref), meta.fps, fps=req.get("fps"), num_frames=req.get("num_frames")).tolist()
    assert list(meta.frames_indices) == want  # nothing missing
    f = video.frames
    assert f.dtype == np.uint8 and f.flags.c_contiguous and f.shape == (len(want), spec.height, spec.width, 3)
    np.testing.assert_array_equal(f, ref[want])
    cv = load_video(data, backend="opencv", **req)
    assert dataclasses.replace(cv.metadata, backend=backend) == meta
    np.testing.assert_array_equal(cv.frames, f)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("as_path", [False, True], ids=["bytes", "path"])
def test_open_once_then_decode_more_indices_later(backend, as_path, small_clip, clip_file, no_leaks):
    ref = reference_frames(small_clip)
    with open_video(clip_file if as_path else small_clip, backend=backend) as video:
        assert video.backend == backend and video.info == StreamInfo(total_num_frames=90, fps=30.0, width=96, height=64)
        first = video.sample(fps=2)
        assert video.frame_nbytes(first) == len(first) * 64 * 96 * 3
        a = video.decode(first)
        b = video.decode(video.sample(num_frames=8, sampler="uniform"))  # re-planned after loading
        c = video.decode([89, 89])  # a repeated index, decoded once
    for v in (a, b, c):
        assert v.metadata.backend == backend
        np.testing.assert_array_equal(v.frames, ref[list(v.metadata.frames_indices)])
    assert list(a.metadata.frames_indices) == first.tolist() and len(b) == 8 and list(c.metadata.frames_indices) == [89, 89]
    with pytest.raises(ValueError, match="closed"):
        video.decode([0])
    video.close()  # idempotent


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_indices_are_errors_that_name_them(backend, small_clip, no_leaks):
    with open_video(small_clip, backend=backend) as video:
        for bad, msg in [([], "non-empty"), ([3, 1], "sorted"), ([0, 90], r"\[0, 90\).*0\.\.90"), ([-1], "-1"), ([0.5], "integers")]:
            with pytest.raises(ValueError, match=msg):
                video.decode(bad)
        np.testing.assert_array_equal(video.decode([0]).frames, reference_frames(small_clip)[[0]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_frames_go_into_the_callers_allocation(backend, small_clip):
    class Counting:
        device = "cpu"

        def __init__(self) -> None:
            self.arrays: list[np.ndarray] = []

        def empty(self, n: int, height: int, width: int) -> np.ndarray:
            self.arrays.append(HOST.empty(n, height, width))
            return self.arrays[-1]

    alloc = Counting()
    video = load_video(small_clip, backend=backend, num_frames=8, allocator=alloc)
    assert [a.shape for a in alloc.arrays] == [(8, 64, 96, 3)]
    assert video.frames is alloc.arrays[0]  # written in place, not copied


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_decode_returns_one_frozen_decoded(backend, small_clip, no_leaks):
    handle = registry.get(backend).open(MediaSource(data=small_clip), decoder_threads=1)
    try:
        d = handle.decode(np.array([0, 45, 45, 89]), HOST)
    finally:
        handle.close()
    assert isinstance(d, Decoded) and d.damage is None and d.info == handle.info
    assert d.indices.tolist() == [0, 45, 45, 89] and d.frames.shape == (4, 64, 96, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.damage = "x"  # type: ignore[misc]


def test_decoded_validates_its_fields():
    info = StreamInfo(total_num_frames=10, fps=10.0, width=4, height=2)
    ok = np.zeros((2, 2, 4, 3), np.uint8)
    assert Decoded(ok, np.array([1, 3]), info).damage is None
    with pytest.raises(ValueError, match=r"shape \(2, 2, 4, 3\), expected \(3, 2, 4, 3\)"):
        Decoded(ok, np.array([1, 2, 3]), info)
    with pytest.raises(ValueError, match="sorted"):
        Decoded(ok, np.array([3, 1]), info)
    with pytest.raises(ValueError, match="uint8"):
        Decoded(ok.astype(np.float32), np.array([1, 3]), info)
    with pytest.raises(ValueError, match="integer"):
        Decoded(ok, np.array([1.0, 3.0]), info)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_input_is_invalid_media_and_leaks_nothing(backend, no_leaks):
    with pytest.raises(InvalidMediaError):
        open_video(b"\0" * 4096, backend=backend)


# ---- the registry ---------------------------------------------------------------------------


def test_listing_names_imports_no_backend_module():
    code = (
        "import sys; from trtllm_mmfast.video import registry; names = registry.names(); "
        "print(names, [m for m in sys.modules if m.endswith('_backend')])"
    )
    out = python_stdout(code)
    assert out.strip() == "['nvdec', 'opencv', 'pyav', 'auto'] []"


def test_backend_name_is_the_table_key():
    for name in registry.BUILTIN:
        assert registry.get(name).name == name
    assert registry.resolve("auto").name in registry.BUILTIN


def test_registry_errors_name_the_value_and_the_fix(monkeypatch):
    with pytest.raises(ValueError, match=r"unknown video backend 'nope'; valid: nvdec, opencv, pyav, auto"):
        registry.get("nope")
    monkeypatch.setenv(registry.ENV_VAR, "broken")
    with pytest.raises(ValueError, match=r"TRTLLM_MMFAST_VIDEO_BACKENDS='broken'.*name=module.path"):
        registry.names()
    monkeypatch.setenv(registry.ENV_VAR, "pyav=somewhere.else")
    with pytest.raises(ValueError, match=r"'pyav' is built in .*pick another name"):
        registry.names()
    monkeypatch.setenv(registry.ENV_VAR, "ghost=no_such_module_here")
    assert "cannot import its module no_such_module_here" in registry.available()["ghost"]
    with pytest.raises(ImportError, match="no_such_module_here"):
        registry.resolve("ghost")
    assert registry.resolve("auto").name == "pyav"  # a broken plug-in is never auto's pick
    with pytest.raises(ValueError, match="already registered"):
        registry.register("opencv", "elsewhere")
    with pytest.raises(ValueError, match="invalid video backend name 'auto'"):
        registry.register("auto", "elsewhere")
    monkeypatch.setenv(registry.ENV_VAR, "bare=trtllm_mmfast.video.limits")  # a module without BACKEND
    with pytest.raises(TypeError, match=r"'bare' \(module trtllm_mmfast.video.limits\) lacks BACKEND"):
        registry.get("bare")
    assert "lacks BACKEND" in registry.available()["bare"] and registry.resolve("auto").name == "pyav"
    monkeypatch.setenv(registry.ENV_VAR, "cv=trtllm_mmfast.video.opencv_backend")
    with pytest.raises(ValueError, match=r"already the video backend 'opencv'; use that name instead of 'cv'"):
        registry.names()
