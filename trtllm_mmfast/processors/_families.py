"""The table of processor families (a leaf module: the registry and every family module
import it, so neither has to import the other)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["FAMILIES", "PROCESSOR_CLASSES", "VIDEO_PROCESSOR_CLASSES", "Family", "family_name_of"]


@dataclass(frozen=True)
class Family:
    """One model family whose HF processor has a fast wrapper here."""

    name: str  # "qwen3_vl" | "qwen2_vl"
    module: str  # dotted module of the family, e.g. "trtllm_mmfast.processors.qwen2_vl"
    model_types: tuple[str, ...]  # TensorRT-LLM / HF model types it serves
    sampler: str  # name in video.sampling's registry


FAMILIES: Mapping[str, Family] = MappingProxyType(
    {
        "qwen2_vl": Family("qwen2_vl", "trtllm_mmfast.processors.qwen2_vl", ("qwen2_vl", "qwen2_5_vl"), "qwen2_vl"),
        "qwen3_vl": Family("qwen3_vl", "trtllm_mmfast.processors.qwen3_vl", ("qwen3_vl", "qwen3_vl_moe"), "qwen3_vl"),
    }
)

# transformers class names (processors and video processors) -> family. Processor classes
# are looked up before video processor ones (Qwen2.5-VL reuses Qwen2-VL's video processor).
PROCESSOR_CLASSES: Mapping[str, str] = MappingProxyType(
    {
        "Qwen2VLProcessor": "qwen2_vl",
        "Qwen2_5_VLProcessor": "qwen2_vl",
        "Qwen3VLProcessor": "qwen3_vl",
    }
)
VIDEO_PROCESSOR_CLASSES: Mapping[str, str] = MappingProxyType(
    {
        "Qwen2VLVideoProcessor": "qwen2_vl",
        "Qwen3VLVideoProcessor": "qwen3_vl",
    }
)


def _by_class(obj: Any, table: Mapping[str, str]) -> str | None:
    for cls in type(obj).__mro__:
        name = table.get(cls.__name__)
        if name is not None:
            return name
    return None


def family_name_of(hf_processor: Any) -> str | None:
    """The family name of an HF processor (by its class, then its video processor's; base
    classes count), or None when neither is known."""
    name = _by_class(hf_processor, PROCESSOR_CLASSES)
    if name is None:
        name = _by_class(getattr(hf_processor, "video_processor", hf_processor), VIDEO_PROCESSOR_CLASSES)
    return name
