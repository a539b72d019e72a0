"""The public surface: names users import, and the frame/metadata contract."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import trtllm_mmfast
from trtllm_mmfast import VideoFrames, VideoMetadata, load_video

EXPECTED_ALL = [
    "BackendUnavailableError",
    "DecodeError",
    "InvalidMediaError",
    "Limits",
    "MMFastError",
    "MediaTooLargeError",
    "Qwen3VLSampler",
    "UniformSampler",
    "VideoFrames",
    "VideoMetadata",
    "__version__",
    "available_backends",
    "enable",
    "get_sampler",
    "load_video",
    "load_video_async",
]


def test_all_is_pinned_and_sorted():
    assert trtllm_mmfast.__all__ == EXPECTED_ALL
    assert sorted(trtllm_mmfast.__all__) == trtllm_mmfast.__all__
    for name in EXPECTED_ALL:
        assert hasattr(trtllm_mmfast, name)


def test_import_is_light():
    code = "import sys, trtllm_mmfast; print(sorted(m for m in ('cv2','av','torch','transformers','tensorrt_llm') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_frames_and_metadata_contract(small_clip):
    v = load_video(small_clip, fps=2)
    assert isinstance(v, VideoFrames) and isinstance(v.metadata, VideoMetadata)
    assert v.frames.dtype == np.uint8 and v.frames.ndim == 4 and v.frames.shape[-1] == 3
    assert v.frames.flags.c_contiguous and v.frames.base is None  # one array we own, not a view of a list
    hf = v.metadata.to_hf()
    assert hf["frames_indices"] == list(v.metadata.frames_indices) and hf["fps"] == v.metadata.fps
    assert hf["total_num_frames"] == 90
    hf["frames_indices"].append(-1)  # a fresh dict each call: mutation does not leak back
    assert v.metadata.to_hf()["frames_indices"] == list(v.metadata.frames_indices)
    with pytest.raises(Exception):
        v.metadata.fps = 1  # type: ignore[misc]


def test_videoframes_rejects_wrong_arrays():
    meta = VideoMetadata(1, 30.0, 1 / 30, 4, 4, (0,), "opencv")
    with pytest.raises(ValueError):
        VideoFrames(np.zeros((1, 4, 4, 3), np.float32), meta)
    with pytest.raises(ValueError):
        VideoFrames(np.zeros((2, 4, 4, 3), np.uint8), meta)
