"""STAND-IN for ``tensorrt_llm.inputs.registry`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/inputs/registry.py, the 002f3cc3 generation — rebuilt from tests/docs,
commit not stored (the newest indexed version, id 51821650759, predates it; see
docs/facts/trtllm_models.md §1a/§1b).

Mirrored: ``BaseMultimodalInputProcessor`` is an ABC with abstract ``processor`` /
``tokenizer`` / ``config`` / ``dtype`` / ``call_with_text_prompt`` and a CONCRETE ``__call__``
that dispatches to ``call_with_text_prompt`` (token ids + media without a prompt are
detokenized first); ``BaseMultimodalDummyInputsBuilder.get_preferred_media_io_kwargs() -> {}``;
``MultimodalPlaceholderMetadata`` (with ``content_format`` and ``interleave_placeholders``);
``set_placeholder_metadata(model_type, md, registrant_module=None)`` KEEPS an existing,
different entry when the registrant is a built-in zoo module (``tensorrt_llm._torch.models``
or below), else overwrites; getters import the indexed provider on a miss
(``_arch_index.MULTIMODAL_MODEL_TYPE_TO_MODULE``); ``register_input_processor`` passes
``registrant_module=model_cls.__module__`` and sets ``_registered_model_type``;
``support_multimodal_disaggregated``; ``create_input_processor`` via ``ModelConfig`` and
``get_model_architecture`` (RuntimeError -> ``DefaultInputProcessor``).

``create_input_processor_with_hash``'s hashing pass, read with an explicit commit at
3a5845e29304b03ae78db71a2ac8698709d8af6e (hash, process, ``find_mm_token_lengths(mm_data,
processor)``, first modality's list, positions, ``validate_mm_inputs``, ``MultimodalInput``; the
try-once fallback) and as the newest stored version (index id 51821650759, commit not stored)
runs it, which adds the processor's output to the count: hash
(``apply_mm_hashes``), run the processor, count each item's tokens with
``find_mm_token_lengths(mm_data, processor, multimodal_data=extra["multimodal_data"])`` (first
modality's list; none: ``([], None)``), locate them in the prompt (ValueError when the prompt
holds another number of media tokens, as ``validate_mm_inputs`` does), and keep the result;
a single-modality request tries this once and, on any exception, falls back to the plain
processor for good (``multimodal_hashing_supported = False``).

Simplified / inferred: the hashes go under ``extra["multimodal_hashes"]`` and the counts and
start positions under ``extra["multimodal_input"]`` as a dict (stand-in keys: the real wrapper
builds a ``MultimodalInput`` of int32 hashes, positions and lengths, and the embed-mask
cumsum); ``BaseModalityData`` items hash via ``item.update_hash`` (INFERRED dispatch); the
tokenized-prompt path is not modelled;
``call_with_token_ids`` (``supports_token_id_mm_expansion``) is not modelled; the "kept"
rule applies only when the existing entry differs (inferred from modeling_utils).
"""

from __future__ import annotations

import enum
import importlib
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Dict, List, Optional, Protocol, Tuple, Type

import torch

from .multimodal import apply_mm_hashes, default_hasher, find_mm_token_lengths

logger = logging.getLogger("tensorrt_llm")

ExtraProcessedInputs = Dict[str, Any]


class ContentFormat(enum.Enum):
    STRING = "string"
    OPENAI = "openai"


class MultimodalPlaceholderPlacement(enum.Enum):
    INVALID = -1
    BEFORE_TEXT = 0
    AFTER_TEXT = 1


@dataclass(frozen=True)
class MultimodalPlaceholderMetadata:
    placeholder_map: Dict[str, str] = field(default_factory=dict)
    placeholder_placement: MultimodalPlaceholderPlacement = MultimodalPlaceholderPlacement.AFTER_TEXT
    placeholders_separator: str = "\n"
    content_format: Optional[ContentFormat] = None
    interleave_placeholders: bool = False


def _arch_index():
    from .._torch.models import _arch_index

    return _arch_index


class MultimodalPlaceholderRegistry:
    def __init__(self) -> None:
        self._multimodal_placeholder_by_model_type: Dict[str, MultimodalPlaceholderMetadata] = {}

    def _ensure(self, model_type: str) -> None:
        """A miss imports the indexed provider module (the lazy model zoo)."""
        if model_type in self._multimodal_placeholder_by_model_type:
            return
        module = _arch_index().MULTIMODAL_MODEL_TYPE_TO_MODULE.get(model_type)
        if module is not None:
            importlib.import_module(f"tensorrt_llm._torch.models.{module}")

    def set_placeholder_metadata(self, model_type: str, placeholder_metadata: MultimodalPlaceholderMetadata,
                                 registrant_module: Optional[str] = None) -> None:
        existing = self._multimodal_placeholder_by_model_type.get(model_type)
        if (existing is not None and existing != placeholder_metadata and registrant_module is not None
                and _arch_index().is_builtin_zoo_module(registrant_module)):
            logger.info("Keeping the existing placeholder metadata for %r (built-in %s registers only empty slots)",
                        model_type, registrant_module)
            return
        self._multimodal_placeholder_by_model_type[model_type] = placeholder_metadata

    def remove_placeholder_metadata(self, model_type: str) -> None:
        if model_type not in self._multimodal_placeholder_by_model_type:
            raise ValueError(f"Model type {model_type} is not registered in MultimodalPlaceholderRegistry")
        del self._multimodal_placeholder_by_model_type[model_type]

    def is_valid(self, model_type: str, modality: str) -> bool:
        self._ensure(model_type)
        md = self._multimodal_placeholder_by_model_type.get(model_type)
        return md is not None and modality in md.placeholder_map

    def get_placeholder_metadata(self, model_type: str) -> MultimodalPlaceholderMetadata:
        self._ensure(model_type)
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

    def get_interleave_placeholders(self, model_type: str) -> bool:
        self._ensure(model_type)
        md = self._multimodal_placeholder_by_model_type.get(model_type)
        return md.interleave_placeholders if md else False

    def get_content_format(self, model_type: str) -> Optional[ContentFormat]:
        self._ensure(model_type)
        md = self._multimodal_placeholder_by_model_type.get(model_type)
        return md.content_format if md else None

    def get_registered_model_types(self) -> Tuple[str, ...]:
        keys = dict.fromkeys(self._multimodal_placeholder_by_model_type)
        keys.update(dict.fromkeys(_arch_index().MULTIMODAL_MODEL_TYPE_TO_MODULE))
        return tuple(keys)


MULTIMODAL_PLACEHOLDER_REGISTRY = MultimodalPlaceholderRegistry()


class InputProcessorRegistry:
    def __init__(self) -> None:
        # keyed by MODEL CLASS, despite the name
        self._input_processors_cls_by_model_type: Dict[type, type] = {}


INPUT_PROCESSOR_REGISTRY = InputProcessorRegistry()


class InputProcessor(Protocol):
    model_path: Any
    config: Any
    tokenizer: Any

    def __call__(self, inputs: Dict[str, Any], sampling_params: Any) -> Tuple[List[int], Optional[ExtraProcessedInputs]]: ...


class DefaultInputProcessor:
    def __init__(self, model_path: Any, config: Any, tokenizer: Any, trust_remote_code: bool = True):
        self.model_path, self.config, self.tokenizer = model_path, config, tokenizer

    def __call__(self, inputs: Dict[str, Any], sampling_params: Any):
        add_special = getattr(sampling_params, "add_special_tokens", True)
        ids = self.tokenizer.encode(inputs["prompt"], add_special_tokens=add_special)
        if inputs.get("query") is not None:
            return ids, {"query_token_ids": self.tokenizer.encode(inputs["query"], add_special_tokens=add_special)}
        return ids, None


class BaseMultimodalInputProcessor(ABC):
    supports_token_id_mm_expansion: ClassVar[bool] = False

    def __init__(self, model_path: Any, config: Any, tokenizer: Any, trust_remote_code: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self._config = config
        self._model_path = model_path
        self._tokenizer = tokenizer
        self._trust_remote_code = trust_remote_code
        self._use_fast = kwargs.get("use_fast", True)
        self._multimodal_hashing_supported: Optional[bool] = None

    @property
    @abstractmethod
    def processor(self) -> Any: ...

    @property
    @abstractmethod
    def tokenizer(self) -> Any:
        return self._tokenizer

    @property
    @abstractmethod
    def config(self) -> Any:
        return self._config

    @property
    @abstractmethod
    def dtype(self) -> Any: ...

    @abstractmethod
    def call_with_text_prompt(self, inputs: Dict[str, Any], sampling_params: Any) -> Tuple[List[int], Optional[ExtraProcessedInputs]]: ...

    def __call__(self, inputs: Dict[str, Any], sampling_params: Any) -> Tuple[List[int], Optional[ExtraProcessedInputs]]:
        """Models implement ``call_with_text_prompt``; they must not override this."""
        if inputs.get("prompt") is None and inputs.get("prompt_token_ids") is not None and inputs.get("multi_modal_data"):
            inputs = {**inputs, "prompt": self.tokenizer.decode(inputs["prompt_token_ids"])}
        return self.call_with_text_prompt(inputs, sampling_params)

    @property
    def use_fast(self) -> bool:
        return self._use_fast

    @property
    def multimodal_hashing_supported(self) -> Optional[bool]:
        return self._multimodal_hashing_supported

    @multimodal_hashing_supported.setter
    def multimodal_hashing_supported(self, value: Optional[bool]) -> None:
        self._multimodal_hashing_supported = value

    def attach_multimodal_embeddings(self, inputs: Dict[str, Any], multimodal_embedding: Any, sampling_params: Any):
        raise NotImplementedError

    def get_vocab_size(self) -> Optional[int]:
        if hasattr(self.config, "vocab_size"):
            return int(self.config.vocab_size)
        if hasattr(self.tokenizer, "vocab_size"):
            return int(self.tokenizer.vocab_size)
        return None

    def get_mm_token_ids(self) -> Any:
        return getattr(self.processor, "mm_token_ids", None)

    def get_mm_special_token_ids(self) -> Any:
        return getattr(self.processor, "mm_special_token_ids", None)


class BaseMultimodalDummyInputsBuilder(ABC):
    DEFAULT_IMAGE_MAX_DIM = 16384
    DEFAULT_IMAGE_MIN_DIM = 128

    def __init__(self, **kwargs: Any):
        super().__init__()
        self.image_max_dim = kwargs.get("image_max_dim", self.DEFAULT_IMAGE_MAX_DIM)
        self.image_min_dim = kwargs.get("image_min_dim", self.DEFAULT_IMAGE_MIN_DIM)

    def get_preferred_media_io_kwargs(self) -> Dict[str, Dict[str, Any]]:
        return {}


def register_input_processor(processor_cls: Type[Any], model_type: str,
                             placeholder_metadata: Optional[MultimodalPlaceholderMetadata] = None):
    def wrapper(model_cls):
        INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type[model_cls] = processor_cls
        if placeholder_metadata is None:
            raise ValueError("A valid placeholder_metadata must be provided but got None")
        MULTIMODAL_PLACEHOLDER_REGISTRY.set_placeholder_metadata(model_type, placeholder_metadata,
                                                                 registrant_module=model_cls.__module__)
        processor_cls._registered_model_type = model_type
        return model_cls

    return wrapper


def support_multimodal_disaggregated(model_cls):
    processor_cls = INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type.get(model_cls)
    if processor_cls is None:
        raise RuntimeError(f"No input processor registered for {model_cls.__name__}; ensure "
                           "@register_input_processor is applied closer to the class than @support_multimodal_disaggregated")
    if not issubclass(processor_cls, BaseMultimodalInputProcessor):
        raise TypeError(f"{processor_cls.__name__} must subclass BaseMultimodalInputProcessor")
    if not callable(getattr(processor_cls, "build_disagg_prefill_multimodal_inputs", None)):
        raise TypeError(f"{processor_cls.__name__} must implement build_disagg_prefill_multimodal_inputs")
    processor_cls.support_mm_disagg = True
    model_cls.support_mm_disagg = True
    return model_cls


def create_input_processor(model_path_or_dir: str, tokenizer: Any, checkpoint_format: Optional[str] = "HF",
                           **kwargs: Any):
    from .._torch.model_config import ModelConfig
    from .._torch.models import get_model_architecture

    config = None
    if checkpoint_format == "HF":
        try:
            config = ModelConfig.from_pretrained(model_path_or_dir, trust_remote_code=True).pretrained_config
        except (ValueError, EnvironmentError) as e:
            logger.debug("Unable to load HF config from %s: %s", model_path_or_dir, e)
    input_processor_cls = None
    if config is not None:
        try:
            model_cls, _ = get_model_architecture(config)
            input_processor_cls = INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type.get(model_cls)
        except RuntimeError as e:
            logger.info("Unregistered model, using the default input processor: %s", e)
    if input_processor_cls is not None:
        return input_processor_cls(model_path_or_dir, config, tokenizer, trust_remote_code=True, **kwargs)
    return DefaultInputProcessor(None, None, tokenizer)


def create_input_processor_with_hash(input_processor: Any, hash_lib: Callable[[], Any] = default_hasher):
    """What ``LLM.preprocess`` runs (simplified; see the module docstring)."""

    def multimodal_hashing_process(inputs: Dict[str, Any], sampling_params: Any):
        mm_data = inputs["multi_modal_data"]
        mm_hashes = apply_mm_hashes(mm_data, inputs.get("multi_modal_uuids"), hash_lib)
        token_ids, extra = input_processor(inputs, sampling_params)
        by_modality = find_mm_token_lengths(mm_data, input_processor, multimodal_data=(extra or {}).get("multimodal_data"))
        lengths = next(iter(by_modality.values()), [])
        if not lengths:
            return [], None
        mm_ids = input_processor.get_mm_token_ids()
        if mm_ids is None:
            raise ValueError("Cannot locate vocab_size or mm_token_ids for multimodal token preprocessing")
        ids = torch.as_tensor(token_ids)
        positions = torch.where(torch.isin(ids, mm_ids.to(ids.dtype)))[0].tolist()
        if len(positions) != sum(lengths):
            raise ValueError(f"Number of multimodal tokens ({len(positions)}) does not match sum of all lengths "
                             f"({sum(lengths)}): num_mm_tokens={lengths}")
        starts = [positions[sum(lengths[:k])] for k in range(len(lengths))]
        extra["multimodal_hashes"] = mm_hashes
        extra["multimodal_input"] = {"multimodal_hashes": [h for hs in mm_hashes.values() for h in hs],
                                     "multimodal_positions": starts, "multimodal_lengths": list(lengths)}
        return token_ids, extra

    def input_processor_wrapper(inputs: Dict[str, Any], sampling_params: Any):
        mm_data = inputs.get("multi_modal_data") or {}
        if len(mm_data) != 1 or next(iter(mm_data)) not in ("image", "video", "audio"):
            return input_processor(inputs, sampling_params)
        supported = getattr(input_processor, "multimodal_hashing_supported", None)
        if supported is False:
            return input_processor(inputs, sampling_params)
        if supported is None:
            try:
                result = multimodal_hashing_process(inputs, sampling_params)
                input_processor.multimodal_hashing_supported = True
                return result
            except Exception as e:
                logger.warning("Multimodal hashing failed (%s); falling back to no hashing", e)
                input_processor.multimodal_hashing_supported = False
                return input_processor(inputs, sampling_params)
        return multimodal_hashing_process(inputs, sampling_params)

    return input_processor_wrapper
