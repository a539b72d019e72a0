"""``load_image`` / ``load_image_async``: a source -> uint8 (H, W, 3) RGB, TensorRT-LLM's pixels."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from typing import Literal

import numpy as np

from ..video.policy import SourcePolicy
from .decode import decode_image
from .limits import DEFAULT_IMAGE_LIMITS, ImageLimits
from .source import ImageSourceLike, image_bytes

__all__ = ["load_image", "load_image_async"]


def load_image(
    source: ImageSourceLike,
    *,
    limits: ImageLimits | None = None,
    policy: SourcePolicy | None = None,
    transparency: Literal["keep", "white"] = "keep",
) -> np.ndarray:
    """Decode one image (bytes, path, ``file://``, ``data:image/...;base64,``) into uint8
    (H, W, 3) RGB, C-contiguous: the pixels TensorRT-LLM's image loader gives (same PIL
    decode, RGBA on white, other modes via PIL's RGB conversion, no EXIF rotation).

    ``transparency="white"``: the pixels an HF image processor sees from TensorRT-LLM's
    ``"pil"`` image (a colour-keyed transparent PNG's key colour on white; see
    ``decode_image``): use it for arrays handed to the processor in place of that image.
    Raises ``InvalidMediaError`` (bad source, undecodable bytes) or ``MediaTooLargeError``
    (``limits``: encoded bytes, pixel count before decoding).
    """
    limits = limits or DEFAULT_IMAGE_LIMITS
    data, label = image_bytes(source, limits=limits, policy=policy)
    return decode_image(data, limits=limits, label=label, transparency=transparency)


async def load_image_async(
    source: ImageSourceLike,
    *,
    limits: ImageLimits | None = None,
    policy: SourcePolicy | None = None,
    executor: Executor | None = None,
    transparency: Literal["keep", "white"] = "keep",
) -> np.ndarray:
    """``load_image`` for async callers: the file read, base64 decoding and pixel decoding run
    in ``executor`` (default: the loop's), never on the event loop."""
    return await asyncio.get_running_loop().run_in_executor(
        executor, lambda: load_image(source, limits=limits, policy=policy, transparency=transparency)
    )
