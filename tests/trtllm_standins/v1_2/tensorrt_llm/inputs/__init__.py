"""STAND-IN for ``tensorrt_llm.inputs`` (real: tensorrt_llm/inputs/__init__.py, 1.2.x; commit not stored):
re-exports, as the real package does (only the names the stand-ins use). No ``media_io`` in 1.2.x."""

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
