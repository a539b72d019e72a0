"""Qwen2-VL and Qwen2.5-VL fast path: never re-sample, memoized ``_merge_kwargs``, zero-copy handoff.

Both use transformers' ``Qwen2VLVideoProcessor``, whose ``sample_frames`` keeps a multiple
of ``temporal_patch_size`` frames at ``torch.arange(0, total, total / n).int()``; the
``qwen2_vl`` sampler (``sampler_for(processor)``) reproduces it, so frames sampled at load
time and handed over with ``do_sample_frames=False`` are the frames the stock processor
would pick from the whole clip. ``video_metadata`` (source fps, the source's frame count,
``frames_indices``) goes along: ``Qwen2_5_VLProcessor`` derives ``second_per_grid_ts``
from it (``temporal_patch_size / (len(frames_indices) / total_num_frames * fps)``), which
then equals the stock value. Shared machinery (zero-copy view, memo, processed-video
cache, decode-time resize) lives in ``_handoff``.
"""

from __future__ import annotations

from typing import Any

from ..video.sampling import Qwen2VLSampler
from ._families import FAMILIES
from ._handoff import FastProcessor, MergeKwargsMemo, sampler_of, wrap_as

__all__ = ["FAMILY", "FastQwen2VLProcessor", "MergeKwargsMemo", "sampler_for", "wrap"]

FAMILY = FAMILIES["qwen2_vl"]


class FastQwen2VLProcessor(FastProcessor):
    """Callable like the HF Qwen2-VL / Qwen2.5-VL processor, taking videos as ``VideoFrames``.

    ``hf`` is the wrapped HF processor; ``memo`` its ``_merge_kwargs`` memo; ``cache`` the
    processed-video cache or None; ``sampler`` the ``qwen2_vl`` sampler with its settings.
    """

    FAMILY = FAMILY
    SAMPLER = Qwen2VLSampler


def wrap(hf_processor: Any, *, memo: bool = True, memo_size: int = 256, cache: Any = None) -> FastQwen2VLProcessor:
    """Wrap an HF ``Qwen2VLProcessor`` or ``Qwen2_5_VLProcessor`` (idempotent).

    ``memo``: install the ``_merge_kwargs`` memo on that processor instance; ``cache``: a
    ``VideoCache`` for processed videos (see ``qwen3_vl.wrap``). A wrapper given another
    cache is re-wrapped; a processor of another family raises TypeError.
    """
    return wrap_as(FastQwen2VLProcessor, hf_processor, memo=memo, memo_size=memo_size, cache=cache)


def sampler_for(processor: Any) -> Qwen2VLSampler:
    """The ``qwen2_vl`` sampler using this processor's own fps, num_frames, min/max frames
    and temporal_patch_size."""
    return sampler_of(FastQwen2VLProcessor, processor)
