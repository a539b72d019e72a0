"""STAND-IN helper (test fixture, not TensorRT-LLM code): TensorRT-LLM's image mode rules, shared
by the stand-in generations, which define the same functions in different modules (1.2:
``inputs/utils.py`` @bab0f2e6; main: ``inputs/media_io.py`` @c1d898bb and @0142b193). Written
from the facts in ``docs/facts/trtllm_images.md``: RGBA is pasted on a white background with
its alpha as the mask; any other mode goes through Pillow's ``convert``; no EXIF rotation. Also
``load_base64_image`` (base64 data URLs only, else NotImplementedError) and ``_image_postprocess``
("pt": torchvision's ``ToTensor`` on ``device``; else the PIL image), which both generations define
alike in ``inputs/utils.py``."""

from __future__ import annotations

import base64
from io import BytesIO
from typing import Any, Tuple, Union

from PIL import Image


def rgba_to_rgb(image: Image.Image, background_color: Union[Tuple[int, int, int], list] = (255, 255, 255)) -> Image.Image:
    """RGBA -> RGB on ``background_color`` (white): PIL's ``paste`` with the alpha as mask."""
    if image.mode != "RGBA":
        raise ValueError(f"Expected image mode to be 'RGBA', but got '{image.mode}'")
    converted = Image.new("RGB", image.size, background_color)
    converted.paste(image, mask=image.split()[3])
    return converted


def convert_image_mode(image: Image.Image, to_mode: str) -> Image.Image:
    """Same mode: the image itself; RGBA -> RGB: ``rgba_to_rgb``; else PIL's ``convert``."""
    if image.mode == to_mode:
        return image
    if image.mode == "RGBA" and to_mode == "RGB":
        return rgba_to_rgb(image)
    return image.convert(to_mode)


def _load_and_convert_image(image: Any) -> Image.Image:
    """``Image.open``, ``load()``, then RGB by ``convert_image_mode``."""
    image = Image.open(image)
    image.load()
    return convert_image_mode(image, "RGB")


def load_base64_image(parsed_url: Any) -> Image.Image:
    data_spec, data = parsed_url.path.split(",", 1)
    media_type, data_type = data_spec.split(";", 1)
    if data_type != "base64":
        raise NotImplementedError("Only base64 data URLs are supported for now.")
    return _load_and_convert_image(BytesIO(base64.b64decode(data)))


def _image_postprocess(image: Image.Image, format: str, device: str) -> Any:
    if format == "pt":
        from torchvision.transforms import ToTensor

        return ToTensor()(image).to(device=device)
    return image
