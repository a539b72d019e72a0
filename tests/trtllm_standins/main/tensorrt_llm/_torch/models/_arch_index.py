"""STAND-IN for ``tensorrt_llm._torch.models._arch_index`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/_torch/models/_arch_index.py (stored index ids 57561351364 / 57385838927,
commit not stored; a version is listed @065ff9e93780bc0bdbfdbc7156a306ca14f5850c).

Static maps from names to the zoo module that registers them, so nothing is imported until
it is needed. Simplified: only the Qwen2-VL / Qwen2.5-VL / Qwen3-VL / Qwen3-VL-MoE entries (no
SPEC_MODE_TO_MODULE).
"""

MODEL_ARCH_TO_MODULE = {
    "Qwen2VLForConditionalGeneration": "modeling_qwen2vl",
    "Qwen2_5_VLForConditionalGeneration": "modeling_qwen2vl",
    "Qwen3VLForConditionalGeneration": "modeling_qwen3vl",
    "Qwen3VLMoeForConditionalGeneration": "modeling_qwen3vl_moe",
}

MODEL_CLASS_TO_MODULE = {
    "Qwen3VLModel": "modeling_qwen3vl",
    "Qwen3MoeVLModel": "modeling_qwen3vl_moe",
    "Qwen2VLInputProcessorBase": "modeling_qwen2vl",
    "Qwen2VLModel": "modeling_qwen2vl",
    "Qwen2_5_VLModel": "modeling_qwen2vl",
}

MULTIMODAL_MODEL_TYPE_TO_MODULE = {
    "qwen2_vl": "modeling_qwen2vl",
    "qwen2_5_vl": "modeling_qwen2vl",
    "qwen3_vl": "modeling_qwen3vl",
    "qwen3_vl_moe": "modeling_qwen3vl_moe",
}

_ZOO_PACKAGE = "tensorrt_llm._torch.models"


def is_builtin_zoo_module(module_name: str) -> bool:
    """True for the zoo package itself or a module below it (package boundary, not a prefix)."""
    return module_name == _ZOO_PACKAGE or module_name.startswith(_ZOO_PACKAGE + ".")
