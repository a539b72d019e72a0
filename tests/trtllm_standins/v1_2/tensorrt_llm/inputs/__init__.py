"""STAND-IN for ``tensorrt_llm.inputs`` (real: tensorrt_llm/inputs/__init__.py, 1.2.x). A re-export only,
nothing of its own mirrored: the names the stand-ins use, as the real package re-exports them (e.g.
``async_load_video`` / ``async_load_image``, imported from it by serve/chat_utils.py @4c05a748).
No ``media_io`` in 1.2.x."""

from .multimodal import MultimodalServerConfig
from .registry import (
    INPUT_PROCESSOR_REGISTRY,
    MULTIMODAL_PLACEHOLDER_REGISTRY,
    MultimodalPlaceholderMetadata,
    MultimodalPlaceholderPlacement,
    create_input_processor,
    create_input_processor_with_hash,
    register_input_processor,
)
from .utils import VideoData, async_load_image, async_load_video, load_image, load_video
