"""STAND-IN for ``tensorrt_llm._torch.models.modeling_qwen2vl`` (a test fixture, not TensorRT-LLM code), 1.2.x.

Real file: tensorrt_llm/_torch/models/modeling_qwen2vl.py, 1.2.x — NOT stored. INFERRED from the
older c666e7ea1ea841ed9f374068014ec365878a94b7 and the 1.2 Qwen3-VL processor
(modeling_qwen3vl.py @ f4faed18a1a35ff6a29c29e91650faa70a793bff), docs/facts/trtllm_qwen2vl.md §2-§3.

Mirrored: ``Qwen2VLInputProcessorBase(BaseMultimodalInputProcessor, BaseMultimodalDummyInputsBuilder)``
(1.2's Qwen3-VL processor does NOT subclass it): ``_dtype = config.torch_dtype``, tokenizer fallback,
``AutoProcessor.from_pretrained(model_path, use_fast=True, ...)``, ``tllm_multimodal_token_id =
text_config.vocab_size + 1``; ``_preprocess`` passes ``mm_processor_kwargs`` VERBATIM (no
``video_metadata``, no ``do_sample_frames``; ``do_rescale=False`` for tensor input); no
``get_preferred_media_io_kwargs`` (the loader's "pt"); ``__call__`` ALWAYS runs ``_preprocess``,
builds ``multimodal_data["image"]`` / ``["video"]`` (pixel values cast to ``dtype``) and
``["mrope_config"]`` from ``get_mrope_config(hf input_ids, ..., second_per_grid_ts)`` BEFORE
``_postprocess`` remaps image / vision / video ids to ``tllm_multimodal_token_id``;
``Qwen2_5VLInputProcessorBase(Qwen2VLInputProcessorBase)`` with ``get_prompt_token_ids`` (its use for
``qwen2_5_vl`` in 1.2 is UNVERIFIED; c666e7ea registered the base class for both); ``Qwen2VLModel``
("qwen2_vl") and ``Qwen2_5_VLModel`` ("qwen2_5_vl"): BEFORE_TEXT, default separator, no content_format.

Simplified: ``from_pretrained`` adds ``local_files_only=True`` (offline); mRoPE is the stand-ins'
own rule (``trtllm_standins.mrope``, Qwen2.5-VL's ``tokens_per_second`` scaling); no vision model /
weights; ``get_prompt_token_ids`` raises NotImplementedError.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import torch
from trtllm_standins.qwen_outputs import hf_media_inputs, media_outputs  # the image / video entries, alike in every generation
from trtllm_standins.mrope import qwen2_block, rope_index

from ...inputs.registry import (BaseMultimodalDummyInputsBuilder, BaseMultimodalInputProcessor,
                                MultimodalPlaceholderMetadata, MultimodalPlaceholderPlacement,
                                register_input_processor, support_multimodal_disaggregated)
from . import register_auto_model


class Qwen2VLInputProcessorBase(BaseMultimodalInputProcessor, BaseMultimodalDummyInputsBuilder):
    def __init__(self, model_path: str, config: Any, tokenizer: Any, trust_remote_code: bool = True, **kwargs: Any):
        from transformers import AutoProcessor, AutoTokenizer

        super().__init__(model_path=model_path, config=config, tokenizer=tokenizer,
                         trust_remote_code=trust_remote_code, **kwargs)
        self.model_path = model_path
        self.config = config
        self._dtype = config.torch_dtype
        self.tokenizer = tokenizer or AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        self.processor = AutoProcessor.from_pretrained(model_path, use_fast=True, trust_remote_code=trust_remote_code,
                                                       local_files_only=True)  # stand-in: offline
        self.tllm_multimodal_token_id = self.get_vocab_size() + 1
        self.temporal_patch_size = getattr(getattr(config, "vision_config", None), "temporal_patch_size", 1)

    @property
    def dtype(self) -> Any:
        return self._dtype

    def get_vocab_size(self) -> int:
        return int(self.config.text_config.vocab_size)

    def get_mrope_config(self, input_ids: torch.Tensor, image_grid_thw: Any, video_grid_thw: Any,
                         attention_mask: Any, second_per_grid_ts: Any = None) -> Dict[str, torch.Tensor]:
        ids, deltas = rope_index(self.config, input_ids, image_grid_thw, video_grid_thw, attention_mask,
                                 second_per_grid_ts, temporal_block=qwen2_block)
        return {"mrope_position_ids": ids.to("cpu").clone(),
                "mrope_position_deltas": deltas.to("cpu").to(torch.int32).clone()}

    def _preprocess(self, text: str, mm_data: Dict[str, Any], mm_processor_kwargs: Dict[str, Any]):
        images, videos, do_rescale = hf_media_inputs(mm_data)
        return self.processor(text=[text], images=images, videos=videos, padding=True, do_rescale=do_rescale,
                              return_tensors="pt", **mm_processor_kwargs)

    def _postprocess(self, input_ids: torch.Tensor) -> torch.Tensor:
        ids = input_ids.clone()
        for name in ("image_token_id", "vision_token_id", "video_token_id"):
            token_id = getattr(self.config, name, None)
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
        multimodal_data["mrope_config"] = self.get_mrope_config(
            processed["input_ids"], processed.get("image_grid_thw"), processed.get("video_grid_thw"),
            processed.get("attention_mask"), processed.get("second_per_grid_ts"))
        input_ids = processed["input_ids"][0]
        if mm_data:
            input_ids = self._postprocess(input_ids)
        return input_ids.to(torch.int32).tolist(), {"multimodal_data": multimodal_data}


class Qwen2_5VLInputProcessorBase(Qwen2VLInputProcessorBase):
    def get_prompt_token_ids(self, inputs: Any, mm_handles: Any):
        raise NotImplementedError("stand-in: disaggregated serving is not modelled")


class Qwen2VLModelBase:  # stand-in: no weights
    pass


def _placeholders() -> MultimodalPlaceholderMetadata:
    return MultimodalPlaceholderMetadata(
        placeholder_map={"image": "<|vision_start|><|image_pad|><|vision_end|>",
                         "video": "<|vision_start|><|video_pad|><|vision_end|>"},
        placeholder_placement=MultimodalPlaceholderPlacement.BEFORE_TEXT)


@register_auto_model("Qwen2VLForConditionalGeneration")
@register_input_processor(Qwen2VLInputProcessorBase, model_type="qwen2_vl", placeholder_metadata=_placeholders())
class Qwen2VLModel(Qwen2VLModelBase):
    multimodal_data_device_paths = ["image.pixel_values", "image.image_grid_thw", "video.pixel_values_videos",
                                    "video.video_grid_thw", "multimodal_embedding"]


@support_multimodal_disaggregated
@register_auto_model("Qwen2_5_VLForConditionalGeneration")
@register_input_processor(Qwen2_5VLInputProcessorBase, model_type="qwen2_5_vl", placeholder_metadata=_placeholders())
class Qwen2_5_VLModel(Qwen2VLModelBase):
    multimodal_data_device_paths = ["image.pixel_values", "video.pixel_values_videos", "multimodal_embedding"]
