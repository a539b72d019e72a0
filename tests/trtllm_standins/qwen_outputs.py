"""STAND-IN helper (test fixture, not TensorRT-LLM code): what every stand-in generation's Qwen-VL
input processor does alike around its HF processor call. ``hf_media_inputs``: the images, the
videos' frames (None without videos) and the ``do_rescale`` rule (False for tensor input) that
``_preprocess`` passes on. ``media_outputs``: the ``image`` / ``video`` entries of its
``multimodal_data``. Both are built alike
(1.2's ``Qwen2VLInputProcessorBase.__call__`` and Qwen3-VL's, main's ``call_with_text_prompt``;
tensorrt_llm/_torch/models/modeling_qwen2vl.py, newest indexed id 55160869554, and
modeling_qwen3vl.py; docs/facts/trtllm_qwen2vl.md §1, docs/facts/trtllm_models.md §2): present
only when the HF processor gave pixels, the pixel values cast to the model dtype, the grid as is."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import torch


def hf_media_inputs(mm_data: Dict[str, Any]) -> Tuple[Any, Optional[list], bool]:
    images = mm_data.get("image")
    video_datas = mm_data.get("video")
    videos = [vd.frames for vd in video_datas] if video_datas else None
    tensors = bool(images) and isinstance(images[0], torch.Tensor) or bool(videos) and isinstance(videos[0][0], torch.Tensor)
    return images, videos, not tensors


def media_outputs(processed: Any, dtype: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if processed.get("pixel_values") is not None:
        out["image"] = {"pixel_values": processed["pixel_values"].to(dtype), "image_grid_thw": processed.get("image_grid_thw")}
    if processed.get("pixel_values_videos") is not None:
        out["video"] = {"pixel_values_videos": processed["pixel_values_videos"].to(dtype),
                        "video_grid_thw": processed.get("video_grid_thw")}
    return out
