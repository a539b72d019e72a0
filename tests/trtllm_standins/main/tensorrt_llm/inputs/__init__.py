"""STAND-IN for ``tensorrt_llm.inputs`` (main layout): re-exports, as the real package does."""

from .media_io import MEDIA_IO_REGISTRY, BaseMediaIO, VideoMediaIO
from .multimodal import MultimodalServerConfig
from .multimodal_data import VideoData
from .registry import (
    INPUT_PROCESSOR_REGISTRY,
    MULTIMODAL_PLACEHOLDER_REGISTRY,
    MultimodalPlaceholderMetadata,
    MultimodalPlaceholderPlacement,
    create_input_processor,
    create_input_processor_with_hash,
    register_input_processor,
)
from .utils import async_load_video, load_video
