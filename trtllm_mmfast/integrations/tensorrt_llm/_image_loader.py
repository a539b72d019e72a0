"""The image-loader hook: TensorRT-LLM's image loading replaced by ``trtllm_mmfast.image``,
with outputs bit-identical to stock for every format TensorRT-LLM has.

- main: ``MEDIA_IO_REGISTRY["image"]`` -> a ``FastImageMediaIO`` subclass of its
  ``ImageMediaIO`` (a new ``MappingProxyType`` in ``media_io``, ``chat_utils`` and any
  ``tensorrt_llm`` module holding the current one). ``async_load`` (URL dispatch, its safe
  HTTP client, ``BaseMediaIO._executor``) is inherited; ``load_bytes`` / ``load_base64`` /
  ``load_file`` decode with ours.
- 1.2: ``chat_utils.async_load_image`` replaced (same signature); decoding and the float
  conversion run in the mmfast media-load pool (1.2 runs them on the event loop).

Formats (TensorRT-LLM has ``"pt"`` and ``"pil"``; ``ImageMediaIO`` refuses others itself):
``"pt"`` = ``ToTensor`` (float32 CHW / 255), made from our uint8 array with one float buffer;
``"pil"`` = the same PIL RGB image. A format we do not reproduce (a future TensorRT-LLM's),
a 1.2 PIL input and 1.2 http(s) URLs go to the stock loader, counted in ``stats()``
(``stock_fallback.image_*``); images we decode count as ``images_loaded``. Local files obey
``server_policy()`` (``TRTLLM_MMFAST_ALLOWED_MEDIA_ROOTS``) like videos; limits are
``ImageLimits()`` (64 MiB encoded, 64 MP): over them, ``MediaTooLargeError``.

Nothing imports TensorRT-LLM here: its classes and modules come in through the ``Target``.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from ...errors import InvalidMediaError
from ...image.decode import chw_float, decode_image, open_rgb
from ...image.limits import DEFAULT_IMAGE_LIMITS
from ...image.source import data_url_bytes, file_url_path, path_bytes
from ...video.policy import server_policy
from ._detect import Target
from ._patch import set_attr, swap_media_io
from ._report import Action, Hook
from ._settings import count, fallback

__all__ = ["IMAGE_FORMATS", "decode_as", "image_loader", "make_async_load_image", "make_image_media_io"]

log = logging.getLogger("trtllm_mmfast.integrations.tensorrt_llm")

IMAGE_FORMATS = ("pt", "pil")  # the formats whose stock output we reproduce bit for bit


def decode_as(data: bytes, label: str, format: str, device: str = "cpu") -> Any:
    """TensorRT-LLM's image for ``format``: ``"pt"`` float32 CHW in [0, 1], ``"pil"`` PIL RGB."""
    if format == "pt":
        out = chw_float(decode_image(data, limits=DEFAULT_IMAGE_LIMITS, label=label), device)
    else:
        out = open_rgb(data, limits=DEFAULT_IMAGE_LIMITS, label=label)
    count("images_loaded")
    return out


def _b64(data: str) -> bytes:
    try:
        return base64.b64decode(data)  # non-validating, as TensorRT-LLM's
    except (binascii.Error, ValueError) as e:
        raise InvalidMediaError(f"data URL payload is not valid base64: {e}") from None


def _file(url: str) -> tuple[bytes, str]:
    path = file_url_path(url) if urlparse(url).scheme == "file" else url
    return path_bytes(path, policy=server_policy(), label=url)


def make_image_media_io(base: type) -> type:
    """main's ``ImageMediaIO`` with our decoder behind ``load_bytes`` / ``load_base64`` / ``load_file``."""

    class FastImageMediaIO(base):  # type: ignore[misc, valid-type]
        def __init__(self, format: str = "pt", device: str = "cpu", **kwargs: Any) -> None:
            super().__init__(format=format, device=device, **kwargs)  # stock validation and errors
            self._mmfast = (format, str(device)) if format in IMAGE_FORMATS and not kwargs else None

        def _stock(self) -> bool:
            if self._mmfast is None:
                fallback("image_format", "an image request asks for a format or option trtllm-mmfast does not reproduce")
            return self._mmfast is None

        def load_bytes(self, data: bytes) -> Any:
            if self._stock():
                return super().load_bytes(data)
            return decode_as(bytes(data), f"<{len(data)} bytes>", *self._mmfast)

        def load_base64(self, media_type: str, data: str) -> Any:
            if self._stock():
                return super().load_base64(media_type, data)
            raw = _b64(data)
            return decode_as(raw, f"data:{media_type or '?'} ({len(raw)} bytes)", *self._mmfast)

        def load_file(self, url: str) -> Any:
            if self._stock():
                return super().load_file(url)
            return decode_as(*_file(url), *self._mmfast)

    FastImageMediaIO.__qualname__ = FastImageMediaIO.__name__
    return FastImageMediaIO


def _source_bytes(image: str) -> tuple[bytes, str]:
    """1.2's sources other than http(s): ``data:`` (any media type, base64) or a path / ``file://``."""
    if urlparse(image).scheme == "data":
        return data_url_bytes(image, DEFAULT_IMAGE_LIMITS, any_type=True)
    return _file(image)


def make_async_load_image(stock: Callable[..., Any]) -> Callable[..., Any]:
    """The 1.2 ``chat_utils.async_load_image`` replacement (same signature and defaults)."""

    async def async_load_image(image: Any, format: str = "pt", device: str = "cpu") -> Any:
        """trtllm-mmfast's image loader: decoded off the event loop, stock's pixels."""
        from ...runtime.executors import media_load_pool, run_in

        if not isinstance(image, str) or format not in IMAGE_FORMATS:
            if isinstance(image, str):
                fallback("image_format", f"an image request asks for format {format!r}")
            return await stock(image, format, device)
        if urlparse(image).scheme in ("http", "https"):
            fallback("image_http", "1.2 image URLs over http(s) are fetched and decoded by TensorRT-LLM's stock loader")
            return await stock(image, format, device)
        pool = media_load_pool()
        data, label = await run_in(pool, _source_bytes, image)
        return await run_in(pool, decode_as, data, label, format, str(device))

    async_load_image.__mmfast_hook__ = True  # type: ignore[attr-defined]
    return async_load_image


def _main_apply(t: Target) -> Callable[[], None]:
    return swap_media_io(t.media_io, t.chat_utils, "image", make_image_media_io)


def image_loader(t: Target) -> Action:
    """The image-loader hook point of ``t`` (``not found`` where the installed one has none)."""
    name = "image_loader"
    if t.generation == "1.2":
        stock = getattr(t.chat_utils, "async_load_image", None)
        if not inspect.iscoroutinefunction(stock):
            return Action(Hook(name, "not found", "tensorrt_llm.serve.chat_utils.async_load_image (async def) not found"))
        return Action(
            Hook(name, "applied", "tensorrt_llm.serve.chat_utils.async_load_image -> trtllm-mmfast loader (decoded off the event loop)"),
            lambda: set_attr(t.chat_utils, "async_load_image", make_async_load_image(stock)),
        )
    registry = getattr(t.media_io, "MEDIA_IO_REGISTRY", None)
    base = getattr(t.media_io, "ImageMediaIO", None)
    image_io = registry.get("image") if registry is not None else None
    if not (isinstance(base, type) and isinstance(image_io, type) and issubclass(image_io, base)):
        return Action(Hook(name, "not found", "media_io.ImageMediaIO / MEDIA_IO_REGISTRY['image'] not found"))
    detail = f"MEDIA_IO_REGISTRY['image']: {image_io.__name__} -> FastImageMediaIO (formats {', '.join(IMAGE_FORMATS)})"
    return Action(Hook(name, "applied", detail), lambda: _main_apply(t))
