"""STAND-IN for ``tensorrt_llm._torch.models.modeling_qwen3vl`` (1.2.x).

``Qwen3VLInputProcessorBase`` holds a real HF processor (``AutoProcessor`` from the model
dir); ``_preprocess`` calls it as 1.2.x does: frames as given, ``do_rescale=False`` for
tensor input, and no ``video_metadata`` / ``do_sample_frames`` / ``fps`` / ``num_frames``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import torch

from ...inputs.registry import (
    BaseMultimodalDummyInputsBuilder,
    BaseMultimodalInputProcessor,
    MultimodalPlaceholderMetadata,
    MultimodalPlaceholderPlacement,
    register_input_processor,
    support_multimodal_disaggregated,
)
from . import register_auto_model


class Qwen3VLInputProcessorBase(BaseMultimodalInputProcessor, BaseMultimodalDummyInputsBuilder):
    def __init__(self, model_path: str, config: Any, tokenizer: Any, trust_remote_code: bool = True, **kwargs: Any):
        from transformers import AutoProcessor

        self.model_path = model_path
        self.config = config
        self.tokenizer = tokenizer
        # stand-in: local_files_only (no hub); the real one passes trust_remote_code etc.
        self.processor = AutoProcessor.from_pretrained(model_path, local_files_only=True)

    def get_prompt_token_ids(self, *args: Any, **kwargs: Any):
        raise NotImplementedError

    def _preprocess(self, text: str, mm_data: Dict[str, Any], mm_processor_kwargs: Dict[str, Any]):
        images = mm_data.get("image")
        video_datas = mm_data.get("video")
        videos = [vd.frames for vd in video_datas] if video_datas else None
        do_rescale = True
        if images and isinstance(images[0], torch.Tensor):
            do_rescale = False
        elif videos and isinstance(videos[0][0], torch.Tensor):
            do_rescale = False
        return self.processor(text=[text], images=images, videos=videos, padding=True, do_rescale=do_rescale,
                              return_tensors="pt", **mm_processor_kwargs)

    def __call__(self, inputs: Dict[str, Any], sampling_params: Any) -> Tuple[List[int], Dict[str, Any]]:
        processed = self._preprocess(inputs["prompt"], inputs.get("multi_modal_data") or {},
                                     inputs.get("mm_processor_kwargs") or {})
        mm: Dict[str, Any] = {}
        if "pixel_values_videos" in processed:
            mm["video"] = {"pixel_values_videos": processed["pixel_values_videos"],
                           "video_grid_thw": processed["video_grid_thw"]}
        if "pixel_values" in processed:
            mm["image"] = {"pixel_values": processed["pixel_values"], "image_grid_thw": processed["image_grid_thw"]}
        return processed["input_ids"][0].tolist(), {"multimodal_data": mm}


class Qwen3VLModelBase:
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
    pass
