"""trtllm-mmfast: fast, exact video preprocessing for TensorRT-LLM's trtllm-serve.

Importing this package is cheap: cv2, av, torch and transformers load only when used.
"""

from __future__ import annotations

from typing import Any

from .errors import BackendUnavailableError, DecodeError, InvalidMediaError, MediaTooLargeError, MMFastError
from .runtime.pipeline import load_video_async
from .types import VideoFrames, VideoMetadata
from .video.api import load_video
from .video.registry import available as available_backends
from .video.limits import Limits
from .video.sampling import Qwen3VLSampler, UniformSampler, get_sampler

__version__ = "0.1.0"


def enable(**kwargs: Any) -> Any:
    """Apply the TensorRT-LLM hooks; see ``trtllm_mmfast.integrations.tensorrt_llm.enable``."""
    from .integrations.tensorrt_llm import enable as _enable

    return _enable(**kwargs)

__all__ = [
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
