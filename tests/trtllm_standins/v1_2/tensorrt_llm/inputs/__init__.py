"""STAND-IN for ``tensorrt_llm.inputs`` (1.2.x layout): re-exports, as the real package does."""

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
from .utils import VideoData, async_load_video, load_video
