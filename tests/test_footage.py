"""The benchmark footage clip (``trtllm_mmfast.footage``): a real photo, camera motion, looped segments."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")
av = pytest.importorskip("av")

from trtllm_mmfast.footage import footage_clip, footage_frame, photo  # noqa: E402


def test_footage_clip_loops_segments_with_continuous_timestamps(tmp_path):
    path = footage_clip(320, 180, 12, fps=30, segment_s=6, cache_dir=tmp_path)
    assert footage_clip(320, 180, 12, fps=30, segment_s=6, cache_dir=tmp_path) == path  # cached
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert (s.width, s.height, s.average_rate) == (320, 180, 30)
        frames = [(f.pts, f.key_frame, f.to_ndarray(format="rgb24")) for f in c.decode(s)]
    assert len(frames) == 360
    pts = [p for p, _, _ in frames]
    assert pts == sorted(pts) and len(set(np.diff(pts).tolist())) == 1  # one step: no gap at the loop seam
    assert frames[0][1] and frames[180][1]  # each loop starts at the segment's IDR frame
    a, b = frames[5][2], frames[185][2]  # the same frame of each loop: the same picture
    assert np.abs(a.astype(int) - b.astype(int)).max() == 0
    assert np.abs(frames[5][2].astype(int) - frames[90][2].astype(int)).mean() > 5  # the camera moves
    assert not list(tmp_path.glob("*.tmp*"))


def test_footage_frame_is_the_photo_seen_through_a_moving_window():
    src = photo()
    assert src.dtype == np.uint8 and src.ndim == 3 and src.shape[2] == 3
    rng = np.random.default_rng(0)
    f0 = footage_frame(src, 160, 90, 0, 10, rng)
    assert f0.shape == (90, 160, 3) and f0.dtype == np.uint8
    assert f0.std() > 20  # real texture, not a flat field


def test_footage_clip_rejects_a_length_that_is_not_whole_segments(tmp_path):
    with pytest.raises(ValueError, match="multiple of segment_s"):
        footage_clip(320, 180, 10, segment_s=6, cache_dir=tmp_path)
