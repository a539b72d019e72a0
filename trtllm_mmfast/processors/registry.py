"""Which fast processor serves which HF processor: one family per model line.

``FAMILIES`` names each family (its module, the model types it serves, its sampler);
``get(name)`` imports the family module (lazily: transformers and torch load only when a
family is used); ``family_of(processor)`` tells the family of a live HF processor (by its
class, or its video processor's, base classes included) or of a fast wrapper. Every family
module has ``wrap(hf_processor, *, memo=True, memo_size=256, cache=None, fused=None)``,
``sampler_for(processor)`` and ``FAMILY``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from ._families import FAMILIES, PROCESSOR_CLASSES, Family, family_name_of

__all__ = ["FAMILIES", "Family", "family_of", "get"]


def get(name: str) -> ModuleType:
    """The family module named ``name`` (``"qwen3_vl"``, ``"qwen2_vl"``), imported on first use."""
    family = FAMILIES.get(name) if isinstance(name, str) else None
    if family is None:
        raise ValueError(f"unknown processor family {name!r}; valid: {', '.join(sorted(FAMILIES))}")
    return importlib.import_module(family.module)


def family_of(hf_processor: Any) -> Family:
    """The family of an HF processor (``Qwen3VLProcessor``, ``Qwen2VLProcessor``,
    ``Qwen2_5_VLProcessor``, subclasses too), of a bare video processor, or of a fast wrapper."""
    own = getattr(type(hf_processor), "FAMILY", None)
    if isinstance(own, Family):  # a Fast*Processor
        return own
    name = family_name_of(hf_processor)
    if name is None:
        vp_name = type(getattr(hf_processor, "video_processor", None)).__name__
        raise TypeError(
            f"no fast processor family for {type(hf_processor).__name__} (video processor {vp_name}); "
            f"supported: {', '.join(sorted(PROCESSOR_CLASSES))} ({', '.join(sorted(FAMILIES))})"
        )
    return FAMILIES[name]
