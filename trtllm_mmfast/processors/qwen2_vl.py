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

from ..video.sampling import Qwen2VLSampler
from ._handoff import FastProcessor, MergeKwargsMemo

__all__ = ["FAMILY", "FastQwen2VLProcessor", "MergeKwargsMemo", "sampler_for", "wrap"]


class FastQwen2VLProcessor(FastProcessor, family="qwen2_vl", sampler=Qwen2VLSampler):
    """Callable like the HF Qwen2-VL / Qwen2.5-VL processor, taking videos as ``VideoFrames``.

    ``hf`` is the wrapped HF processor; ``memo`` its ``_merge_kwargs`` memo; ``cache`` the
    processed-video cache or None; ``sampler`` the ``qwen2_vl`` sampler with its settings.
    """


FAMILY = FastQwen2VLProcessor.FAMILY
wrap = FastQwen2VLProcessor.wrap  # wrap(hf_processor, *, memo=True, memo_size=256, cache=None, fused=None) -> FastQwen2VLProcessor
sampler_for = FastQwen2VLProcessor.sampler_for  # sampler_for(processor) -> Qwen2VLSampler with the processor's settings
