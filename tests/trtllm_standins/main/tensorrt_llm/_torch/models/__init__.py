"""STAND-IN for ``tensorrt_llm._torch.models`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/_torch/models/__init__.py, the lazy model zoo (stored index id
57350600002, commit not stored).

Mirrored: nothing but the registry helpers is imported eagerly; PEP 562 ``__getattr__`` imports
``MODEL_CLASS_TO_MODULE[name]`` on first access (or ``.<name>`` as a submodule; a
ModuleNotFoundError for exactly that submodule becomes AttributeError) and caches it;
``get_model_architecture`` imports the arch's module on a miss. Simplified: no
``tensorrt_llm._torch.configs`` / ``AutoModelForCausalLM``.
"""

from __future__ import annotations

import importlib

from ._arch_index import MODEL_ARCH_TO_MODULE, MODEL_CLASS_TO_MODULE, MULTIMODAL_MODEL_TYPE_TO_MODULE  # noqa: F401
from .modeling_utils import MODEL_CLASS_MAPPING, get_model_architecture, register_auto_model  # noqa: F401

__all__ = sorted(MODEL_CLASS_TO_MODULE) + ["get_model_architecture"]


def __getattr__(name: str):
    module = MODEL_CLASS_TO_MODULE.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f".{module}", __name__), name)
        globals()[name] = value
        return value
    full = f"{__name__}.{name}"
    try:
        return importlib.import_module(full)
    except ModuleNotFoundError as e:
        if e.name == full:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        raise


def __dir__():
    return sorted(set(__all__) | set(globals()))
