"""What the pyav decode keeps in memory (issue 16's memory target): frames resized on decode never
exist as a full-size RGB copy, and no decoded frame outlives the call that took it. Pixels first:
every shortcut here must give the same bytes as the plain path."""

from __future__ import annotations

import dataclasses

import gc
import tracemalloc

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("transformers")
av = pytest.importorskip("av")

from conftest import clip_bytes  # noqa: E402
from trtllm_mmfast import load_video  # noqa: E402
from trtllm_mmfast.processors.qwen3_vl import sampler_for, wrap  # noqa: E402
from trtllm_mmfast.processors.tiny import tiny_processor  # noqa: E402
from trtllm_mmfast.synth import ClipSpec  # noqa: E402
from trtllm_mmfast.video import _parallel, pyav_backend  # noqa: E402
from trtllm_mmfast.video.resize import ResizePlan  # noqa: E402

# 640 * 3 bytes a row: bgr24 rows unpadded (the bgr frame is resized in place of an RGB copy);
# 322 * 3 = 966: rows padded to the alignment (the sink's full-size scratch is used instead).
CLIPS = {
    "aligned": ClipSpec(width=640, height=360, num_frames=120, fps=30, gop=30, bframes=2),
    "padded": ClipSpec(width=322, height=182, num_frames=90, fps=30, gop=15, bframes=3),
    "upscaled": ClipSpec(width=64, height=48, num_frames=60, fps=30, gop=12, bframes=2),
}


@pytest.fixture(scope="module")
def fast():
    return wrap(tiny_processor())


@pytest.mark.parametrize("name", sorted(CLIPS))
@pytest.mark.parametrize("num_frames", [6, 24])
def test_resized_on_decode_equals_full_frames_resized(fast, name, num_frames, parallel):
    """Frame by frame: ``resize_for=`` gives the processor's resize of each full RGB frame."""
    data = clip_bytes(CLIPS[name])
    sampler = sampler_for(fast)
    full = load_video(data, backend="pyav", sampler=sampler, num_frames=num_frames)
    small = load_video(data, backend="pyav", sampler=sampler, num_frames=num_frames, resize_for=fast)
    assert small.metadata.frames_indices == full.metadata.frames_indices
    plan = ResizePlan.of(fast)
    n, h, w, _ = full.frames.shape
    size = plan.size(n, h, w)
    assert size is not None and small.frames.shape == (n, *size, 3)
    want = np.empty_like(small.frames)
    for i in range(n):
        plan.resize_into(np.ascontiguousarray(full.frames[i]), want[i])
    np.testing.assert_array_equal(small.frames, want)


def test_resize_commutes_with_channel_order(fast):
    """The shortcut's premise, on the processor's own resize: resizing BGR then swapping channels
    is resizing RGB (each channel filtered on its own), down and up, at odd sizes too."""
    plan = ResizePlan.of(fast)
    rng = np.random.default_rng(16)
    for (hh, ww), (h, w) in [((360, 640), (32, 64)), ((182, 322), (96, 160)), ((49, 65), (64, 96))]:
        bgr = rng.integers(0, 256, (hh, ww, 3), dtype=np.uint8)
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        a, b = np.empty((h, w, 3), np.uint8), np.empty((h, w, 3), np.uint8)
        plan.resize_into(rgb, a)
        plan.resize_into(bgr, b)
        np.testing.assert_array_equal(a, b[..., ::-1])


def test_no_full_size_rgb_copy_when_resizing(fast, parallel):
    """Resizing on decode with unpadded rows allocates no full-size RGB array besides the output
    (numpy's allocations are traced; the decoder's and swscale's buffers are not numpy's)."""
    spec = CLIPS["aligned"]
    data = clip_bytes(spec)
    sampler = sampler_for(fast)
    load_video(data, backend="pyav", sampler=sampler, num_frames=8, resize_for=fast)  # warm: imports, plans
    frame_bytes = spec.width * spec.height * 3
    tracemalloc.start()
    try:
        video = load_video(data, backend="pyav", sampler=sampler, num_frames=24, resize_for=fast)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    extra = peak - video.frames.nbytes  # beyond the output array itself
    assert extra < frame_bytes, f"a full-size frame was allocated: {extra} bytes besides the output ({frame_bytes} a frame)"


def _live_frames() -> int:
    """Decoded frames alive (PyAV's codec context keeps one empty frame ready to receive into: not counted)."""
    return sum(type(o) is av.VideoFrame and o.width > 0 for o in gc.get_objects())


@pytest.mark.parametrize("path", ["sparse", "linear"])
def test_no_decoded_frame_outlives_its_packet(path, monkeypatch):
    """When a packet goes to the decoder, no frame decoded from an earlier packet is still
    referenced (one would pin a picture of the decoder's buffer pool), and none is left after:
    on the sparse path (pts) and the linear one (a raw H.264 stream has no pts)."""
    spec = CLIPS["padded"]
    data = clip_bytes(spec if path == "sparse" else dataclasses.replace(spec, container="h264"))
    monkeypatch.setenv(_parallel.ENV_PARALLEL_RUNS, "1")  # one context: the count is this thread's
    seen: list[int] = []
    real = pyav_backend._PyAVVideo._send

    def spy(self, q, pkt, **kw):
        seen.append(_live_frames())
        return real(self, q, pkt, **kw)

    gc.collect()
    before = _live_frames()
    monkeypatch.setattr(pyav_backend._PyAVVideo, "_send", spy)
    video = load_video(data, backend="pyav", num_frames=12)
    assert len(video.metadata.frames_indices) == 12 and seen
    assert max(seen) == before, f"decoded frames alive while later packets decode: {sorted(set(seen))}"
    gc.collect()
    assert _live_frames() == before
