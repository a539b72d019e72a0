"""STAND-IN for ``tensorrt_llm._torch.models``: architecture name -> model class."""

from __future__ import annotations

from typing import Any, Dict

MODEL_CLASS_MAPPING: Dict[str, type] = {}


def register_auto_model(name: str):
    def wrapper(model_cls):
        MODEL_CLASS_MAPPING[name] = model_cls
        return model_cls

    return wrapper


def get_model_architecture(config: Dict[str, Any]):
    from . import modeling_qwen3vl  # noqa: F401  (the real package imports every model)

    arch = config["architectures"][0]
    if arch not in MODEL_CLASS_MAPPING:
        raise RuntimeError(f"unregistered model {arch}")
    return MODEL_CLASS_MAPPING[arch], arch
