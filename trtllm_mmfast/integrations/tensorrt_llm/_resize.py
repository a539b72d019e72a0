"""Frames resized as they are decoded in the server (``enable(resize_on_decode=True)``): where,
and for which plan. Only where the model inputs stay stock's: TensorRT-LLM hashes the frames
themselves when its ``VideoData`` has no ``raw_bytes_hash`` (1.2), and a policy-``trtllm``
``"pt"`` path resizes float frames (other rounding than our uint8 resize). Only where it makes
frames smaller (``ShrinkingPlan``); the fast processor then skips its resize (``do_resize=False``),
and a request re-planned by its ``mm_processor_kwargs`` gets its frames decoded again, resized
for its own count."""

from __future__ import annotations

from typing import Any

from ._settings import active_processor, settings

__all__ = ["resize_target", "shrinking_plan"]


def resize_target(format: str, video_data_cls: type, fast: bool) -> Any:
    """The plan to resize a loaded video's frames for as they are decoded, or None (full frames)."""
    if not (fast and settings.resize_on_decode) or "raw_bytes_hash" not in getattr(video_data_cls, "__dataclass_fields__", {}):
        return None
    if settings.video_sampling == "trtllm" and format == "pt":
        return None
    return shrinking_plan(active_processor())


def shrinking_plan(processor: Any) -> Any:
    """The fast input processor's resize as a ``ShrinkingPlan`` (made once per processor)."""
    plan = getattr(processor, "_mmfast_shrinking", None)
    if plan is None and getattr(processor, "_mmfast", None) is not None:
        from ...video.resize import ResizePlan, ShrinkingPlan

        plan = processor._mmfast_shrinking = ShrinkingPlan(ResizePlan.of(processor._mmfast))
    return plan
