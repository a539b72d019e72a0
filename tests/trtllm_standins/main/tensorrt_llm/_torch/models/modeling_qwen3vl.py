"""STAND-IN for ``tensorrt_llm._torch.models.modeling_qwen3vl`` (main).

Entry point ``call_with_text_prompt`` (inherited from ``Qwen2VLInputProcessorBase``) calls
``_preprocess(text, mm_data, mm_processor_kwargs)``, which calls the real HF processor with
``do_rescale``, ``do_sample_frames`` (``_decide_do_sample_frames``), ``video_metadata`` with
``total_num_frames`` replaced by the frame count, ``padding=True`` and ``return_tensors="pt"``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import torch

from ...inputs.registry import (
    BaseMultimodalDummyInputsBuilder,
    BaseMultimodalInputProcessor,
    ContentFormat,
    MultimodalPlaceholderMetadata,
    MultimodalPlaceholderPlacement,
    register_input_processor,
    support_multimodal_disaggregated,
)
from . import register_auto_model


class Qwen2VLInputProcessorBase(BaseMultimodalInputProcessor, BaseMultimodalDummyInputsBuilder):
    def __init__(self, model_path: str, config: Any, tokenizer: Any, trust_remote_code: bool = True, **kwargs: Any):
        from transformers import AutoProcessor

        self.model_path = model_path
        self.config = config
        self.tokenizer = tokenizer
        self.processor = AutoProcessor.from_pretrained(model_path, local_files_only=True)  # stand-in: offline

    def get_prompt_token_ids(self, *args: Any, **kwargs: Any):
        raise NotImplementedError

    def _preprocess(self, text, mm_data, mm_processor_kwargs):
        raise NotImplementedError

    def call_with_text_prompt(self, inputs: Dict[str, Any], sampling_params: Any) -> Tuple[List[int], Optional[Dict[str, Any]]]:
        mm_data = inputs.get("multi_modal_data") or {}
        if not mm_data:  # text-only fast path
            return self.processor.tokenizer(inputs["prompt"])["input_ids"], None
        processed = self._preprocess(inputs["prompt"], mm_data, inputs.get("mm_processor_kwargs") or {})
        mm: Dict[str, Any] = {}
        if "pixel_values_videos" in processed:
            mm["video"] = {"pixel_values_videos": processed["pixel_values_videos"],
                           "video_grid_thw": processed["video_grid_thw"]}
        if "pixel_values" in processed:
            mm["image"] = {"pixel_values": processed["pixel_values"], "image_grid_thw": processed["image_grid_thw"]}
        return processed["input_ids"][0].tolist(), {"multimodal_data": mm}

    def __call__(self, inputs: Dict[str, Any], sampling_params: Any):
        return self.call_with_text_prompt(inputs, sampling_params)


def _decide_do_sample_frames(video_datas: List[Any], mm_processor_kwargs: Dict[str, Any]) -> bool:
    num_frames = mm_processor_kwargs.get("num_frames")
    if num_frames is None and mm_processor_kwargs.get("fps") is None:
        return True
    return num_frames is not None and any(len(vd.frames) != num_frames for vd in video_datas)


class Qwen3VLInputProcessorBase(Qwen2VLInputProcessorBase):
    def get_preferred_media_io_kwargs(self) -> Dict[str, Dict[str, Any]]:
        return {"image": {"format": "np"}, "video": {"format": "np"}}

    def _preprocess(self, text: Dict[str, Any], mm_data: Dict[str, Any], mm_processor_kwargs: Dict[str, Any]):
        kwargs = dict(mm_processor_kwargs)
        images = mm_data.get("image")
        video_datas = mm_data.get("video")
        videos = [vd.frames for vd in video_datas] if video_datas else None
        image_tensor = bool(images) and isinstance(images[0], torch.Tensor)
        video_tensor = bool(videos) and isinstance(videos[0][0], torch.Tensor)
        if images and videos and image_tensor != video_tensor:
            raise ValueError("images and videos disagree on pre-rescaling")
        do_rescale = not (image_tensor or video_tensor)
        if video_datas:
            do_sample = _decide_do_sample_frames(video_datas, kwargs)
            num_frames, fps = kwargs.pop("num_frames", None), kwargs.pop("fps", None)
            if do_sample:
                if num_frames is not None:
                    kwargs["num_frames"] = num_frames
                if fps is not None and num_frames is None:
                    kwargs["fps"] = fps
            kwargs["do_sample_frames"] = do_sample
            kwargs["video_metadata"] = [{**vd.metadata, "total_num_frames": len(vd.frames)} for vd in video_datas]
        return self.processor(text=[text], images=images, videos=videos, do_rescale=do_rescale, padding=True,
                              return_tensors="pt", **kwargs)


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
        placeholders_separator="",
        content_format=ContentFormat.STRING,
    ),
)
class Qwen3VLModel(Qwen3VLModelBase):
    pass
