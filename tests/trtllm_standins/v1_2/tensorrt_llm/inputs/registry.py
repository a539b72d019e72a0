"""STAND-IN for ``tensorrt_llm.inputs.registry`` (a test fixture, not TensorRT-LLM code), 1.2.x.

Real file: tensorrt_llm/inputs/registry.py — the old generation read @
3a5845e29304b03ae78db71a2ac8698709d8af6e (docs/facts/trtllm_models.md §1a notes; TRTLLM_HOOKS.md §1.6).

Mirrored: ``MultimodalPlaceholderMetadata`` (separator default "\\n"), the placeholder registry
(unconditional overwrite; getters raise ValueError when unregistered), the processor registry
keyed by MODEL CLASS, ``register_input_processor`` (+ ``_registered_model_type``),
``support_multimodal_disaggregated``, ``create_input_processor(model_path_or_dir, tokenizer,
checkpoint_format="HF")`` (``ModelConfig`` -> ``get_model_architecture``; unregistered ->
``DefaultInputProcessor``), ``create_input_processor_with_hash`` (what ``LLM.generate_async``
runs: hash the frames, then the processor).

Simplified: the base classes are plain (not ABCs, as in this generation) with only what
Qwen3-VL uses; hashes are stored as hex digests under ``extra["multimodal_hashes"]`` (a stand-in
key; the real wrapper builds ``MultimodalInput``); no tiktoken fallback.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Type

from .multimodal import apply_mm_hashes

logger = logging.getLogger("tensorrt_llm")


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

    def is_valid(self, model_type: str, modality: str) -> bool:
        md = self._multimodal_placeholder_by_model_type.get(model_type)
        return md is not None and modality in md.placeholder_map

    def get_placeholder_metadata(self, model_type: str) -> MultimodalPlaceholderMetadata:
        if model_type not in self._multimodal_placeholder_by_model_type:
            raise ValueError(f"Model type {model_type} is not registered in MultimodalPlaceholderRegistry")
        return self._multimodal_placeholder_by_model_type[model_type]

    def get_placeholder(self, model_type: str, modality: str) -> str:
        if not self.is_valid(model_type, modality):
            raise ValueError(f"Model type {model_type} with modality {modality} is not registered")
        return self._multimodal_placeholder_by_model_type[model_type].placeholder_map[modality]

    def get_placeholder_placement(self, model_type: str) -> MultimodalPlaceholderPlacement:
        return self.get_placeholder_metadata(model_type).placeholder_placement

    def get_placeholders_separator(self, model_type: str) -> str:
        return self.get_placeholder_metadata(model_type).placeholders_separator


MULTIMODAL_PLACEHOLDER_REGISTRY = MultimodalPlaceholderRegistry()


class InputProcessorRegistry:
    def __init__(self) -> None:
        self._input_processors_cls_by_model_type: Dict[type, type] = {}


INPUT_PROCESSOR_REGISTRY = InputProcessorRegistry()


class DefaultInputProcessor:
    def __init__(self, model_path: Any, model_config: Any, tokenizer: Any, trust_remote_code: bool = True):
        self.model_path, self.model_config, self.tokenizer = model_path, model_config, tokenizer

    def __call__(self, inputs: Dict[str, Any], sampling_params: Any):
        add_special = getattr(sampling_params, "add_special_tokens", True)
        return self.tokenizer.encode(inputs["prompt"], add_special_tokens=add_special), None


class BaseMultimodalInputProcessor:
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def get_processor(self) -> Any:
        return getattr(self, "processor", None) or getattr(self, "_processor", None)

    def get_vocab_size(self) -> Optional[int]:
        cfg = getattr(self, "model_config", None)
        return int(cfg.vocab_size) if cfg is not None and hasattr(cfg, "vocab_size") else None


class BaseMultimodalDummyInputsBuilder:
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()


def register_input_processor(processor_cls: Type[Any], model_type: str,
                             placeholder_metadata: Optional[MultimodalPlaceholderMetadata] = None):
    def wrapper(model_cls):
        INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type[model_cls] = processor_cls
        if placeholder_metadata is None:
            raise ValueError("A valid placeholder_metadata must be provided but got None")
        MULTIMODAL_PLACEHOLDER_REGISTRY.set_placeholder_metadata(model_type, placeholder_metadata)
        processor_cls._registered_model_type = model_type
        return model_cls

    return wrapper


def support_multimodal_disaggregated(model_cls):
    processor_cls = INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type.get(model_cls)
    if processor_cls is None:
        raise RuntimeError(f"No input processor registered for {model_cls.__name__}")
    if not issubclass(processor_cls, BaseMultimodalInputProcessor):
        raise TypeError(f"{processor_cls.__name__} must subclass BaseMultimodalInputProcessor")
    if not callable(getattr(processor_cls, "get_prompt_token_ids", None)):
        raise TypeError(f"{processor_cls.__name__} must implement get_prompt_token_ids")
    processor_cls.support_mm_disagg = True
    model_cls.support_mm_disagg = True
    return model_cls


def create_input_processor(model_path_or_dir: str, tokenizer: Any, checkpoint_format: Optional[str] = "HF"):
    from .._torch.model_config import ModelConfig
    from .._torch.models import get_model_architecture

    config = None
    if checkpoint_format == "HF":
        try:
            config = ModelConfig.from_pretrained(model_path_or_dir, trust_remote_code=True).pretrained_config
        except (ValueError, EnvironmentError) as e:
            logger.debug("Unable to load HF config from %s: %s", model_path_or_dir, e)
    if config is not None:
        try:
            model_cls, _ = get_model_architecture(config)
            cls = INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type.get(model_cls)
            if cls is not None:
                return cls(model_path_or_dir, config, tokenizer, trust_remote_code=True)
        except RuntimeError as e:
            logger.info("Unregistered model, using the default input processor: %s", e)
    return DefaultInputProcessor(None, None, tokenizer)


def create_input_processor_with_hash(input_processor: Any, hash_lib: Any = None) -> Callable[..., Any]:
    """What ``LLM.generate_async`` calls for ``multi_modal_data``: hash the frames, then process."""

    def multimodal_hashing_process(inputs: Dict[str, Any], sampling_params: Any):
        mm_hashes = apply_mm_hashes(inputs["multi_modal_data"], **({"hash_lib": hash_lib} if hash_lib else {}))
        token_ids, extra = input_processor(inputs, sampling_params)
        if extra is not None:
            extra["multimodal_hashes"] = mm_hashes
        return token_ids, extra

    return multimodal_hashing_process
