"""``load_image`` / ``load_image_async``: a source -> uint8 (H, W, 3) RGB, TensorRT-LLM's pixels."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor

import numpy as np

from ..video.fetch import FetchPolicy
from ..video.policy import SourcePolicy
from .decode import decode_image
from .limits import DEFAULT_IMAGE_LIMITS, ImageLimits
from .source import ImageSourceLike, image_bytes, image_bytes_async

__all__ = ["load_image", "load_image_async"]


def load_image(source: ImageSourceLike, *, limits: ImageLimits | None = None, policy: SourcePolicy | None = None) -> np.ndarray:
    """Decode one image (bytes, path, ``file://``, ``data:image/...;base64,``) into uint8
    (H, W, 3) RGB, C-contiguous: the pixels TensorRT-LLM's image loader gives (same PIL
    decode, RGBA on white, other modes via PIL's RGB conversion, no EXIF rotation).

    Raises ``InvalidMediaError`` (bad source, undecodable bytes) or ``MediaTooLargeError``
    (``limits``: encoded bytes, pixel count before decoding).
    """
    limits = limits or DEFAULT_IMAGE_LIMITS
    data, label = image_bytes(source, limits=limits, policy=policy)
    return decode_image(data, limits=limits, label=label)


async def load_image_async(
    source: ImageSourceLike,
    *,
    limits: ImageLimits | None = None,
    policy: SourcePolicy | None = None,
    fetch_policy: FetchPolicy | None = None,
    executor: Executor | None = None,
) -> np.ndarray:
    """``load_image`` for async callers, ``http(s)`` URLs too; file reads and decoding run in
    ``executor`` (default: the loop's), never on the event loop."""
    limits = limits or DEFAULT_IMAGE_LIMITS
    loop = asyncio.get_running_loop()
    if isinstance(source, str) and source[:8].lower().startswith(("http://", "https://")):
        data, label = await image_bytes_async(source, limits=limits, policy=policy, fetch_policy=fetch_policy)
    else:
        data, label = await loop.run_in_executor(executor, lambda: image_bytes(source, limits=limits, policy=policy))
    return await loop.run_in_executor(executor, lambda: decode_image(data, limits=limits, label=label))
