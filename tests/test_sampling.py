"""Samplers against transformers' own Qwen3-VL sample_frames, and TensorRT-LLM's stock formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trtllm_mmfast.video.sampling import (
    Qwen3VLSampler,
    get_sampler,
    qwen3_vl_indices,
    uniform_indices,
)

SOURCE_FPS = [23.976, 25, 29.97, 30, 60]
REQ_FPS = [0.5, 1, 2, 4, 8, 30]
REQ_NUM = [4, 7, 64]


@pytest.fixture(scope="module")
def hf_video_processor():
    pytest.importorskip("torchvision")
    from transformers import Qwen3VLVideoProcessor

    return Qwen3VLVideoProcessor()


@pytest.mark.parametrize("source_fps", SOURCE_FPS)
def test_qwen3_vl_equals_transformers(hf_video_processor, source_fps):
    from transformers.video_utils import VideoMetadata as HFMeta

    for total in range(1, 2001):
        for req in [{}] + [{"fps": f} for f in REQ_FPS] + [{"num_frames": n} for n in REQ_NUM]:
            meta = HFMeta(total_num_frames=total, fps=source_fps)
            want = hf_video_processor.sample_frames(meta, **req)
            got = qwen3_vl_indices(total, source_fps, **req)
            if not np.array_equal(got, want):
                pytest.fail(f"total={total} fps={source_fps} {req}: {got.tolist()} != {want.tolist()}")


def test_qwen3_vl_sampler_uses_processor_defaults(hf_video_processor):
    from transformers import Qwen3VLVideoProcessor
    from transformers.video_utils import VideoMetadata as HFMeta

    vp = Qwen3VLVideoProcessor(fps=1, min_frames=6, max_frames=20)
    sampler = Qwen3VLSampler.from_processor(vp)
    assert (sampler.fps, sampler.min_frames, sampler.max_frames) == (1, 6, 20)
    for total in (3, 10, 100, 1000):
        for req in ({}, {"fps": 4}, {"num_frames": 5}):
            want = vp.sample_frames(HFMeta(total_num_frames=total, fps=30.0), **req)
            assert np.array_equal(sampler(total, 30.0, **req), want)


def test_qwen3_vl_rejects_fps_with_num_frames():
    with pytest.raises(ValueError, match="mutually exclusive"):
        qwen3_vl_indices(100, 30, fps=2, num_frames=8)


@pytest.mark.parametrize("bad", [{"fps": 0}, {"fps": -1}, {"num_frames": 0}])
def test_qwen3_vl_rejects_nonpositive_requests(bad):
    with pytest.raises(ValueError):
        qwen3_vl_indices(100, 30, **bad)


def _trtllm_stock(total: int, src_fps: float, num_frames: int, fps: float) -> list[int]:
    """TensorRT-LLM 1.2.x ``_load_video_by_cv2`` sampling, transcribed from TRTLLM_HOOKS.md §1.1."""
    duration = total / src_fps if src_fps > 0 else 0
    n = total
    if num_frames > 0:
        n = min(num_frames, n)
    if fps > 0:
        n = min(n, math.floor(duration * fps))
    n = max(1, n)
    return list(range(n)) if n == total else np.linspace(0, total - 1, n, dtype=int).tolist()


@pytest.mark.parametrize("source_fps", SOURCE_FPS)
def test_uniform_equals_trtllm_stock_formula(source_fps):
    for total in range(1, 600):
        for num_frames, fps in [(10, 30), (10, 2), (64, 1), (4, 0.5), (1000, 30)]:
            got = uniform_indices(total, source_fps, fps=fps, num_frames=num_frames).tolist()
            assert got == _trtllm_stock(total, source_fps, num_frames, fps), (total, num_frames, fps)


def test_uniform_truncates_where_qwen_rounds():
    # 10 frames of 100 at 30 fps: stock linspace(dtype=int) floors, HF rounds -> different frames.
    assert uniform_indices(100, 30, num_frames=10).tolist() == [0, 11, 22, 33, 44, 55, 66, 77, 88, 99]
    assert qwen3_vl_indices(100, 30, num_frames=10).tolist() == [0, 11, 22, 33, 44, 55, 66, 77, 88, 99]
    assert uniform_indices(90, 30, num_frames=4).tolist() == [0, 29, 59, 89]
    assert uniform_indices(91, 30, num_frames=4).tolist() == [0, 30, 60, 90]
    assert uniform_indices(92, 30, num_frames=4).tolist() == [0, 30, 60, 91]
    assert qwen3_vl_indices(92, 30, num_frames=4).tolist() == [0, 30, 61, 91]


def test_get_sampler_names_and_unknown():
    assert get_sampler("qwen3_vl").name == "qwen3_vl"
    assert get_sampler("uniform").name == "uniform"
    custom = Qwen3VLSampler(fps=1)
    assert get_sampler(custom) is custom
    with pytest.raises(ValueError, match="qwen3_vl, uniform"):
        get_sampler("nope")


@pytest.mark.parametrize("fn", [qwen3_vl_indices, uniform_indices])
def test_samplers_reject_bad_metadata(fn):
    with pytest.raises(ValueError, match="total_num_frames"):
        fn(0, 30)
    with pytest.raises(ValueError, match="fps"):
        fn(10, 0)
