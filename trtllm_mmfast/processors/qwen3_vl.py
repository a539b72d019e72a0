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

from typing import Any

from ..video.sampling import Qwen3VLSampler
from ._families import FAMILIES
from ._handoff import FastProcessor, MergeKwargsMemo, sampler_of, wrap_as

__all__ = ["FAMILY", "FastQwen3VLProcessor", "MergeKwargsMemo", "sampler_for", "wrap"]

FAMILY = FAMILIES["qwen3_vl"]


class FastQwen3VLProcessor(FastProcessor):
    """Callable like the HF Qwen3-VL processor, taking videos as ``VideoFrames`` (one or a list).

    ``hf`` is the wrapped HF processor; ``memo`` its ``_merge_kwargs`` memo; ``cache`` the
    processed-video cache or None; ``sampler`` the ``qwen3_vl`` sampler with its settings.
    """

    FAMILY = FAMILY
    SAMPLER = Qwen3VLSampler


def wrap(hf_processor: Any, *, memo: bool = True, memo_size: int = 256, cache: Any = None) -> FastQwen3VLProcessor:
    """Wrap an HF Qwen3-VL processor (e.g. ``AutoProcessor.from_pretrained(model_dir)``).

    Installs the ``_merge_kwargs`` memo on that processor instance (idempotent);
    ``memo=False`` leaves the processor untouched (benchmarks use it as an ablation).
    ``cache``: a ``VideoCache``: a video seen before (same source digest — ``load_video(...,
    cache=)`` sets it — same frames, same processor settings) skips the HF video processing;
    the text side still runs, so ``input_ids`` follow the new prompt. A wrapper given
    another cache is re-wrapped; a processor of another family raises TypeError.
    """
    return wrap_as(FastQwen3VLProcessor, hf_processor, memo=memo, memo_size=memo_size, cache=cache)


def sampler_for(processor: Any) -> Qwen3VLSampler:
    """The ``qwen3_vl`` sampler using this processor's own fps, min_frames and max_frames."""
    return sampler_of(FastQwen3VLProcessor, processor)
