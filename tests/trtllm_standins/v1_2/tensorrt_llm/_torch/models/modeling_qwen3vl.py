"""STAND-IN for ``tensorrt_llm._torch.models.modeling_qwen3vl`` (a test fixture, not TensorRT-LLM code), 1.2.x.

Real file: tensorrt_llm/_torch/models/modeling_qwen3vl.py @ f4faed18a1a35ff6a29c29e91650faa70a793bff
(the 1.2 generation; docs/facts/trtllm_models.md §7, TRTLLM_HOOKS.md §1.5 / §0b).

Mirrored: ``Qwen3VLInputProcessorBase(BaseMultimodalInputProcessor, BaseMultimodalDummyInputsBuilder)``
(not a Qwen2-VL subclass): ``_dtype = config.text_config.dtype``, tokenizer fallback,
``AutoProcessor.from_pretrained(model_path, use_fast=True, trust_remote_code=...)``,
``tllm_multimodal_token_id = get_vocab_size() + 1`` (``text_config.vocab_size``);
``_preprocess`` passes ``**mm_processor_kwargs`` VERBATIM (no ``video_metadata``, no
``do_sample_frames``; ``do_rescale=False`` for tensor input); ``_postprocess`` sets image / video
token ids (``config.image_token_id`` / ``video_token_id``) to ``tllm_multimodal_token_id``;
``__call__`` ALWAYS runs ``_preprocess`` (no text-only path), builds ``multimodal_data["image"]`` /
``["video"]`` (pixel values cast to ``dtype``) and ``["mrope_config"]``, remaps the ids with
``_postprocess`` (only with media) BEFORE ``get_mrope_config``, and returns an int32 list. No
``get_preferred_media_io_kwargs``. Registration on ``Qwen3VLModel``: model_type "qwen3_vl",
BEFORE_TEXT, default separator "\\n", no content_format.

Simplified: ``from_pretrained`` adds ``local_files_only=True`` (offline); ``get_mrope_config`` is
a PLACEHOLDER (arange positions, zero deltas — NOT Qwen's mRoPE); no vision model / weights;
``get_prompt_token_ids`` raises NotImplementedError.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import torch
from trtllm_standins.qwen_outputs import hf_media_inputs, media_outputs  # the image / video entries, alike in every generation

from ...inputs.registry import (BaseMultimodalDummyInputsBuilder, BaseMultimodalInputProcessor,
                                MultimodalPlaceholderMetadata, MultimodalPlaceholderPlacement,
                                register_input_processor, support_multimodal_disaggregated)
from . import register_auto_model


class Qwen3VLInputProcessorBase(BaseMultimodalInputProcessor, BaseMultimodalDummyInputsBuilder):
    def __init__(self, model_path: str, config: Any, tokenizer: Any, trust_remote_code: bool = True, **kwargs: Any):
        from transformers import AutoProcessor, AutoTokenizer

        super().__init__(model_path=model_path, config=config, tokenizer=tokenizer,
                         trust_remote_code=trust_remote_code, **kwargs)
        self.model_path = model_path
        self.config = config
        self._dtype = config.text_config.dtype
        self.tokenizer = tokenizer or AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        self.processor = AutoProcessor.from_pretrained(model_path, use_fast=True, trust_remote_code=trust_remote_code,
                                                       local_files_only=True)  # stand-in: offline
        self.tllm_multimodal_token_id = self.get_vocab_size() + 1
        self.temporal_patch_size = getattr(getattr(config, "vision_config", None), "temporal_patch_size", 2)

    @property
    def dtype(self) -> Any:
        return self._dtype

    def get_vocab_size(self) -> int:
        return int(self.config.text_config.vocab_size)

    def get_prompt_token_ids(self, inputs: Any, mm_handles: Any):
        raise NotImplementedError("stand-in: disaggregated serving is not modelled")

    def get_mrope_config(self, input_ids: torch.Tensor, image_grid_thw: Any, video_grid_thw: Any,
                         attention_mask: Any) -> Dict[str, torch.Tensor]:
        """STAND-IN PLACEHOLDER: arange positions (3, B, S) and zero deltas (B, 1); not mRoPE."""
        b, s = input_ids.shape
        return {"mrope_position_ids": torch.arange(s).view(1, 1, s).expand(3, b, s).clone(),
                "mrope_position_deltas": torch.zeros(b, 1, dtype=torch.int32)}

    def _preprocess(self, text: str, mm_data: Dict[str, Any], mm_processor_kwargs: Dict[str, Any]):
        images, videos, do_rescale = hf_media_inputs(mm_data)
        return self.processor(text=[text], images=images, videos=videos, padding=True, do_rescale=do_rescale,
                              return_tensors="pt", **mm_processor_kwargs)

    def _postprocess(self, input_ids: torch.Tensor) -> torch.Tensor:
        ids = input_ids.clone()
        for token_id in (getattr(self.config, "image_token_id", None), getattr(self.config, "video_token_id", None)):
            if token_id is not None:
                ids[ids == token_id] = self.tllm_multimodal_token_id
        return ids

    @torch.inference_mode()
    def __call__(self, inputs: Dict[str, Any], sampling_params: Any) -> Tuple[List[int], Dict[str, Any]]:
        text_prompt = inputs.get("prompt")
        mm_data = inputs.get("multi_modal_data", {})
        mm_processor_kwargs = inputs.get("mm_processor_kwargs", {})
        processed = self._preprocess(text_prompt, mm_data, mm_processor_kwargs)
        multimodal_data = media_outputs(processed, self.dtype)
        input_ids = processed["input_ids"]
        if mm_data:
            input_ids = self._postprocess(input_ids)
        multimodal_data["mrope_config"] = self.get_mrope_config(
            input_ids, processed.get("image_grid_thw"), processed.get("video_grid_thw"), processed.get("attention_mask"))
        return input_ids[0].to(torch.int32).tolist(), {"multimodal_data": multimodal_data}


class Qwen3VLModelBase:  # stand-in: no weights
    pass


@support_multimodal_disaggregated
@register_auto_model("Qwen3VLForConditionalGeneration")
@register_input_processor(
    Qwen3VLInputProcessorBase,
    model_type="qwen3_vl",
    placeholder_metadata=MultimodalPlaceholderMetadata(
        placeholder_map={
            "image": "<|vision_start|><|image_pad|><|vision_end|>",
            "video": "<|vision_start|><|video_pad|><|vision_end|>",
        },
        placeholder_placement=MultimodalPlaceholderPlacement.BEFORE_TEXT,
    ),
)
class Qwen3VLModel(Qwen3VLModelBase):
    multimodal_data_device_paths = ["image.pixel_values", "video.pixel_values_videos", "multimodal_embedding"]
