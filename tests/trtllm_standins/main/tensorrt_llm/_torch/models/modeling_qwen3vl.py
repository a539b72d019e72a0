"""STAND-IN for ``tensorrt_llm._torch.models.modeling_qwen3vl`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/_torch/models/modeling_qwen3vl.py, the 002f3cc3 generation (only the
8-hex prefix 002f3cc3 is recorded; the facts read the newest indexed version, id 55289253059,
commit not stored; docs/facts/trtllm_models.md §3).

Mirrored: module-level ``_decide_do_sample_frames`` exactly (explicit ``do_sample_frames``
wins; no videos -> False; -1 means unset; no target -> True; target = ``num_frames`` else
``floor(duration * fps)`` compared with ``len(vd.frames)``, all-or-nothing);
``Qwen3VLInputProcessorBase(Qwen2VLInputProcessorBase)`` with ``_dtype =
config.text_config.dtype``, ``_preprocess`` (do_rescale rule as Qwen2-VL; ``proc_kwargs`` =
``do_sample_frames`` + every caller key except num_frames/fps/do_sample_frames; when
sampling, forward num_frames / fps as given and ``fps=None`` when only num_frames;
``video_metadata`` = each ``vd.metadata`` with ``total_num_frames = len(vd.frames)``),
``get_num_tokens_per_video``, ``get_preferred_media_io_kwargs() -> {"video": {"format": "np"}}``,
and the registration decorators on ``Qwen3VLModel`` (separator "", ContentFormat.STRING).

mRoPE: the Qwen2-VL stand-in's rule, with Qwen3-VL's two overrides: ``get_rope_index`` splits each
video's grid into one ``t=1`` row per temporal patch (``repeat_interleave``; each has its own
timestamp and vision-start), ``_build_temporal_block`` is plain ``indices`` (no tokens_per_second).

Simplified: no vision model / weights (``Qwen3VisionModel*`` are empty classes);
``build_disagg_prefill_multimodal_inputs`` raises NotImplementedError.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional

import torch

from ...inputs.registry import (ContentFormat, MultimodalPlaceholderMetadata, MultimodalPlaceholderPlacement,
                                register_input_processor, support_multimodal_disaggregated)
from trtllm_standins.mrope import plain_block
from trtllm_standins.qwen_outputs import hf_media_inputs  # the images / frames / do_rescale rule, alike in every generation

from .modeling_qwen2vl import Qwen2VLInputProcessorBase
from .modeling_utils import register_auto_model, register_vision_encoder

QWEN3_VL_PLACEHOLDER_MAP = {
    "image": "<|vision_start|><|image_pad|><|vision_end|>",
    "video": "<|vision_start|><|video_pad|><|vision_end|>",
}


def _decide_do_sample_frames(video_datas: Optional[List[Any]], mm_processor_kwargs: Dict[str, Any]) -> bool:
    if "do_sample_frames" in mm_processor_kwargs:
        return bool(mm_processor_kwargs["do_sample_frames"])
    if not video_datas:
        return False
    user_num_frames = mm_processor_kwargs.get("num_frames")
    user_fps = mm_processor_kwargs.get("fps")
    has_num_frames = user_num_frames is not None and user_num_frames != -1
    has_fps = user_fps is not None and user_fps != -1
    if not has_num_frames and not has_fps:
        return True
    for vd in video_datas:
        n_decoded = len(vd.frames)
        if has_num_frames:
            target = user_num_frames
        else:
            duration = (vd.metadata or {}).get("duration") or 0
            target = math.floor(duration * user_fps)
        if target != n_decoded:
            return True
    return False


class Qwen3VLInputProcessorBase(Qwen2VLInputProcessorBase):
    def __init__(self, model_path: str, config: Any, tokenizer: Any, trust_remote_code: bool = True, **kwargs: Any):
        super().__init__(model_path, config, tokenizer, trust_remote_code=trust_remote_code, **kwargs)
        self._dtype = self.config.text_config.dtype

    @classmethod
    def _build_temporal_block(cls, config: Any, t: int, h: int, w: int, second_per_grid_t: float) -> torch.Tensor:
        return plain_block(config, t, h, w, second_per_grid_t)

    @classmethod
    def get_rope_index(cls, config: Any, input_ids: torch.Tensor, image_grid_thw: Any = None, video_grid_thw: Any = None,
                       attention_mask: Any = None, second_per_grid_ts: Any = None):
        if video_grid_thw is not None:
            video_grid_thw = torch.repeat_interleave(video_grid_thw, video_grid_thw[:, 0], dim=0)
            video_grid_thw[:, 0] = 1
        return super().get_rope_index(config, input_ids, image_grid_thw, video_grid_thw, attention_mask, second_per_grid_ts)

    def get_preferred_media_io_kwargs(self) -> Dict[str, Dict[str, Any]]:
        return {"video": {"format": "np"}}

    def _preprocess(self, text: Any, mm_data: Dict[str, Any], mm_processor_kwargs: Dict[str, Any]):
        images, videos, do_rescale = hf_media_inputs(mm_data)
        video_datas = mm_data.get("video")

        do_sample_frames = _decide_do_sample_frames(video_datas, mm_processor_kwargs)
        proc_kwargs: Dict[str, Any] = {"do_sample_frames": do_sample_frames}
        proc_kwargs.update({k: v for k, v in mm_processor_kwargs.items()
                            if k not in ("num_frames", "fps", "do_sample_frames")})
        if do_sample_frames:
            if "num_frames" in mm_processor_kwargs:
                proc_kwargs["num_frames"] = mm_processor_kwargs["num_frames"]
            if "fps" in mm_processor_kwargs:
                proc_kwargs["fps"] = mm_processor_kwargs["fps"]
            if "num_frames" in mm_processor_kwargs and "fps" not in mm_processor_kwargs:
                proc_kwargs["fps"] = None  # HF honours num_frames only when fps is unset

        video_metadata = None
        if video_datas:
            video_metadata = []
            for vd in video_datas:
                m = dict(vd.metadata or {})
                m["total_num_frames"] = len(vd.frames)
                video_metadata.append(m)
        return self.processor(text=[text], images=images, videos=videos, padding=True, do_rescale=do_rescale,
                              return_tensors="pt", video_metadata=video_metadata, **proc_kwargs)

    def get_num_tokens_per_video(self, *, video: Any, video_grid_thw: Any = None, **kwargs: Any) -> int:
        merge = self.config.vision_config.spatial_merge_size
        if video_grid_thw is not None:
            grid = torch.as_tensor(video_grid_thw)
            rows = grid.view(-1, 3)
            return int(sum(int(t) * (int(h) // merge) * (int(w) // merge) for t, h, w in rows.tolist()))
        is_tensor = isinstance(video[0], torch.Tensor) if len(video) else False
        out = self._processor(text=["<|vision_start|><|video_pad|><|vision_end|>"], videos=[video], padding=True,
                              do_rescale=not is_tensor, return_tensors="pt", **kwargs)
        if out.get("video_grid_thw") is None:
            raise RuntimeError("The HF processor returned no video_grid_thw")
        return self.get_num_tokens_per_video(video=video, video_grid_thw=out["video_grid_thw"])

    def build_disagg_prefill_multimodal_inputs(self, inputs: Any, mm_handles: Any):
        raise NotImplementedError("stand-in: disaggregated prefill is not modelled")


class Qwen3VisionModel:  # stand-in: no vision tower
    pass


class Qwen3VisionModelBase:  # stand-in: no vision tower
    pass


class Qwen3VLModelBase:  # stand-in: no weights
    pass


@support_multimodal_disaggregated
@register_vision_encoder(Qwen3VisionModelBase, vlm_base_model=Qwen3VisionModel)
@register_auto_model("Qwen3VLForConditionalGeneration")
@register_input_processor(
    Qwen3VLInputProcessorBase,
    model_type="qwen3_vl",
    placeholder_metadata=MultimodalPlaceholderMetadata(
        placeholder_map=dict(QWEN3_VL_PLACEHOLDER_MAP),
        placeholder_placement=MultimodalPlaceholderPlacement.BEFORE_TEXT,
        placeholders_separator="",
        content_format=ContentFormat.STRING,
    ),
)
class Qwen3VLModel(Qwen3VLModelBase):
    multimodal_data_device_paths = ["image.pixel_values", "video.pixel_values_videos", "multimodal_embedding",
                                    "mrope_config.mrope_position_ids", "mrope_config.mrope_position_deltas"]
