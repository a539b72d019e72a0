"""The opencv backend: pixel-exact against a full PyAV reference decode, in memory, no leaks."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import clip_bytes, plain_rgb24_frames, reference_frames
from trtllm_mmfast import InvalidMediaError, load_video
from trtllm_mmfast.synth import ClipSpec
from trtllm_mmfast.video import opencv_backend

CLIPS = [
    ClipSpec(width=96, height=64, num_frames=75, fps=30, gop=250, bframes=0),
    ClipSpec(width=96, height=64, num_frames=75, fps=30, gop=250, bframes=3),
    ClipSpec(width=96, height=64, num_frames=75, fps=30, gop=12, bframes=3),
    ClipSpec(width=96, height=64, num_frames=60, fps=24, gop=12, bframes=0),
    ClipSpec(width=96, height=64, num_frames=150, fps=60, gop=250, bframes=3),
    # odd sizes: 4:2:0 H.264 needs even sizes, so odd ones are 4:4:4 (and MPEG-4 part 2)
    ClipSpec(width=65, height=49, num_frames=40, fps=30, pix_fmt="yuv444p", gop=12, bframes=3),
    ClipSpec(width=65, height=49, num_frames=40, fps=30, codec="mpeg4", gop=12),
    ClipSpec(width=64, height=48, num_frames=30, fps=30, pix_fmt="yuv420p10le", gop=12),  # 10-bit -> 8-bit RGB
]


def test_reference_equals_plain_rgb24_for_8bit_even_sizes(small_clip):
    np.testing.assert_array_equal(reference_frames(small_clip), plain_rgb24_frames(small_clip))


@pytest.mark.parametrize("spec", CLIPS, ids=lambda s: f"{s.codec}-{s.width}x{s.height}-{s.fps}fps-g{s.gop}-b{s.bframes}")
@pytest.mark.parametrize("req", [{}, {"fps": 1}, {"fps": 8}, {"num_frames": 7}, {"num_frames": 200}])
def test_pixel_exact_at_sampled_indices(spec, req):
    data = clip_bytes(spec)
    ref = reference_frames(data)
    video = load_video(data, backend="opencv", **req)
    meta = video.metadata
    assert meta.backend == "opencv"
    assert meta.total_num_frames == len(ref) == spec.num_frames
    assert meta.fps == pytest.approx(spec.fps, rel=1e-3)
    assert (meta.width, meta.height) == (spec.width, spec.height)
    f = video.frames
    assert f.dtype == np.uint8 and f.flags.c_contiguous and f.shape == (len(meta.frames_indices), spec.height, spec.width, 3)
    np.testing.assert_array_equal(f, ref[list(meta.frames_indices)])


def test_indices_follow_the_sampler(small_clip):
    from trtllm_mmfast.video.sampling import qwen3_vl_indices, uniform_indices

    v = load_video(small_clip, fps=2, backend="opencv")
    assert list(v.metadata.frames_indices) == qwen3_vl_indices(90, 30.0, fps=2).tolist()
    u = load_video(small_clip, fps=2, num_frames=10, sampler="uniform", backend="opencv")
    assert list(u.metadata.frames_indices) == uniform_indices(90, 30.0, fps=2, num_frames=10).tolist()


def test_tempfile_fallback_is_exact_and_cleaned(monkeypatch, small_clip, no_leaks):
    monkeypatch.setattr(opencv_backend, "USE_STREAM_BUFFER", False)  # the default
    spilled = []
    real_spill = opencv_backend._OpenCVVideo._spill

    def spy(data):
        path = real_spill(data)
        spilled.append(path)
        return path

    monkeypatch.setattr(opencv_backend._OpenCVVideo, "_spill", staticmethod(spy))
    v = load_video(small_clip, fps=4, backend="opencv")
    assert len(spilled) == 1
    np.testing.assert_array_equal(v.frames, reference_frames(small_clip)[list(v.metadata.frames_indices)])
    # bad input through the fallback: error, and the file is still removed
    with pytest.raises(InvalidMediaError):
        load_video(b"\x00" * 5000, backend="opencv")
    assert len(spilled) == 2
    import os

    assert not any(os.path.exists(p) for p in spilled)


def test_tempfile_removed_when_decode_raises(monkeypatch, small_clip, no_leaks):
    monkeypatch.setattr(opencv_backend, "USE_STREAM_BUFFER", False)

    class Boom:  # raises inside the backend's decode, where it allocates the frame array
        device = "cpu"

        def empty(self, n, height, width):
            raise RuntimeError("decoder exploded")

    with pytest.raises(RuntimeError, match="exploded"):
        load_video(small_clip, backend="opencv", allocator=Boom())


def test_in_memory_path_writes_no_file(monkeypatch, small_clip, no_leaks):
    def forbidden(data):
        raise AssertionError("spilled to disk although a stream-buffered backend exists")

    monkeypatch.setattr(opencv_backend, "USE_STREAM_BUFFER", True)  # opt-in (module doc)
    if opencv_backend.stream_backend_id(__import__("cv2")) is None:
        pytest.skip("this OpenCV has no stream-buffered backend")
    monkeypatch.setattr(opencv_backend._OpenCVVideo, "_spill", staticmethod(forbidden))
    v = load_video(small_clip, backend="opencv", fps=4)
    np.testing.assert_array_equal(v.frames, reference_frames(small_clip)[list(v.metadata.frames_indices)])


def test_stream_buffer_is_opt_in_because_it_crashes_on_damaged_input():
    """OpenCV 5.0's stream-buffered reader segfaults on this damaged AVI; the default path must not."""
    import subprocess
    import sys

    code = (
        "import sys; sys.path.insert(0, 'tests'); from test_fuzz import mutate; "
        "from trtllm_mmfast import load_video, MMFastError\n"
        "try:\n    load_video(mutate('mpeg4-avi', [('insert', 5975, 1638, 8269)]), backend='opencv')\n"
        "except MMFastError:\n    pass\n"
    )
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    env = {k: v for k, v in __import__("os").environ.items() if k != "TRTLLM_MMFAST_OPENCV_STREAM_BUFFER"}
    r = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-2000:]


def test_first_uncertain_finds_the_first_timestamp_gap_near_the_end():
    from trtllm_mmfast.video.opencv_backend import REORDER_WINDOW, first_uncertain

    step = 1000 / 30
    clean = [i * step for i in range(40)]
    assert first_uncertain(clean, 30.0) == 40  # no gap: every number is certain
    # frame 44 came out right after frame 40 (41..43 lost at the cut): numbers from there on are wrong
    cut = [i * step for i in range(41)] + [44 * step]
    assert first_uncertain(cut, 30.0) == 41
    pyramid = [i * step for i in range(41)] + [42 * step, 44 * step]
    assert first_uncertain(pyramid, 30.0) == 41
    assert first_uncertain([0.0, 2 * step], 30.0) == 1  # too few frames for a median: the nominal step
    # a gap long before the end is not a reordering loss (e.g. variable frame rate)
    early = [0.0] + [(i + 5) * step for i in range(1, 40)]
    assert first_uncertain(early, 30.0) == 40
    # no usable timestamps: the whole reorder window is uncertain
    assert first_uncertain([0.0] * 40, 30.0) == 40 - REORDER_WINDOW
