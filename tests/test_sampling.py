"""Samplers against transformers' own Qwen3-VL / Qwen2-VL sample_frames, and TensorRT-LLM's stock formula."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from trtllm_mmfast.video.sampling import (
    Qwen2VLSampler,
    Qwen3VLSampler,
    get_sampler,
    qwen2_vl_indices,
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
    assert get_sampler("qwen2_vl").name == "qwen2_vl"
    assert get_sampler("uniform").name == "uniform"
    custom = Qwen3VLSampler(fps=1)
    assert get_sampler(custom) is custom
    with pytest.raises(ValueError, match="qwen3_vl, uniform"):
        get_sampler("nope")


@pytest.mark.parametrize("fn", [qwen3_vl_indices, qwen2_vl_indices, uniform_indices])
def test_samplers_reject_bad_metadata(fn):
    with pytest.raises(ValueError, match="total_num_frames"):
        fn(0, 30)
    with pytest.raises(ValueError, match="fps"):
        fn(10, 0)


# --- qwen2_vl: transformers' Qwen2VLVideoProcessor.sample_frames (Qwen2-VL and Qwen2.5-VL) ---

QWEN2_REQ_NUM = [1, 2, 3, 4, 5, 7, 8, 64]  # odd counts: Python's round() to a multiple of the patch


@pytest.fixture(scope="module")
def hf_qwen2_video_processor():
    pytest.importorskip("torchvision")
    from transformers import Qwen2VLVideoProcessor

    return Qwen2VLVideoProcessor()


def _same_as_hf(vp, total: int, source_fps: float, ours, **req) -> str | None:
    """None when ``ours`` (our sampler with the same settings) agrees with ``vp.sample_frames``:
    the same indices, or both failing (transformers with any error, ours with ValueError)."""
    from transformers.video_utils import VideoMetadata as HFMeta

    try:
        want = vp.sample_frames(HFMeta(total_num_frames=total, fps=source_fps), **req).numpy()
    except Exception as e:  # ZeroDivisionError / ValueError inside transformers
        want = e
    try:
        got = ours(total, source_fps, **{k: v for k, v in req.items() if k in ("fps", "num_frames")})
    except ValueError as e:
        got = e
    if isinstance(want, Exception) or isinstance(got, Exception):
        if isinstance(want, Exception) and isinstance(got, Exception):
            return None
        return f"transformers: {want!r}, ours: {got!r}"
    return None if np.array_equal(got, want) else f"{got.tolist()} != {want.tolist()}"


@pytest.mark.parametrize("source_fps", SOURCE_FPS)
@pytest.mark.parametrize("temporal_patch_size", [2, 1])
def test_qwen2_vl_equals_transformers(hf_qwen2_video_processor, source_fps, temporal_patch_size):
    vp, tps = hf_qwen2_video_processor, temporal_patch_size
    ours = Qwen2VLSampler(temporal_patch_size=tps)
    requests = [{"fps": f} for f in REQ_FPS] + [{"num_frames": n} for n in QWEN2_REQ_NUM]
    for total in range(1, 2001 if tps == 2 else 401):
        for req in requests:
            err = _same_as_hf(vp, total, source_fps, ours, temporal_patch_size=tps, **req)
            if err:
                pytest.fail(f"total={total} fps={source_fps} tps={tps} {req}: {err}")


def test_qwen2_vl_fails_where_transformers_fails(hf_qwen2_video_processor):
    cases = [
        (100, 30, {"num_frames": 1}),  # round(1 / 2) * 2 == 0 frames
        (1, 30, {"fps": 2}),  # 1 frame floors to 0 at temporal patch 2
        (10, 30, {"num_frames": 12}),  # more frames than the video has
        (10, 30, {"num_frames": 11}),  # round(5.5) * 2 == 12 > 10
    ]
    for total, src, req in cases:
        assert _same_as_hf(hf_qwen2_video_processor, total, src, Qwen2VLSampler(), **req) is None
        with pytest.raises(ValueError):
            qwen2_vl_indices(total, src, **req)
    with pytest.raises(ValueError, match="exceeds"):
        qwen2_vl_indices(10, 30, num_frames=12)
    with pytest.raises(ValueError, match="mutually exclusive"):
        qwen2_vl_indices(100, 30, fps=2, num_frames=8)
    for bad in ({"fps": 0}, {"fps": -1}, {"num_frames": 0}):
        with pytest.raises(ValueError):
            qwen2_vl_indices(100, 30, **bad)


def test_qwen2_vl_without_a_target_keeps_every_frame(hf_qwen2_video_processor):
    # No fps, no num_frames (the processor's defaults are None): the stock processor does not
    # sample (do_sample_frames defaults to False) and sees every frame; so do we.
    assert (hf_qwen2_video_processor.fps, hf_qwen2_video_processor.num_frames) == (None, None)
    assert qwen2_vl_indices(91, 30).tolist() == list(range(91))
    assert Qwen2VLSampler()(7, 25.0).tolist() == list(range(7))


def test_qwen2_vl_sampler_uses_processor_defaults():
    pytest.importorskip("torchvision")
    from transformers import Qwen2VLVideoProcessor
    from transformers.video_utils import VideoMetadata as HFMeta

    vp = Qwen2VLVideoProcessor(fps=1, min_frames=6, max_frames=20, temporal_patch_size=2)
    sampler = Qwen2VLSampler.from_processor(vp)
    assert (sampler.fps, sampler.num_frames, sampler.min_frames, sampler.max_frames) == (1, None, 6, 20)
    for total in (3, 10, 100, 1000):
        for req in ({}, {"fps": 4}, {"num_frames": 6}):
            err = _same_as_hf(vp, total, 30.0, sampler, **req)
            assert err is None, (total, req, err)
    by_count = Qwen2VLVideoProcessor(num_frames=10)
    sampler = Qwen2VLSampler.from_processor(by_count)
    assert sampler.num_frames == 10
    for total in (10, 11, 250):  # the processor's own count wins over a request's fps, as in transformers
        assert _same_as_hf(by_count, total, 30.0, sampler, fps=2) is None
        assert len(sampler(total, 30.0, fps=2)) == 10


def _long_video_cases(count: int) -> list[tuple[int, int]]:
    import random

    rng = random.Random(7)
    cases = []
    for _ in range(count):
        total = rng.randint(1000, 20_000_000)
        cases.append((total, 2 * rng.randint(1, min(total, 32768) // 2)))
    return cases


def test_qwen2_vl_long_videos_follow_transformers(hf_qwen2_video_processor):
    # float32 indices: for long videos they differ from the exact floor(i * total / n); ours
    # are transformers' own, count and rounding included.
    exact_differs = 0
    for total, n in _long_video_cases(150):
        assert _same_as_hf(hf_qwen2_video_processor, total, 30.0, Qwen2VLSampler(), num_frames=n) is None, (total, n)
        want = qwen2_vl_indices(total, 30.0, num_frames=n)
        exact_differs += not np.array_equal(np.arange(len(want)) * total // n, want)
    assert exact_differs > 0  # the float32 rounding is exercised, not only exact cases


@pytest.mark.skipif(
    __import__("platform").machine().lower() not in ("x86_64", "amd64"), reason="the fallback follows torch's x86 kernel"
)
def test_qwen2_vl_without_torch_follows_torchs_x86_kernel(monkeypatch):
    torch = pytest.importorskip("torch")
    from trtllm_mmfast.video import sampling

    cases = _long_video_cases(300) + [(t, n) for t in (90, 1001, 216_000) for n in (2, 8, 768) if n <= t]
    want = {case: torch.arange(0, case[0], case[0] / case[1]).int().numpy() for case in cases}
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    with pytest.raises(ImportError):
        import torch  # noqa: F401, F811
    for (total, n), w in want.items():
        assert np.array_equal(sampling.qwen2_vl_indices(total, 30.0, num_frames=n), w), (total, n)
