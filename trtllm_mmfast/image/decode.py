"""Encoded image -> RGB pixels, exactly as TensorRT-LLM's image loader makes them.

TensorRT-LLM (``inputs/media_io.py``, ``_load_and_convert_image`` / ``convert_image_mode``):
``Image.open``, ``load()``, then to RGB: RGB as is, RGBA composited on white
(``paste`` with the alpha mask), every other mode through PIL's ``convert("RGB")`` (LA / P
lose their alpha without a background; 16-bit grey is clipped by PIL). No EXIF orientation
is applied. We run the same PIL calls (the same pixels by construction), then:

- ``decode_image``: one uint8 (H, W, 3) C-contiguous array (one copy out of PIL, no float);
- ``chw_float``: TensorRT-LLM's ``"pt"`` image (``ToTensor``: float32 CHW, ``uint8 / 255``)
  made from that array with ONE float buffer and a uint8 plane at a time (``ToTensor`` makes
  two full uint8 and two float buffers), bit-identical.
"""

from __future__ import annotations

import io
from typing import Any, Literal

import numpy as np

from ..errors import InvalidMediaError, MediaTooLargeError
from .limits import DEFAULT_IMAGE_LIMITS, ImageLimits

__all__ = ["chw_float", "decode_image", "open_rgb"]


def _to_rgb(im: Any) -> Any:
    """TensorRT-LLM's ``convert_image_mode(im, "RGB")``."""
    from PIL import Image

    if im.mode == "RGB":
        return im
    if im.mode == "RGBA":
        out = Image.new("RGB", im.size, (255, 255, 255))
        out.paste(im, mask=im.split()[3])
        return out
    return im.convert("RGB")


def open_rgb(data: bytes, *, limits: ImageLimits = DEFAULT_IMAGE_LIMITS, label: str = "<bytes>") -> Any:
    """The decoded RGB ``PIL.Image`` of ``data`` (what TensorRT-LLM's ``"pil"`` format gives).

    Raises ``InvalidMediaError`` for bytes PIL cannot decode (naming ``label``) and
    ``MediaTooLargeError`` over ``limits`` (checked from the header, before decoding).
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise InvalidMediaError(f"empty input: {label} has 0 bytes")
    limits.check_bytes(len(data), label)
    try:  # (no warnings.catch_warnings: it is not thread-safe; decodes run in a pool)
        im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as e:
        raise MediaTooLargeError(f"{label}: {e}", field="PIL.Image.MAX_IMAGE_PIXELS", limit=2 * (Image.MAX_IMAGE_PIXELS or 0)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InvalidMediaError(f"{label} is not a decodable image ({len(data)} bytes): {e}") from None
    width, height = im.size
    limits.check_pixels(width, height, label)
    try:
        im.load()
        return _to_rgb(im)
    except Image.DecompressionBombError as e:
        raise MediaTooLargeError(f"{label}: {e}", field="PIL.Image.MAX_IMAGE_PIXELS") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise InvalidMediaError(f"{label} ({im.format} {width}x{height}) could not be decoded: {e}") from None


def _white_color_key(rgb: Any) -> Any:
    """What an HF image processor makes of a PIL RGB image that keeps a colour-keyed
    ``info["transparency"]`` (a palette / ``tRNS`` PNG): that colour composited on white."""
    from PIL import Image

    background = Image.new("RGBA", rgb.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgb.convert("RGBA")).convert("RGB")


def decode_image(
    data: bytes,
    *,
    limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
    label: str = "<bytes>",
    transparency: Literal["keep", "white"] = "keep",
) -> np.ndarray:
    """uint8 RGB pixels of ``data``, shape (H, W, 3), C-contiguous, writable.

    ``transparency="keep"``: TensorRT-LLM's pixels (its PIL image's, its ``"pt"`` tensor's).
    ``"white"``: what the HF image processor sees when given TensorRT-LLM's ``"pil"`` image:
    the same, except that an image with a transparent colour key (a palette or ``tRNS``
    PNG, which keeps ``info["transparency"]`` through the RGB conversion) has that colour
    composited on white (transformers' ``convert_to_rgb``). Equal for every other image.
    """
    if transparency not in ("keep", "white"):
        raise ValueError(f"transparency must be 'keep' or 'white', got {transparency!r}")
    rgb = open_rgb(data, limits=limits, label=label)
    try:
        if transparency == "white" and rgb.info.get("transparency") is not None:
            rgb = _white_color_key(rgb)
        return np.array(rgb, dtype=np.uint8)
    finally:
        rgb.close()


def chw_float(pixels: np.ndarray, device: str = "cpu") -> Any:
    """TensorRT-LLM's ``"pt"`` image from uint8 (H, W, 3) ``pixels``: float32 (3, H, W) in
    [0, 1], equal to ``torchvision.transforms.ToTensor()`` of the same image (``uint8 / 255``
    in float32, correctly rounded either way). One float buffer: each channel is pulled out
    (OpenCV, one uint8 plane at a time) and divided into its plane of the output."""
    import cv2
    import torch

    h, w, _ = pixels.shape
    out = np.empty((3, h, w), dtype=np.float32)
    scale = np.float32(255)
    for c in range(3):
        np.divide(cv2.extractChannel(pixels, c), scale, out=out[c], dtype=np.float32)
    t = torch.from_numpy(out)
    return t if str(device) == "cpu" else t.to(device=device)
