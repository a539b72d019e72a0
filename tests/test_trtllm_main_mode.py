"""The sweep's ``trtllm-main`` baseline is current TensorRT-LLM main's path, and ``fast-trtllm``
gives the model exactly what it gives.

The rules checked here are transcribed from TRTLLM_HOOKS.md §0b (media_io.py @c1d898bb,
modeling_qwen3vl.py @002f3cc3), independently of ``bench/trtllm_main.py``.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

pytest.importorskip("torchvision")
pytest.importorskip("transformers")

import torch  # noqa: E402

from conftest import clip_bytes, reference_frames  # noqa: E402
from trtllm_mmfast.bench import trtllm_main as tm  # noqa: E402
from trtllm_mmfast.bench.modes import PROMPT, RequestPath, get_mode  # noqa: E402
from trtllm_mmfast.processors.tiny import tiny_processor  # noqa: E402
from trtllm_mmfast.synth import ClipSpec  # noqa: E402

# 3 s at 30 fps: fps 1 / 4 and num_frames change what main's loader picks
SPEC = ClipSpec(width=96, height=64, num_frames=90, fps=30, gop=30, bframes=3)
MODEL_INPUTS = ("input_ids", "pixel_values_videos", "video_grid_thw")


def mains_rule(frame_count: int, source_fps: float, num_frames: int, fps: float) -> list[int]:
    """§0b: n = count; num_frames > 0 caps it; fps > 0 caps it by floor(duration * fps); n >= 1."""
    n = frame_count
    if num_frames > 0:
        n = min(num_frames, n)
    if fps > 0:
        n = min(n, math.floor(frame_count / source_fps * fps))
    n = max(1, n)
    return [int(i) for i in np.linspace(0, frame_count - 1, n, dtype=int)]


@pytest.mark.parametrize("frame_count", [1, 2, 5, 9, 10, 11, 30, 90, 299, 300, 301, 1001])
@pytest.mark.parametrize("source_fps", [1.0, 2.5, 24.0, 29.97, 30.0, 60.0])
def test_loader_indices_are_mains(frame_count, source_fps):
    for num_frames in (-1, 0, 1, 4, 10, 64, 10_000):
        for fps in (-1, 0, 0.25, 0.5, 1, 2, 4, 30, 1000):
            got = tm.loader_indices(frame_count, source_fps, num_frames=num_frames, fps=fps)
            assert got == mains_rule(frame_count, source_fps, num_frames, fps), (num_frames, fps)
            assert got == sorted(set(got)) and 0 <= got[0] and got[-1] <= frame_count - 1


def test_loader_clamps_and_the_fps_cap():
    assert tm.loader_indices(300, 30.0) == [0, 33, 66, 99, 132, 166, 199, 232, 265, 299]  # defaults 10 / 30
    assert tm.loader_indices(300, 30.0, num_frames=10_000, fps=-1) == list(range(300))  # clamped to the count
    assert tm.loader_indices(300, 30.0, num_frames=-1, fps=0.5) == [0, 74, 149, 224, 299]  # floor(10 s * 0.5) = 5
    assert tm.loader_indices(300, 30.0, num_frames=100, fps=2) == mains_rule(300, 30.0, 100, 2)  # 20: fps binds
    assert tm.loader_indices(300, 30.0, num_frames=3, fps=2) == [0, 149, 299]  # num_frames binds
    assert tm.loader_indices(90, 30.0, fps=0.1) == [0]  # floor(0.3) = 0 -> at least one frame
    for count, fps in ((0, 30.0), (10, 0.0), (-1, 30.0)):
        with pytest.raises(ValueError, match="no frames or invalid FPS"):
            tm.loader_indices(count, fps)


def test_request_kwargs_follow_mains_merge():
    # a request giving only fps drops num_frames (back to 10); only num_frames drops fps (back to 30)
    assert tm.request_media_io_kwargs() == {"format": "np"}
    assert tm.request_media_io_kwargs(fps=2) == {"format": "np", "fps": 2}
    assert tm.merge_media_io_kwargs({"num_frames": 64, "fps": 8}, {"fps": 2}) == {"fps": 2}
    assert tm.merge_media_io_kwargs({"num_frames": 64, "fps": 8}, {"num_frames": 5}) == {"num_frames": 5}
    assert tm.merge_media_io_kwargs({"num_frames": 64, "fps": 8}, {}) == {"num_frames": 64, "fps": 8}


@pytest.mark.parametrize("in_memory", [True, False], ids=["bytesio", "tempfile"])
@pytest.mark.parametrize("num_frames,fps", [(10, 30), (10, 1), (-1, 4), (64, 30), (-1, -1)])
def test_frames_are_cv2s_at_mains_indices(in_memory, num_frames, fps, no_leaks):
    if in_memory and tm.stream_buffered_backend() is None:
        pytest.skip("this OpenCV has no stream-buffered backend")
    data = clip_bytes(SPEC)
    video = tm.load_bytes(data, num_frames=num_frames, fps=fps, format="np", in_memory=in_memory)
    want = mains_rule(SPEC.num_frames, SPEC.fps, num_frames, fps)
    assert video.metadata == {"total_num_frames": 90, "fps": 30.0, "duration": 3.0, "frames_indices": want}
    assert video.frames.dtype == np.uint8 and video.frames.flags.c_contiguous
    assert video.frames.shape == (len(want), SPEC.height, SPEC.width, 3)
    np.testing.assert_array_equal(video.frames, reference_frames(data)[want])
    from blake3 import blake3

    assert video.raw_bytes_hash == blake3(data).hexdigest()


def test_decode_indices_is_the_same_scan():
    data = clip_bytes(SPEC)
    idx = [0, 7, 8, 45, 89]
    np.testing.assert_array_equal(tm.decode_indices(data, idx), reference_frames(data)[idx])


def test_tempfile_is_removed_even_on_error(monkeypatch, no_leaks):
    seen = []
    real = tm.load_video_by_cv2

    def spy(video, **kw):
        seen.append((video, os.path.exists(video)))
        return real(video, **kw)

    monkeypatch.setattr(tm, "load_video_by_cv2", spy)
    tm.load_bytes(clip_bytes(SPEC), format="np", in_memory=False)
    with pytest.raises(ValueError):
        tm.load_bytes(b"not a video at all" * 100, in_memory=False)
    assert len(seen) == 2 and all(existed for _, existed in seen)
    assert all(os.path.basename(p).startswith("mmfast-") and not os.path.exists(p) for p, _ in seen)


def test_decide_do_sample_frames_is_mains():
    v10 = tm.MainVideo(np.zeros((10, 2, 2, 3), np.uint8), {"duration": 3.0})
    v3 = tm.MainVideo(np.zeros((3, 2, 2, 3), np.uint8), {"duration": 3.0})
    decide = tm.decide_do_sample_frames
    assert decide([v10], {"do_sample_frames": False}) is False and decide([v10], {"do_sample_frames": 1}) is True
    assert decide([], {}) is False and decide(None, {"fps": 2}) is False
    assert decide([v10], {}) is True and decide([v10], {"fps": -1, "num_frames": -1}) is True  # -1: not given
    assert decide([v10], {"num_frames": 10}) is False and decide([v10], {"num_frames": 6}) is True
    assert decide([v3], {"fps": 1}) is False and decide([v10], {"fps": 1}) is True  # floor(3 s * 1) = 3
    assert decide([v10], {"num_frames": 10, "fps": 1}) is False  # num_frames takes precedence
    assert decide([v3, v10], {"fps": 1}) is True  # all or nothing over the request


def test_trtllm_main_mode_is_uvloop_pools_no_memo():
    from trtllm_mmfast.processors.qwen3_vl import MergeKwargsMemo

    mode = get_mode("trtllm-main")
    assert mode.uvloop and mode.pools and mode.in_memory and mode.is_main and not mode.memo
    path = RequestPath(mode, tiny_processor)
    assert not path.uses_pipeline and not isinstance(getattr(path.hf, "_merge_kwargs", None), MergeKwargsMemo)
    assert RequestPath(get_mode("fast-trtllm"), tiny_processor).uses_pipeline


# (the sweep's fps: the request's media_io_kwargs["video"]["fps"], mm_processor_kwargs)
REQUESTS = [(None, {}), (1, {}), (4, {}), (None, {"fps": 1}), (None, {"fps": 4}), (1, {"fps": 1}),
            (None, {"num_frames": 6}), (4, {"do_sample_frames": False})]
REQUEST_IDS = ["default", "media-fps1", "media-fps4", "mm-fps1", "mm-fps4", "both-fps1", "mm-num6", "no-sampling"]


@pytest.mark.parametrize("fps,mm", REQUESTS, ids=REQUEST_IDS)
def test_fast_trtllm_gives_trtllm_mains_model_inputs(fps, mm, no_leaks):
    data = clip_bytes(SPEC)
    main = RequestPath(get_mode("trtllm-main"), tiny_processor, mm_processor_kwargs=mm).run_once(data, fps)
    ours_path = RequestPath(get_mode("fast-trtllm"), tiny_processor, mm_processor_kwargs=mm)
    ours = ours_path.run_once(data, fps)
    for k in MODEL_INPUTS:
        assert torch.equal(main[k], ours[k]), k
    # ours decoded only the frames that reach the model
    plan = ours_path.trtllm_plan(fps).plan(SPEC.num_frames, SPEC.fps)
    loaded = ours_path.load(data, fps)
    assert list(loaded.metadata.frames_indices) == plan.indices.tolist()
    assert len(loaded) <= len(tm.loader_indices(90, 30.0, **{k: v for k, v in tm.request_media_io_kwargs(fps=fps).items() if k != "format"}))


def _stock_hf_call(video: tm.MainVideo, **sampling):
    hf = tiny_processor()
    meta = {**video.metadata, "total_num_frames": len(video.frames)}
    return hf(text=[PROMPT], videos=[video.frames], video_metadata=[meta], do_rescale=True, padding=True,
              return_tensors="pt", **sampling)


# (media fps, mm_processor_kwargs, what main's _preprocess hands transformers besides frames and metadata)
STOCK_CALLS = [
    (None, {}, {"do_sample_frames": True}),  # no target: HF re-samples at its own fps
    (None, {"fps": 1}, {"do_sample_frames": True, "fps": 1}),  # floor(3 * 1) = 3 != 10 loaded
    (1, {"fps": 1}, {"do_sample_frames": False}),  # 3 loaded == floor(3 * 1)
    (None, {"num_frames": 6}, {"do_sample_frames": True, "num_frames": 6, "fps": None}),
    (None, {"num_frames": 10}, {"do_sample_frames": False}),
    (4, {"do_sample_frames": False}, {"do_sample_frames": False}),
]


@pytest.mark.parametrize("fps,mm,hf_kwargs", STOCK_CALLS, ids=["default", "mm-fps1", "fps1-matches", "mm-num6", "mm-num10", "flag"])
def test_trtllm_main_is_stock_transformers_on_mains_frames(fps, mm, hf_kwargs):
    data = clip_bytes(SPEC)
    media = tm.request_media_io_kwargs(fps=fps)
    video = tm.load_bytes(data, **media)
    got = RequestPath(get_mode("trtllm-main"), tiny_processor, mm_processor_kwargs=mm).process(video, fps)
    want = _stock_hf_call(video, **hf_kwargs)
    for k in MODEL_INPUTS:
        assert torch.equal(got[k], want[k]), k
