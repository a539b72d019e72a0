"""STAND-IN for ``tensorrt_llm.inputs`` (a test fixture): re-exports, as the real package does.

Real file: tensorrt_llm/inputs/__init__.py (commit not stored); only the names the stand-ins use.
"""

from .media_io import MEDIA_IO_REGISTRY, BaseMediaIO, ImageMediaIO, VideoMediaIO  # noqa: F401
from .multimodal import MultimodalServerConfig  # noqa: F401
from .multimodal_data import AudioData, BaseModalityData, VideoData  # noqa: F401
from .registry import (INPUT_PROCESSOR_REGISTRY, MULTIMODAL_PLACEHOLDER_REGISTRY,  # noqa: F401
                       BaseMultimodalDummyInputsBuilder, BaseMultimodalInputProcessor, ContentFormat,
                       MultimodalPlaceholderMetadata, MultimodalPlaceholderPlacement, create_input_processor,
                       create_input_processor_with_hash, register_input_processor, support_multimodal_disaggregated)
from .utils import MultimodalDataTooLargeError, async_load_video, load_video  # noqa: F401
