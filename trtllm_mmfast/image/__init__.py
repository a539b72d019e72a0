"""Images for the Qwen-VL models: sources decoded into uint8 (H, W, 3) RGB exactly as
TensorRT-LLM's image loader does it (``decode``), with limits (``limits``) and typed errors.

- ``load_image`` / ``load_image_async``: bytes, path, ``file://``, ``data:`` -> one
  C-contiguous uint8 array (``api``; sources in ``source``).
- ``open_rgb``: the same decode as a ``PIL.Image`` (TensorRT-LLM's ``"pil"`` format);
  ``chw_float``: TensorRT-LLM's ``"pt"`` tensor from the uint8 pixels, one float buffer.
- ``processors._images.image_inputs`` hands the arrays to an HF image processor as
  zero-copy channels-first views.
"""

from __future__ import annotations

from .api import load_image, load_image_async
from .decode import chw_float, decode_image, open_rgb
from .limits import DEFAULT_IMAGE_LIMITS, ImageLimits

__all__ = ["DEFAULT_IMAGE_LIMITS", "ImageLimits", "chw_float", "decode_image", "load_image", "load_image_async", "open_rgb"]
