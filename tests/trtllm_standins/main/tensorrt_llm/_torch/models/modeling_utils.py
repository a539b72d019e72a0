"""STAND-IN for ``tensorrt_llm._torch.models.modeling_utils`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/_torch/models/modeling_utils.py, the lazy-registry version (stored index
id 57359368733, commit not stored). Only the registration / lookup part.

Mirrored: ``register_auto_model(name)`` records ``cls._registered_architectures`` and keeps an
existing, different class when the registrant is a built-in zoo module ("Keeping ..."), else
overwrites; ``get_registered_model_class`` imports ``MODEL_ARCH_TO_MODULE[arch]`` on a miss
(a ModuleNotFoundError for that module itself is swallowed); ``get_model_architecture(config)``
raises ``RuntimeError("Model architecture is not provided.")`` / ``"Unknown model
architecture: ..."``. Simplified: ``register_vision_encoder`` only records the encoder; no
``_EXTERNAL_ARCH_TO_MODULE``; ``config`` may also be a plain dict.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, Dict, Optional, Tuple

from . import _arch_index

logger = logging.getLogger("tensorrt_llm")

MODEL_CLASS_MAPPING: Dict[str, type] = {}
MODEL_CLASS_VISION_ENCODER_MAPPING: Dict[str, Any] = {}


def _apply_arch_registration(kind: str, mapping: Dict[str, Any], name: str, value: Any, registrant: str) -> None:
    existing = mapping.get(name)
    if existing is not None and existing is not value and _arch_index.is_builtin_zoo_module(registrant):
        logger.info("Keeping %s registration %r -> %r (built-in %s does not replace it)", kind, name, existing, registrant)
        return
    mapping[name] = value


def register_auto_model(name: str):
    def wrapper(cls):
        if "_registered_architectures" not in cls.__dict__:
            cls._registered_architectures = set()
        cls._registered_architectures.add(name)
        _apply_arch_registration("model class", MODEL_CLASS_MAPPING, name, cls, getattr(cls, "__module__", ""))
        return cls

    return wrapper


def register_vision_encoder(vision_encoder_cls: Any, vlm_base_model: Any = None):
    def wrapper(cls):
        archs = cls.__dict__.get("_registered_architectures") or set()
        if not archs:
            raise ValueError(f"{cls.__name__} has no registered architecture; apply @register_auto_model first")
        for arch in archs:
            MODEL_CLASS_VISION_ENCODER_MAPPING[arch] = (vision_encoder_cls, vlm_base_model)
        return cls

    return wrapper


def _ensure_model_registered(arch: str) -> None:
    module = _arch_index.MODEL_ARCH_TO_MODULE.get(arch)
    if module is None:
        return
    full = f"{_arch_index._ZOO_PACKAGE}.{module}"
    try:
        importlib.import_module(full)
    except ModuleNotFoundError as e:
        if e.name != full:
            raise
        logger.warning("Model module %s for %s is not available", full, arch)


def get_registered_model_class(arch: str) -> Optional[type]:
    if arch not in MODEL_CLASS_MAPPING:
        _ensure_model_registered(arch)
    return MODEL_CLASS_MAPPING.get(arch)


def get_model_architecture(config: Any) -> Tuple[type, str]:
    archs = config.get("architectures") if isinstance(config, dict) else getattr(config, "architectures", None)
    if not archs:
        raise RuntimeError("Model architecture is not provided.")
    arch = archs[0]
    cls = get_registered_model_class(arch)
    if cls is None:
        raise RuntimeError(f"Unknown model architecture: {arch}")
    return cls, arch
