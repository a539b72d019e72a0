"""STAND-IN for ``tensorrt_llm._torch.models.modeling_qwen2vl`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/_torch/models/modeling_qwen2vl.py, the 002f3cc3 generation (only the
8-hex prefix is recorded; the facts read the newest indexed version, id 55160869554, commit not
stored; docs/facts/trtllm_qwen2vl.md §1, docs/facts/trtllm_models.md §2).

Mirrored: ``Qwen2VLInputProcessorBase(BaseMultimodalInputProcessor,
BaseMultimodalDummyInputsBuilder)``: ``_dtype = config.torch_dtype``, tokenizer fallback,
``_processor = AutoProcessor.from_pretrained(model_path, use_fast=self.use_fast, ...)``, the
``processor`` / ``tokenizer`` / ``config`` / ``model_path`` / ``dtype`` properties,
``get_vocab_size() = config.text_config.vocab_size``, ``get_mm_token_ids``, ``_preprocess``
(``mm_processor_kwargs`` VERBATIM: no ``video_metadata``, no ``do_sample_frames``; the
``do_rescale`` rule), NO ``get_preferred_media_io_kwargs`` override (the loader's "pt"),
``_postprocess`` = identity, ``call_with_text_prompt`` (text-only: ``(ids, {"multimodal_data":
{"mrope_config": ...}})``; media: ``image`` / ``video`` dicts cast to ``dtype`` plus
``mrope_config`` from ``get_mrope_config(..., second_per_grid_ts)``); the mRoPE position rule
(text runs sequential on 3 axes, one t/h/w block per vision item in prompt order, the temporal
axis scaled by ``second_per_grid_t * vision_config.tokens_per_second`` when that is set, via the
``_build_temporal_block`` hook; deltas = max + 1 - length), written from the description, in
torch; ``Qwen2_5VLInputProcessorBase(Qwen2VLInputProcessorBase)``; the registrations of
``Qwen2VLModel`` ("qwen2_vl", ``Qwen2VLInputProcessorBase``) and ``Qwen2_5_VLModel``
("qwen2_5_vl", ``Qwen2_5VLInputProcessorBase``, ``support_multimodal_disaggregated``):
BEFORE_TEXT, ``content_format=ContentFormat.STRING``, default separator; the token counters
``get_num_tokens_per_image(*, image)`` / ``get_num_tokens_per_video(*, video)``: no HF
processor call, no pixel read, only the size of the image / of frame 0 (a tensor's last two
dims, a PIL image's height/width) and ``len(video)``; HF ``smart_resize`` with factor
``patch_size * spatial_merge_size`` and the IMAGE processor's ``size`` bounds
(``shortest_edge`` / ``longest_edge``, default 3136 / 1003520), ``grid_t = max(ceil(n / tps),
1)``, returning ``t * h * w // merge**2`` (any further kwargs, e.g. ``video_grid_thw``, are
ignored; from index id 55160869554, commit not stored: the one explicitly stored commit,
c666e7ea1ea841ed9f374068014ec365878a94b7, predates these counters; docs/facts/trtllm_token_counts.md).

Simplified: ``from_pretrained`` adds ``local_files_only=True`` (offline); no vision model /
weights, dummy inputs, embeddings path or output-validation filter;
``build_disagg_prefill_multimodal_inputs`` raises NotImplementedError.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import torch

from ...inputs.registry import (BaseMultimodalDummyInputsBuilder, BaseMultimodalInputProcessor, ContentFormat,
                                MultimodalPlaceholderMetadata, MultimodalPlaceholderPlacement,
                                register_input_processor, support_multimodal_disaggregated)
from trtllm_standins.qwen_outputs import hf_media_inputs, media_outputs  # the image / video entries, alike in every generation
from trtllm_standins.mrope import qwen2_block, rope_index  # the stand-ins' own mRoPE rule (shared with v1_2)

from .modeling_utils import register_auto_model, register_vision_encoder

QWEN_VL_PLACEHOLDER_MAP = {
    "image": "<|vision_start|><|image_pad|><|vision_end|>",
    "video": "<|vision_start|><|video_pad|><|vision_end|>",
}


class Qwen2VLInputProcessorBase(BaseMultimodalInputProcessor, BaseMultimodalDummyInputsBuilder):
    def __init__(self, model_path: str, config: Any, tokenizer: Any, trust_remote_code: bool = True, **kwargs: Any):
        from transformers import AutoProcessor, AutoTokenizer

        super().__init__(model_path=model_path, config=config, tokenizer=tokenizer,
                         trust_remote_code=trust_remote_code, **kwargs)
        self._dtype = getattr(self._config, "torch_dtype", torch.float32)
        self._tokenizer = tokenizer or AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        self._model_path = model_path
        self._processor = AutoProcessor.from_pretrained(model_path, use_fast=self.use_fast,
                                                        trust_remote_code=trust_remote_code,
                                                        local_files_only=True)  # stand-in: offline
        self.temporal_patch_size = getattr(getattr(config, "vision_config", None), "temporal_patch_size", 1)

    @property
    def config(self) -> Any:
        return self._config

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    @property
    def model_path(self) -> Any:
        return self._model_path

    @property
    def processor(self) -> Any:
        return self._processor

    @property
    def dtype(self) -> Any:
        return self._dtype

    def get_vocab_size(self) -> int:
        return int(self.config.text_config.vocab_size)

    def _vision_pixel_bounds(self) -> Tuple[int, int]:
        size = getattr(self.processor.image_processor, "size", None) or {}
        return int(size.get("shortest_edge", 3136)), int(size.get("longest_edge", 1003520))

    def _grid_thw_for_size(self, width: int, height: int, num_frames: int = 1) -> Tuple[int, int, int]:
        from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

        vc = self.config.vision_config
        lo, hi = self._vision_pixel_bounds()
        h, w = smart_resize(height, width, factor=vc.patch_size * vc.spatial_merge_size, min_pixels=lo, max_pixels=hi)
        tps = self.temporal_patch_size
        return max(-(-num_frames // tps), 1), h // vc.patch_size, w // vc.patch_size

    @staticmethod
    def _height_width(item: Any) -> Tuple[int, int]:
        if isinstance(item, torch.Tensor):
            return int(item.shape[-2]), int(item.shape[-1])
        return int(item.height), int(item.width)  # PIL

    def get_num_tokens_per_image(self, *, image: Any, **kwargs: Any) -> int:
        h, w = self._height_width(image)
        t, gh, gw = self._grid_thw_for_size(w, h)
        return t * gh * gw // self.config.vision_config.spatial_merge_size ** 2

    def get_num_tokens_per_video(self, *, video: Any, **kwargs: Any) -> int:
        h, w = self._height_width(video[0])
        t, gh, gw = self._grid_thw_for_size(w, h, num_frames=len(video))
        return t * gh * gw // self.config.vision_config.spatial_merge_size ** 2

    def get_mm_token_ids(self) -> Optional[torch.Tensor]:
        ids = [getattr(self.config, a, None) for a in ("image_token_id", "vision_token_id", "video_token_id")]
        ids = [i for i in ids if i is not None]
        return torch.tensor(ids, dtype=torch.int32) if ids else None

    @classmethod
    def _build_temporal_block(cls, config: Any, t: int, h: int, w: int, second_per_grid_t: float) -> torch.Tensor:
        """(3, t*h*w) positions of one vision item; Qwen2.5-VL scales the temporal axis."""
        return qwen2_block(config, t, h, w, second_per_grid_t)

    @classmethod
    def get_rope_index(cls, config: Any, input_ids: torch.Tensor, image_grid_thw: Any = None, video_grid_thw: Any = None,
                       attention_mask: Any = None, second_per_grid_ts: Any = None) -> Tuple[torch.Tensor, torch.Tensor]:
        return rope_index(config, input_ids, image_grid_thw, video_grid_thw, attention_mask, second_per_grid_ts,
                          temporal_block=cls._build_temporal_block)

    def get_mrope_config(self, input_ids: torch.Tensor, image_grid_thw: Any, video_grid_thw: Any,
                         attention_mask: Any, second_per_grid_ts: Any = None) -> Dict[str, torch.Tensor]:
        ids, deltas = type(self).get_rope_index(self.config, input_ids, image_grid_thw, video_grid_thw,
                                                attention_mask, second_per_grid_ts)
        return {"mrope_position_ids": ids.to("cpu").clone(),
                "mrope_position_deltas": deltas.to("cpu").to(torch.int32).clone()}

    def _preprocess(self, text: Any, mm_data: Dict[str, Any], mm_processor_kwargs: Dict[str, Any]):
        images, videos, do_rescale = hf_media_inputs(mm_data)
        return self.processor(text=[text], images=images, videos=videos, padding=True, do_rescale=do_rescale,
                              return_tensors="pt", **mm_processor_kwargs)

    def _postprocess(self, input_ids: torch.Tensor) -> torch.Tensor:
        return input_ids

    @torch.inference_mode()
    def call_with_text_prompt(self, inputs: Dict[str, Any], sampling_params: Any) -> Tuple[List[int], Optional[Dict[str, Any]]]:
        text_prompt = inputs.get("prompt")
        mm_data = inputs.get("multi_modal_data", {})
        mm_processor_kwargs = inputs.get("mm_processor_kwargs", {})
        if not mm_data:
            input_ids = self.tokenizer(text_prompt, return_tensors="pt").input_ids
            mrope_config = self.get_mrope_config(input_ids, None, None, torch.ones_like(input_ids), None)
            return input_ids[0].to(torch.int32).tolist(), {"multimodal_data": {"mrope_config": mrope_config}}

        processed = self._preprocess(text_prompt, mm_data, mm_processor_kwargs)
        multimodal_data = media_outputs(processed, self.dtype)
        multimodal_data["mrope_config"] = self.get_mrope_config(
            processed["input_ids"], processed.get("image_grid_thw"), processed.get("video_grid_thw"),
            processed.get("attention_mask"), processed.get("second_per_grid_ts"))
        input_ids = self._postprocess(processed["input_ids"][0])  # media present: the text-only case returned above
        return input_ids.to(torch.int32).tolist(), {"multimodal_data": multimodal_data}


class Qwen2_5VLInputProcessorBase(Qwen2VLInputProcessorBase):
    def build_disagg_prefill_multimodal_inputs(self, inputs: Any, mm_handles: Any) -> Any:
        raise NotImplementedError("stand-in: disaggregated serving is not modelled")


class Qwen2VLModelBase:  # stand-in: no weights
    pass


class Qwen2VisionModelBase:  # stand-in: no vision tower
    pass


class Qwen2VisionTransformerPretrainedModel:
    pass


class Qwen2_5_VisionModel:
    pass


def _placeholders() -> MultimodalPlaceholderMetadata:
    return MultimodalPlaceholderMetadata(placeholder_map=dict(QWEN_VL_PLACEHOLDER_MAP),
                                         placeholder_placement=MultimodalPlaceholderPlacement.BEFORE_TEXT,
                                         content_format=ContentFormat.STRING)


@register_vision_encoder(Qwen2VisionModelBase, vlm_base_model=Qwen2VisionTransformerPretrainedModel)
@register_auto_model("Qwen2VLForConditionalGeneration")
@register_input_processor(Qwen2VLInputProcessorBase, model_type="qwen2_vl", placeholder_metadata=_placeholders())
class Qwen2VLModel(Qwen2VLModelBase):
    multimodal_data_device_paths = ["image.pixel_values", "image.image_grid_thw", "video.pixel_values_videos",
                                    "video.video_grid_thw", "multimodal_embedding", "mrope_config.mrope_position_ids",
                                    "mrope_config.mrope_position_deltas"]


@support_multimodal_disaggregated
@register_vision_encoder(Qwen2VisionModelBase, vlm_base_model=Qwen2_5_VisionModel)
@register_auto_model("Qwen2_5_VLForConditionalGeneration")
@register_input_processor(Qwen2_5VLInputProcessorBase, model_type="qwen2_5_vl", placeholder_metadata=_placeholders())
class Qwen2_5_VLModel(Qwen2VLModelBase):
    multimodal_data_device_paths = ["image.pixel_values", "video.pixel_values_videos", "multimodal_embedding",
                                    "mrope_config.mrope_position_ids", "mrope_config.mrope_position_deltas"]
