"""STAND-IN for ``tensorrt_llm._torch.models.modeling_qwen3vl_moe`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/_torch/models/modeling_qwen3vl_moe.py — the brief names 14b0c8f8 (only
that 8-hex prefix is recorded); the facts read @52e708d0cce4da93ed7978520333895290e85ae3 and
the newest indexed version (id 36069965859, commit not stored) that adds
``@support_multimodal_disaggregated`` (docs/facts/trtllm_models.md §4).

Mirrored: ``Qwen3MoeVLModel(Qwen3VLModelBase)`` registered with the SAME processor class
``Qwen3VLInputProcessorBase`` under ``model_type="qwen3_vl_moe"`` (same placeholder map,
BEFORE_TEXT, default separator "\\n", no content_format — whether 14b0c8f8 aligned these with
qwen3_vl is unverified), ``register_auto_model("Qwen3VLMoeForConditionalGeneration")``,
``support_multimodal_disaggregated``. Simplified: no weights / weight mapper.
"""

from __future__ import annotations

from ...inputs.registry import (MultimodalPlaceholderMetadata, MultimodalPlaceholderPlacement,
                                register_input_processor, support_multimodal_disaggregated)
from .modeling_qwen3vl import (QWEN3_VL_PLACEHOLDER_MAP, Qwen3VisionModel, Qwen3VisionModelBase,
                               Qwen3VLInputProcessorBase, Qwen3VLModelBase)
from .modeling_utils import register_auto_model, register_vision_encoder


@support_multimodal_disaggregated
@register_vision_encoder(Qwen3VisionModelBase, vlm_base_model=Qwen3VisionModel)
@register_auto_model("Qwen3VLMoeForConditionalGeneration")
@register_input_processor(
    Qwen3VLInputProcessorBase,
    model_type="qwen3_vl_moe",
    placeholder_metadata=MultimodalPlaceholderMetadata(
        placeholder_map=dict(QWEN3_VL_PLACEHOLDER_MAP),
        placeholder_placement=MultimodalPlaceholderPlacement.BEFORE_TEXT,
    ),
)
class Qwen3MoeVLModel(Qwen3VLModelBase):
    multimodal_data_device_paths = ["image.pixel_values", "video.pixel_values_videos", "multimodal_embedding"]
