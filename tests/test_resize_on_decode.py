"""Frames resized as they are decoded (``load_video(..., resize_for=processor)``, ``video.resize``):
the processor outputs equal stock transformers on the full-size frames, bit for bit."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("transformers")
av = pytest.importorskip("av")

from conftest import clip_bytes  # noqa: E402
from test_parallel_decode import break_packets, remux, x265  # noqa: E402
from test_qwen3_vl import CLIPS, PROMPT, assert_same, stock  # noqa: E402
from trtllm_mmfast import load_video  # noqa: E402
from trtllm_mmfast.processors.qwen3_vl import sampler_for, wrap  # noqa: E402
from trtllm_mmfast.processors.tiny import tiny_processor  # noqa: E402
from trtllm_mmfast.synth import ClipSpec  # noqa: E402
from trtllm_mmfast.video import open_video  # noqa: E402
from trtllm_mmfast.video.resize import ResizePlan  # noqa: E402

REQUESTS = [{}, {"fps": 1}, {"fps": 4}, {"num_frames": 8}]
BACKENDS = ["pyav", "opencv"]
BIG = ClipSpec(width=640, height=360, num_frames=300, fps=30, gop=30, bframes=2)  # shrunk, not enlarged


@pytest.fixture(scope="module")
def fast():
    return wrap(tiny_processor())


@pytest.fixture(scope="module")
def fresh():
    return tiny_processor()


def stock_on(fresh, video, **req):
    """Stock transformers given our full-size frames and their metadata (it resizes itself)."""
    meta = video.metadata.to_hf()
    return fresh(text=[PROMPT], videos=[video.frames], video_metadata=[meta], do_sample_frames=False, return_tensors="pt")


def check_video(video, full, fast):
    m = video.metadata
    assert m.frames_size is not None and video.frames.shape == (len(video), *m.frames_size, 3)
    assert (m.width, m.height) == (full.metadata.width, full.metadata.height)  # the source's size
    assert m.frames_indices == full.metadata.frames_indices
    assert ResizePlan.of(fast).size(len(video), m.height, m.width) == m.frames_size


@pytest.mark.parametrize("spec", [*CLIPS, BIG], ids=lambda s: f"{s.width}x{s.height}-{s.fps}fps-{s.num_frames}f")
@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: ",".join(f"{k}={v}" for k, v in r.items()) or "default")
@pytest.mark.parametrize("backend", BACKENDS)
def test_equal_to_stock_on_full_frames(fast, fresh, spec, req, backend, parallel):
    data = clip_bytes(spec)
    video = load_video(data, sampler=sampler_for(fast), backend=backend, resize_for=fast, **req)
    full = load_video(data, sampler=sampler_for(fast), backend=backend, **req)
    check_video(video, full, fast)
    out = fast(text=[PROMPT], videos=video, **req)
    assert_same(out, stock(fresh, data, PROMPT, **req))  # stock sampling the whole video itself


CODECS = {
    "odd-size-444": ClipSpec(width=97, height=61, num_frames=90, fps=30, pix_fmt="yuv444p", gop=30, bframes=2),
    "odd-size-mpeg4": ClipSpec(width=65, height=49, num_frames=60, fps=30, codec="mpeg4", gop=12),
    "10-bit": ClipSpec(width=160, height=96, num_frames=90, fps=30, gop=30, pix_fmt="yuv420p10le"),
    "hevc": ClipSpec(width=160, height=96, num_frames=120, fps=30, codec="libx265", gop=10, options=x265("bframes=3")),
    "wide": ClipSpec(width=480, height=64, num_frames=120, fps=30, gop=12, bframes=3),
}


@pytest.mark.parametrize("name", sorted(CODECS))
@pytest.mark.parametrize("req", REQUESTS[:2] + REQUESTS[3:], ids=lambda r: ",".join(f"{k}={v}" for k, v in r.items()) or "default")
@pytest.mark.parametrize("backend", BACKENDS)
def test_codecs_equal_to_stock(fast, fresh, name, req, backend, parallel):
    data = clip_bytes(CODECS[name])
    video = load_video(data, sampler=sampler_for(fast), backend=backend, resize_for=fast, **req)
    full = load_video(data, sampler=sampler_for(fast), backend=backend, **req)
    check_video(video, full, fast)
    assert_same(fast(text=[PROMPT], videos=video), stock_on(fresh, full))


@pytest.mark.parametrize("rotate", [90, 180, 270])
@pytest.mark.parametrize("req", [{}, {"num_frames": 8}], ids=["default", "num_frames=8"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_rotated_stream_exact(fast, fresh, rotate, req, backend, parallel):
    """pyav learns the rotation at the first frame: the plan is made again for the display size."""
    data = remux(clip_bytes(ClipSpec(width=160, height=96, num_frames=120, fps=30, gop=12, bframes=3)), "mp4", rotate=rotate)
    video = load_video(data, sampler=sampler_for(fast), backend=backend, resize_for=fast, **req)
    full = load_video(data, sampler=sampler_for(fast), backend=backend, **req)
    assert (full.metadata.width, full.metadata.height) == ((96, 160) if rotate % 180 else (160, 96))
    check_video(video, full, fast)
    assert_same(fast(text=[PROMPT], videos=video), stock_on(fresh, full))


def test_repeats(fast, fresh, parallel):
    data = clip_bytes(CLIPS[0])  # 90 frames
    with open_video(data, backend="pyav") as v:
        idx = np.sort(np.concatenate([np.arange(0, 90, 9), np.arange(0, 90, 9)[:4]]))
        video = v.decode(idx, resize_for=fast)
        full = v.decode(idx)
    check_video(video, full, fast)
    for k in range(len(idx) - 1):
        if idx[k] == idx[k + 1]:
            np.testing.assert_array_equal(video.frames[k], video.frames[k + 1])
    assert_same(fast(text=[PROMPT], videos=video), stock_on(fresh, full))


def _truncated(cut: int) -> bytes:
    whole = clip_bytes(ClipSpec(width=160, height=96, num_frames=120, fps=30, gop=12, bframes=3, faststart=True))
    return whole[: len(whole) * cut // 100]


@pytest.mark.parametrize("cut", [30, 55, 80])
@pytest.mark.parametrize("backend", BACKENDS)
def test_truncated_exact(fast, fresh, cut, backend, parallel, no_leaks):
    """Fewer frames than planned: the size is that of the count that came out (decoded again when it differs)."""
    data = _truncated(cut)
    for req in ({}, {"num_frames": 16}):
        video = load_video(data, sampler=sampler_for(fast), backend=backend, resize_for=fast, **req)
        full = load_video(data, sampler=sampler_for(fast), backend=backend, **req)
        check_video(video, full, fast)
        assert_same(fast(text=[PROMPT], videos=video), stock_on(fresh, full))


def test_damage_changing_the_plan_decodes_again(fast, fresh, monkeypatch):
    """A decode losing frames so that the plan changes is redone at the new plan, exactly."""
    from test_parallel_decode import _disposable

    clean = clip_bytes(ClipSpec(width=160, height=96, num_frames=120, fps=30, gop=12, bframes=3))
    data = break_packets(clean, list(range(13, 120, 9)))
    calls = []
    from trtllm_mmfast.video import pyav_backend

    real = pyav_backend._PyAVVideo.decode

    def spy(self, indices, allocator, resize=None):
        calls.append((len(indices), resize and resize[1]))
        return real(self, indices, allocator, resize)

    monkeypatch.setattr(pyav_backend._PyAVVideo, "decode", spy)
    video = load_video(data, sampler=sampler_for(fast), backend="pyav", resize_for=fast, num_frames=60)
    monkeypatch.undo()
    full = load_video(data, sampler=sampler_for(fast), backend="pyav", num_frames=60)
    assert len(full) < 60 and _disposable(clean)
    check_video(video, full, fast)
    plan = ResizePlan.of(fast)
    assert plan.size(len(full), 96, 160) != plan.size(60, 96, 160)  # the case this test is about
    assert calls == [(60, plan.size(60, 96, 160)), (len(full), plan.size(len(full), 96, 160))]
    assert_same(fast(text=[PROMPT], videos=video), stock_on(fresh, full))


def test_no_plan_gives_full_frames(fast):
    data = clip_bytes(CLIPS[0])
    with open_video(data) as v:
        video = v.decode(np.array([5]), resize_for=fast)  # one frame: the processor's resize refuses it
    assert video.metadata.frames_size is None and video.frames.shape == (1, 96, 128, 3)


def test_processor_rejects_mixes_and_overrides(fast):
    data = clip_bytes(CLIPS[0])
    small = load_video(data, sampler=sampler_for(fast), resize_for=fast)
    plain = load_video(data, sampler=sampler_for(fast))
    with pytest.raises(ValueError, match="some videos"):
        fast(text=[PROMPT + PROMPT], videos=[small, plain])
    with pytest.raises(ValueError, match="resize settings"):
        fast(text=[PROMPT], videos=small, size={"shortest_edge": 4096, "longest_edge": 65536})
    other = wrap(tiny_processor())
    other.hf.video_processor.size = {"shortest_edge": 4096, "longest_edge": 65536}
    with pytest.raises(ValueError, match="differently"):
        other(text=[PROMPT], videos=small)


def test_async_and_cache(fast, fresh):
    from trtllm_mmfast.cache import VideoCache
    from trtllm_mmfast.runtime.pipeline import load_video_async, release_frames

    data = clip_bytes(BIG)
    video = asyncio.run(load_video_async(data, fps=1, sampler=sampler_for(fast), resize_for=fast))
    try:
        assert video.metadata.frames_size is not None and video.frames.shape[1:3] == video.metadata.frames_size
        assert_same(fast(text=[PROMPT], videos=video), stock(fresh, data, PROMPT, fps=1))
    finally:
        release_frames(video)
    cache = VideoCache(max_bytes=1 << 28)
    a = load_video(data, fps=1, sampler=sampler_for(fast), cache=cache, resize_for=fast)
    b = load_video(data, fps=1, sampler=sampler_for(fast), cache=cache)
    assert a.metadata.frames_size is not None and b.metadata.frames_size is None  # not the same entry
    assert load_video(data, fps=1, sampler=sampler_for(fast), cache=cache, resize_for=fast) is a


def test_backend_without_resize_on_decode_resizes_after(fast, fresh, monkeypatch):
    from trtllm_mmfast.video import opencv_backend

    monkeypatch.setattr(opencv_backend._OpenCVVideo, "resize_on_decode", False)
    data = clip_bytes(BIG)
    video = load_video(data, sampler=sampler_for(fast), backend="opencv", resize_for=fast)
    full = load_video(data, sampler=sampler_for(fast), backend="opencv")
    check_video(video, full, fast)
    assert_same(fast(text=[PROMPT], videos=video), stock_on(fresh, full))


def test_rotation_refused_by_the_plan_falls_back_exactly(fast, fresh, monkeypatch, parallel):
    """A processor whose plan is not symmetric: the rotated video is decoded full size, resized after."""
    from trtllm_mmfast.video import resize

    def refuse(self):
        raise resize.PlanChanged("test")

    monkeypatch.setattr(resize.ResizingSink, "transpose_size", refuse)
    data = remux(clip_bytes(ClipSpec(width=160, height=96, num_frames=120, fps=30, gop=12, bframes=3)), "mp4", rotate=90)
    video = load_video(data, sampler=sampler_for(fast), backend="pyav", resize_for=fast)
    full = load_video(data, sampler=sampler_for(fast), backend="pyav")
    assert (video.metadata.width, video.metadata.height) == (96, 160)
    check_video(video, full, fast)
    assert_same(fast(text=[PROMPT], videos=video), stock_on(fresh, full))


@pytest.mark.parametrize("req", [{}, {"num_frames": 8}], ids=["default", "num_frames=8"])
def test_per_frame_cap_setting_is_followed(req):
    capped, fresh_capped = tiny_processor(), tiny_processor()
    capped.video_processor.cap_pixels_per_frame = fresh_capped.video_processor.cap_pixels_per_frame = True
    fast = wrap(capped)
    data = clip_bytes(BIG)
    video = load_video(data, sampler=sampler_for(fast), resize_for=fast, **req)
    full = load_video(data, sampler=sampler_for(fast), **req)
    check_video(video, full, fast)
    assert video.metadata.frames_size != ResizePlan.of(tiny_processor()).size(len(video), 360, 640)  # the cap mattered
    assert_same(fast(text=[PROMPT], videos=video), stock_on(fresh_capped, full))
