"""TensorRT-LLM's Qwen-VL input-processor base classes the hooks serve, one per processor
family, most specific first (on main ``Qwen3VLInputProcessorBase`` subclasses
``Qwen2VLInputProcessorBase``; on 1.2 it does not), and the model classes TensorRT-LLM
registers with them (for the report: the registry wrapper also serves ones registered later).

A registered processor class is served by the first base it subclasses; the family that
actually runs is the one of its live HF processor (``processors.registry.family_of``),
so a checkpoint whose processor is of another family still gets its own sampler.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HOOKED", "HookedBase", "base_of"]


@dataclass(frozen=True)
class HookedBase:
    family: str  # the processor family (``trtllm_mmfast.processors.registry``) it is built for
    module: str  # the TensorRT-LLM module defining ``base``
    base: str  # the input-processor base class name
    models: tuple[tuple[str, str, str], ...]  # (module, model class, model type) TensorRT-LLM ships
    fast_name: str  # the name of the fast subclasses made for it

    @property
    def hook(self) -> str:
        """Its name in the hook report."""
        return f"{self.family}_input_processor"


HOOKED: tuple[HookedBase, ...] = (
    HookedBase(
        "qwen3_vl",
        "tensorrt_llm._torch.models.modeling_qwen3vl",
        "Qwen3VLInputProcessorBase",
        (
            ("tensorrt_llm._torch.models.modeling_qwen3vl", "Qwen3VLModel", "qwen3_vl"),
            ("tensorrt_llm._torch.models.modeling_qwen3vl_moe", "Qwen3MoeVLModel", "qwen3_vl_moe"),
        ),
        "FastQwen3VLInputProcessor",
    ),
    HookedBase(
        "qwen2_vl",
        "tensorrt_llm._torch.models.modeling_qwen2vl",
        "Qwen2VLInputProcessorBase",
        (
            ("tensorrt_llm._torch.models.modeling_qwen2vl", "Qwen2VLModel", "qwen2_vl"),
            ("tensorrt_llm._torch.models.modeling_qwen2vl", "Qwen2_5_VLModel", "qwen2_5_vl"),
        ),
        "FastQwen2VLInputProcessor",
    ),
)


def base_of(cls: type, bases: tuple[tuple[HookedBase, type], ...]) -> HookedBase | None:
    """The most specific hooked base ``cls`` subclasses (``bases`` in ``HOOKED`` order), or None."""
    for hooked, base in bases:
        if issubclass(cls, base):
            return hooked
    return None
