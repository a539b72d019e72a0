"""Frames resized as they are decoded in the server (``resize_on_decode``, on by default): where,
and for which plan. Only where everything TensorRT-LLM computes from the frames stays what it
would be with full frames:

- the hash: its ``VideoData`` has ``raw_bytes_hash`` (main; 1.2 hashes the frames themselves);
- the pixels: not policy ``trtllm`` with ``"pt"`` frames (stock resizes floats there: other
  rounding than our uint8 resize);
- the token count behind KV-cache reuse (``find_mm_token_lengths`` ->
  ``get_num_tokens_per_video``): only where TensorRT-LLM forwards the processor's
  ``video_grid_thw`` and the model's counter takes it (``counts_from_grid``). Counters that
  measure the frames (Qwen2-VL's, from frame 0's size; Qwen3-VL's older one, which re-runs the
  HF processor on them) would count resized frames differently, so those keep full frames;
- only where it makes frames smaller (``ShrinkingPlan``).

The fast processor then skips its resize (``do_resize=False``), and a request re-planned by its
``mm_processor_kwargs`` gets its frames decoded again, resized for its own count."""

from __future__ import annotations

import importlib
import inspect
import logging
from typing import Any

from ._settings import active_processor, settings, warn_once

__all__ = ["counts_from_grid", "resize_target", "shrinking_plan"]

log = logging.getLogger("trtllm_mmfast.integrations.tensorrt_llm")

# The counter's parameters through which TensorRT-LLM hands it the processor's grid: newest
# main's ``video_grid_thw=`` row, and the per-item ``processed_item_metadata`` after it.
_GRID_PARAMS = ("video_grid_thw", "processed_item_metadata")
_FORWARD_PARAMS = ("multimodal_data", "processed_multimodal_data")  # of find_mm_token_lengths


def resize_target(format: str, video_data_cls: type, fast: bool) -> Any:
    """The plan to resize a loaded video's frames for as they are decoded, or None (full frames)."""
    if not (fast and settings.resize_on_decode) or "raw_bytes_hash" not in getattr(video_data_cls, "__dataclass_fields__", {}):
        return None
    if settings.video_sampling == "trtllm" and format == "pt":
        return None
    processor = active_processor()
    if not counts_from_grid(processor):
        warn_once("resize_counts", "full_frames_token_counter",
                  f"full-resolution frames for {type(processor).__name__}: this TensorRT-LLM counts its video tokens "
                  "from the frames, so resize_on_decode (which needs it to count from the processor's video_grid_thw) "
                  "is not applied")
        return None
    return shrinking_plan(processor)


def counts_from_grid(processor: Any) -> bool:
    """Whether TensorRT-LLM counts this input processor's video tokens from the processor's
    ``video_grid_thw`` (so frames resized as decoded count as full ones): its
    ``find_mm_token_lengths`` forwards it and the processor's ``get_num_tokens_per_video``
    takes it. True where nothing counts video tokens (no counter: nothing reads the frames)."""
    cached = getattr(processor, "_mmfast_counts_from_grid", None)
    if cached is not None:
        return cached
    try:
        find = importlib.import_module("tensorrt_llm.inputs.multimodal").find_mm_token_lengths
    except (ImportError, AttributeError):
        find = None
    counter = getattr(processor, "get_num_tokens_per_video", None)
    if find is None or counter is None:
        answer = True
    else:
        answer = _takes(find, _FORWARD_PARAMS) and _takes(counter, _GRID_PARAMS)
    try:
        processor._mmfast_counts_from_grid = answer
    except AttributeError:  # a processor without a __dict__: ask again next time
        pass
    return answer


def _takes(fn: Any, names: tuple[str, ...]) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return any(n in params for n in names)


def shrinking_plan(processor: Any) -> Any:
    """The fast input processor's resize as a ``ShrinkingPlan`` (made once per processor)."""
    plan = getattr(processor, "_mmfast_shrinking", None)
    if plan is None and getattr(processor, "_mmfast", None) is not None:
        from ...video.resize import ResizePlan, ShrinkingPlan

        plan = processor._mmfast_shrinking = ShrinkingPlan(ResizePlan.of(processor._mmfast))
    return plan
