"""Size limits checked before any frame buffer is allocated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import MediaTooLargeError

__all__ = ["DEFAULT_LIMITS", "Limits"]


def check_limit(bounds: Any, what: str, value: float, field: str, received: str, *, spec: str = "g") -> None:
    """``MediaTooLargeError`` (``field="<Class>.<field>"``, ``limit``, ``value``) when ``value``
    exceeds ``bounds.<field>`` (None: no bound); shared by ``Limits`` and ``image.ImageLimits``.
    ``spec``: how the numbers are written in the message."""
    limit = getattr(bounds, field)
    if limit is not None and value > limit:
        owner = type(bounds).__name__
        raise MediaTooLargeError(
            f"{received}: {what} {value:{spec}} exceeds {owner}.{field}={limit:{spec}}",
            field=f"{owner}.{field}",
            limit=limit,
            value=value,
        )


@dataclass(frozen=True)
class Limits:
    """Upper bounds for one video request; ``None`` disables a bound.

    Checked in this order, each before the memory it guards is committed:
    ``max_bytes`` (512 MiB of encoded input; before a data: URL is decoded or a file read),
    then from the container probe, before any pixel is decoded: ``max_pixels_per_frame``
    (8K, 7680x4320), ``max_frames`` (100 000 frames in the source), ``max_duration_s``
    (4 hours), and ``max_output_frames`` (4096 sampled frames, the size of the output array).
    An http(s) fetch has its own streamed cap (``FetchPolicy.max_bytes``, 200 MiB).
    A bound exceeded raises ``MediaTooLargeError`` with ``field="Limits.<name>"``, ``limit``
    and the ``value`` measured.
    """

    max_bytes: int | None = 512 * 1024 * 1024
    max_pixels_per_frame: int | None = 7680 * 4320
    max_frames: int | None = 100_000
    max_duration_s: float | None = 4 * 3600.0
    max_output_frames: int | None = 4096

    def check(self, what: str, value: float, field: str, received: str) -> None:
        check_limit(self, what, value, field, received)

    def check_bytes(self, n: int, received: str) -> None:
        self.check("size in bytes", n, "max_bytes", received)

    def check_stream(self, *, width: int, height: int, total_num_frames: int, duration: float, received: str) -> None:
        self.check(f"frame size {width}x{height} =", width * height, "max_pixels_per_frame", received)
        self.check("frame count", total_num_frames, "max_frames", received)
        self.check("duration in seconds", duration, "max_duration_s", received)

    def check_output(self, n: int, received: str) -> None:
        self.check("number of sampled frames", n, "max_output_frames", received)


DEFAULT_LIMITS = Limits()
