"""Qwen3-VL fast path: never re-sample, memoized ``_merge_kwargs``, zero-copy frame handoff.

Stock TensorRT-LLM hands the HF processor frames the loader already sampled and lets it
sample again; that is only exact if the loader picked the frames transformers would
pick, which its ``linspace(..., dtype=int)`` loader does not. Here the loader samples
with the ``qwen3_vl`` sampler (``sampler_for(processor)``), and the processor is called
with ``do_sample_frames=False`` plus ``video_metadata`` carrying the source fps and the
``frames_indices``, so the output (``input_ids`` with their ``<t seconds>`` timestamps,
``pixel_values_videos``, ``video_grid_thw``) is bit-identical to the stock processor
sampling the full video itself, at a fraction of the cost:

- frames go in as ``torch.from_numpy(frames).permute(0, 3, 1, 2)``: a channels-last
  uint8 view, no copy (transformers would copy numpy THWC into a contiguous CHW tensor);
- ``ProcessorMixin._merge_kwargs`` (a deepcopy of every kwarg plus validation) is
  memoized per processor instance.

The machinery is shared with the other families (``_handoff``); this module names the
Qwen3-VL wrapper, its sampler and its ``FAMILY``.
"""

from __future__ import annotations

from ..video.sampling import Qwen3VLSampler
from ._handoff import FastProcessor, MergeKwargsMemo

__all__ = ["FAMILY", "FastQwen3VLProcessor", "MergeKwargsMemo", "sampler_for", "wrap"]


class FastQwen3VLProcessor(FastProcessor, family="qwen3_vl", sampler=Qwen3VLSampler):
    """Callable like the HF Qwen3-VL processor, taking videos as ``VideoFrames`` (one or a list).

    ``hf`` is the wrapped HF processor; ``memo`` its ``_merge_kwargs`` memo; ``cache`` the
    processed-video cache or None; ``sampler`` the ``qwen3_vl`` sampler with its settings.
    """


FAMILY = FastQwen3VLProcessor.FAMILY
wrap = FastQwen3VLProcessor.wrap  # wrap(hf_processor, *, memo=True, memo_size=256, cache=None, fused=None) -> FastQwen3VLProcessor
sampler_for = FastQwen3VLProcessor.sampler_for  # sampler_for(processor) -> Qwen3VLSampler with the processor's settings
