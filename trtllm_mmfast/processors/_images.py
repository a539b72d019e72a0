"""Images handed to an HF image processor without copies: ``image_inputs``.

A uint8 (H, W, 3) array (what ``trtllm_mmfast.image.load_image`` returns) becomes a
zero-copy channels-first ``torch`` view, ``torch.from_numpy(a).permute(2, 0, 1)``: the
HF torchvision image processors read a (3, H, W) tensor as channels-first whatever H and W
are, and make it contiguous once, so ``pixel_values`` / ``image_grid_thw`` equal those of
the stock call on the same image as a ``PIL.Image`` (TensorRT-LLM's ``"pil"`` format; for a
colour-keyed transparent PNG, load it with ``load_image(..., transparency="white")``, which
applies the white composite transformers applies to such a PIL image).
Anything else (PIL images, float tensors such as TensorRT-LLM's ``"pt"`` images, arrays of
another dtype or shape) is passed through unchanged: a float image must stay float, since
the processor resizes float and uint8 images with different rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["image_inputs", "is_uint8_hwc"]


def is_uint8_hwc(x: Any) -> bool:
    """Is ``x`` a uint8 (H, W, 3) numpy array (an RGB image we decoded)?"""
    return isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.ndim == 3 and x.shape[2] == 3


def image_inputs(images: Sequence[Any]) -> list[Any]:
    """``images`` for the HF processor: uint8 HWC arrays as (3, H, W) views, the rest as is
    (nested lists, the processor's batched form, keep their nesting)."""
    import torch

    out: list[Any] = []
    for x in images:
        if is_uint8_hwc(x):  # (a read-only array makes torch warn once per process; it is only read)
            x = torch.from_numpy(x).permute(2, 0, 1)
        elif isinstance(x, (list, tuple)):  # batched input: one list of images per prompt
            x = image_inputs(x)
        out.append(x)
    return out
