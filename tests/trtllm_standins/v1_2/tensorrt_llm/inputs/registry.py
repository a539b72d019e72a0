"""STAND-IN for ``tensorrt_llm.inputs.registry``: processor and placeholder registries."""

from __future__ import annotations

import enum
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Type

from .multimodal import apply_mm_hashes


class MultimodalPlaceholderPlacement(enum.Enum):
    INVALID = -1
    BEFORE_TEXT = 0
    AFTER_TEXT = 1


@dataclass(frozen=True)
class MultimodalPlaceholderMetadata:
    placeholder_map: Dict[str, str] = field(default_factory=dict)
    placeholder_placement: MultimodalPlaceholderPlacement = MultimodalPlaceholderPlacement.AFTER_TEXT
    placeholders_separator: str = "\n"


class MultimodalPlaceholderRegistry:
    def __init__(self) -> None:
        self._multimodal_placeholder_by_model_type: Dict[str, MultimodalPlaceholderMetadata] = {}

    def set_placeholder_metadata(self, model_type: str, placeholder_metadata: MultimodalPlaceholderMetadata) -> None:
        self._multimodal_placeholder_by_model_type[model_type] = placeholder_metadata

    def get_placeholder_metadata(self, model_type: str) -> MultimodalPlaceholderMetadata:
        if model_type not in self._multimodal_placeholder_by_model_type:
            raise ValueError(f"Model type {model_type} is not registered in MultimodalPlaceholderRegistry")
        return self._multimodal_placeholder_by_model_type[model_type]


MULTIMODAL_PLACEHOLDER_REGISTRY = MultimodalPlaceholderRegistry()


class InputProcessorRegistry:
    def __init__(self) -> None:
        self._input_processors_cls_by_model_type: Dict[type, type] = {}


INPUT_PROCESSOR_REGISTRY = InputProcessorRegistry()


class BaseMultimodalInputProcessor:
    pass


class BaseMultimodalDummyInputsBuilder:
    pass


def register_input_processor(processor_cls: Type[Any], model_type: str, placeholder_metadata: MultimodalPlaceholderMetadata = None):
    def wrapper(model_cls):
        INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type[model_cls] = processor_cls
        if placeholder_metadata is None:
            raise ValueError(f"A valid placeholder_metadata must be provided but got {placeholder_metadata}")
        MULTIMODAL_PLACEHOLDER_REGISTRY.set_placeholder_metadata(model_type, placeholder_metadata)
        processor_cls._registered_model_type = model_type
        return model_cls

    return wrapper


def support_multimodal_disaggregated(model_cls):
    processor_cls = INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type[model_cls]
    processor_cls.support_mm_disagg = True
    model_cls.support_mm_disagg = True
    return model_cls


def create_input_processor(model_path_or_dir: str, tokenizer: Any, checkpoint_format: Optional[str] = "HF", **kwargs: Any):
    """Stand-in: the model class comes from ``config.json``'s ``architectures`` (no ModelConfig)."""
    from .._torch.models import get_model_architecture

    with open(os.path.join(model_path_or_dir, "config.json")) as f:
        config = json.load(f)
    model_cls, _ = get_model_architecture(config)
    cls = INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type[model_cls]
    return cls(model_path_or_dir, config, tokenizer, trust_remote_code=True, **kwargs)


def create_input_processor_with_hash(input_processor: Any, hash_lib: Any = None) -> Callable[..., Any]:
    """What ``LLM.generate_async`` calls: hash the frames, then run the input processor."""

    def multimodal_hashing_process(inputs: Dict[str, Any], sampling_params: Any):
        mm_hashes = apply_mm_hashes(inputs["multi_modal_data"])
        token_ids, extra = input_processor(inputs, sampling_params)
        if extra is not None:
            extra["multimodal_hashes"] = mm_hashes
        return token_ids, extra

    return multimodal_hashing_process
