"""Size limits checked before any frame buffer is allocated."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MediaTooLargeError

__all__ = ["DEFAULT_LIMITS", "Limits"]


@dataclass(frozen=True)
class Limits:
    """Upper bounds for one video request; ``None`` disables a bound.

    Defaults: 512 MiB of encoded bytes, 8K frames (7680x4320 pixels), 100 000 source
    frames, 4 hours, 4096 decoded output frames.
    """

    max_bytes: int | None = 512 * 1024 * 1024
    max_pixels_per_frame: int | None = 7680 * 4320
    max_source_frames: int | None = 100_000
    max_duration_s: float | None = 4 * 3600.0
    max_output_frames: int | None = 4096

    def check(self, what: str, value: float, limit: float | None, received: str) -> None:
        if limit is not None and value > limit:
            raise MediaTooLargeError(f"{received}: {what} {value:g} exceeds the limit of {limit:g}")

    def check_bytes(self, n: int, received: str) -> None:
        self.check("size in bytes", n, self.max_bytes, received)

    def check_stream(self, *, width: int, height: int, total_num_frames: int, duration: float, received: str) -> None:
        self.check(f"frame size {width}x{height} =", width * height, self.max_pixels_per_frame, received)
        self.check("frame count", total_num_frames, self.max_source_frames, received)
        self.check("duration in seconds", duration, self.max_duration_s, received)

    def check_output(self, n: int, received: str) -> None:
        self.check("number of sampled frames", n, self.max_output_frames, received)


DEFAULT_LIMITS = Limits()
