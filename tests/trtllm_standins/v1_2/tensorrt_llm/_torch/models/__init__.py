"""STAND-IN for ``tensorrt_llm._torch.models`` (a test fixture), 1.2.x: an EAGER zoo.

Real files: tensorrt_llm/_torch/models/__init__.py (the package that imports the zoo) and
modeling_utils.py, read with an explicit commit at cb4c622cf5bb97009451f7f44609498a48a2b11d (the
eager-registry generation 1.2.x has): ``register_auto_model(name)`` overwrites
``MODEL_CLASS_MAPPING[name]``; ``get_model_architecture(config)`` -> ``(cls, architectures[0])``,
RuntimeError "Model architecture is not provided." / "Unknown model architecture: ...". Simplified: only the
Qwen2-VL and Qwen3-VL modules are "the zoo" (imported on first lookup, as the real package imports every model
at import time); ``config`` may be a ``ModelConfig.pretrained_config`` or a dict.
"""

from __future__ import annotations

from typing import Any, Dict

MODEL_CLASS_MAPPING: Dict[str, type] = {}


def register_auto_model(name: str):
    def wrapper(model_cls):
        MODEL_CLASS_MAPPING[name] = model_cls
        return model_cls

    return wrapper


def get_model_architecture(config: Any):
    from . import modeling_qwen2vl, modeling_qwen3vl  # noqa: F401  (the real package imports every model)

    archs = config.get("architectures") if isinstance(config, dict) else getattr(config, "architectures", None)
    if not archs:
        raise RuntimeError("Model architecture is not provided.")
    arch = archs[0]
    if arch not in MODEL_CLASS_MAPPING:
        raise RuntimeError(f"Unknown model architecture: {arch}")
    return MODEL_CLASS_MAPPING[arch], arch
