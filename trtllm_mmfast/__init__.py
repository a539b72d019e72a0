"""trtllm-mmfast: fast, exact video preprocessing for TensorRT-LLM's trtllm-serve.

Importing this package is cheap: cv2, av, torch and transformers load only when used.

Public namespaces (each pins its ``__all__`` in ``tests/test_public_api.py``; modules whose
name starts with ``_`` are private): ``trtllm_mmfast`` (this one: what most callers need),
``trtllm_mmfast.errors``, ``trtllm_mmfast.types``, ``trtllm_mmfast.video`` (loading,
sources, policies, samplers, backends), ``trtllm_mmfast.runtime`` (pools, uvloop, async
load + process, stats), ``trtllm_mmfast.cache`` (the repeat-video cache),
``trtllm_mmfast.processors.qwen3_vl`` and ``trtllm_mmfast.integrations.tensorrt_llm``.
"""

from __future__ import annotations

from typing import Any

from .errors import (
    BackendUnavailableError,
    BlockedAddressError,
    DecodeError,
    DecodeTimeoutError,
    FetchError,
    InvalidMediaError,
    MediaTooLargeError,
    MMFastError,
)
from ._version import __version__
from .cache import VideoCache
from .runtime.pipeline import load_video_async
from .types import BackendName, SamplerName, VideoFormat, VideoFrames, VideoMetadata
from .video.api import load_video
from .video.fetch_guard import FetchPolicy
from .video.registry import available as available_backends
from .video.limits import Limits
from .video.policy import SourcePolicy
from .video.revalidate import UrlValidators
from .video.sampling import Qwen3VLSampler, UniformSampler, get_sampler


def enable(**kwargs: Any) -> Any:
    """Apply the TensorRT-LLM hooks; see ``trtllm_mmfast.integrations.tensorrt_llm.enable``."""
    from .integrations.tensorrt_llm import enable as _enable

    return _enable(**kwargs)


__all__ = [
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
