"""The public surface: names users import, and the frame/metadata contract."""

from __future__ import annotations

import importlib
from typing import get_args

import numpy as np
import pytest

from conftest import python_stdout
import trtllm_mmfast
from trtllm_mmfast import VideoFrames, VideoMetadata, load_video

EXPECTED_ALL = [
    "BackendName",
    "BackendUnavailableError",
    "BlockedAddressError",
    "DecodeError",
    "DecodeTimeoutError",
    "FetchError",
    "FetchPolicy",
    "InvalidMediaError",
    "Limits",
    "MMFastError",
    "MediaTooLargeError",
    "Qwen3VLSampler",
    "SamplerName",
    "SourcePolicy",
    "UniformSampler",
    "UrlValidators",
    "VideoCache",
    "VideoFormat",
    "VideoFrames",
    "VideoMetadata",
    "__version__",
    "available_backends",
    "enable",
    "get_sampler",
    "load_video",
    "load_video_async",
]

# The public namespaces below the top level, and what each exports (the package docstring lists them).
PINNED_NAMESPACES = {
    "trtllm_mmfast.errors": [
        "BackendUnavailableError", "BlockedAddressError", "DecodeError", "DecodeTimeoutError", "FetchError",
        "InvalidMediaError", "MMFastError", "MediaTooLargeError", "TensorRTLLMNotFoundError",
        "UnsupportedTensorRTLLMError",
    ],
    "trtllm_mmfast.integrations.tensorrt_llm": [
        "FrameArray", "FrameList", "Hook", "HookReport", "LoadedClip", "SAMPLING_ENV", "TensorRTLLMNotFoundError",
        "UnsupportedTensorRTLLMError", "VideoRequest", "VideoSampling", "disable", "enable", "format_report",
        "is_enabled", "loaded_clip", "plan", "reexec_argv", "serve_argv", "stats", "summary", "with_argv",
    ],
    "trtllm_mmfast.types": ["BackendName", "SamplerName", "VideoFormat", "VideoFrames", "VideoMetadata"],
    "trtllm_mmfast.video": [
        "FetchPolicy", "Limits", "MediaSource", "OpenedVideo", "Qwen3VLSampler", "SourcePolicy", "UniformSampler",
        "available_backends", "backend_names", "get_sampler", "load_video", "open_video", "resolve_source",
        "resolve_source_async", "server_fetch_policy", "server_policy",
    ],
    "trtllm_mmfast.video.source": [
        "MediaSource", "SourceKind", "SourceLike", "data_url_payload", "file_url_path", "resolve_source",
        "resolve_source_async", "source_kind",
    ],
}
# Public too, with their own owners' pins elsewhere: here only checked to be well-formed.
OTHER_NAMESPACES = ["trtllm_mmfast.runtime", "trtllm_mmfast.processors.qwen3_vl", "trtllm_mmfast.cache"]


def test_all_is_pinned_and_sorted():
    assert trtllm_mmfast.__all__ == EXPECTED_ALL
    assert sorted(trtllm_mmfast.__all__) == trtllm_mmfast.__all__
    for name in EXPECTED_ALL:
        assert hasattr(trtllm_mmfast, name)


@pytest.mark.parametrize("module", sorted(PINNED_NAMESPACES))
def test_namespaces_are_pinned(module):
    mod = importlib.import_module(module)
    assert mod.__all__ == PINNED_NAMESPACES[module]
    assert module in trtllm_mmfast.__doc__ or module.rsplit(".", 1)[0] in trtllm_mmfast.__doc__


@pytest.mark.parametrize("module", sorted(PINNED_NAMESPACES) + OTHER_NAMESPACES)
def test_namespaces_are_sorted_and_resolve(module):
    mod = importlib.import_module(module)
    assert mod.__all__ == sorted(set(mod.__all__))  # sorted, no duplicates
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.__all__ names {name!r}, which it does not define"


def test_option_literals_match_their_registries():
    from trtllm_mmfast.integrations.tensorrt_llm._loader import VIDEO_FORMATS
    from trtllm_mmfast.video import backend_names, sampling

    assert set(get_args(trtllm_mmfast.BackendName)) == set(backend_names())
    assert set(get_args(trtllm_mmfast.SamplerName)) == set(sampling._SAMPLERS)
    assert set(get_args(trtllm_mmfast.VideoFormat)) == set(VIDEO_FORMATS)


def test_parameter_types_are_the_ones_the_functions_take(small_clip):
    from trtllm_mmfast.video.fetch import FetchPolicy
    from trtllm_mmfast.video.policy import SourcePolicy

    assert trtllm_mmfast.FetchPolicy is FetchPolicy and trtllm_mmfast.SourcePolicy is SourcePolicy
    with pytest.raises(trtllm_mmfast.InvalidMediaError, match="local file paths are not allowed"):
        load_video("/some/clip.mp4", policy=trtllm_mmfast.SourcePolicy(allow_local_paths=False))
    with pytest.raises(trtllm_mmfast.MediaTooLargeError):
        load_video(small_clip, limits=trtllm_mmfast.Limits(max_bytes=10))


def test_import_is_light():
    code = ("import sys, trtllm_mmfast; print(sorted(m for m in ('cv2','av','torch','transformers','tensorrt_llm','aiohttp')"
            " if m in sys.modules))")
    out = python_stdout(code)
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


REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_pyproject_declares_an_spdx_license_and_only_extras_that_exist():
    import tomllib

    from trtllm_mmfast.video.registry import get, names

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"  # a PEP 639 SPDX string, not the deprecated table
    extras = set(project["optional-dependencies"])
    backend_extras = {get(n).extra for n in names() if n != "auto"} - {None}
    assert backend_extras <= extras  # every backend's "pip install 'trtllm-mmfast[X]'" hint works
    # an extra is a backend's, or one of the feature groups: none for a backend that does not exist
    assert extras - backend_extras == {"hf", "perf", "trtllm", "dev", "all"}


def test_docs_name_only_files_that_exist():
    import re

    for doc in ("README.md", "CONTRIBUTING.md"):
        text = (REPO / doc).read_text()
        for path in re.findall(r"`\.?/?((?:trtllm_mmfast|tests|perf|configs|scripts|\.ci)/[^`\s:<>]*)", text):
            assert (REPO / path).exists(), f"{doc} names {path}, which is not in the repository"
        for script in re.findall(r"python (perf/\w+\.py)", text):
            assert (REPO / script).is_file(), f"{doc} runs {script}, which is not in the repository"
