"""Size limits for one image, checked before the pixels are decoded."""

from __future__ import annotations

from dataclasses import dataclass

from ..video.limits import check_limit

__all__ = ["DEFAULT_IMAGE_LIMITS", "ImageLimits"]


@dataclass(frozen=True)
class ImageLimits:
    """Upper bounds for one image; ``None`` disables a bound.

    ``max_bytes`` (64 MiB of encoded input) is checked before a ``data:`` URL is decoded or
    a file read; ``max_pixels`` (width x height, default 8192 x 8192 = 64 MP) from the
    header, before a pixel is decoded: a small file that claims a huge canvas (a
    decompression bomb) is refused without allocating it. A bound exceeded raises
    ``MediaTooLargeError`` with ``field="ImageLimits.<name>"``, ``limit`` and ``value``.
    Pillow's own bomb check (``Image.MAX_IMAGE_PIXELS`` x 2) also ends in ``MediaTooLargeError``.
    """

    max_bytes: int | None = 64 * 1024 * 1024
    max_pixels: int | None = 8192 * 8192

    def check_bytes(self, n: int, received: str) -> None:
        check_limit(self, "size in bytes", n, "max_bytes", received, spec="")

    def check_pixels(self, width: int, height: int, received: str) -> None:
        check_limit(self, f"image size {width}x{height} =", width * height, "max_pixels", received, spec="")


DEFAULT_IMAGE_LIMITS = ImageLimits()
