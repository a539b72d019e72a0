"""Errors raised by trtllm-mmfast.

Every error is an ``MMFastError`` and also the builtin a caller would catch::

    MMFastError
    ├── InvalidMediaError (ValueError)        input is not a decodable video
    │   ├── MediaTooLargeError                 a limit (bytes, pixels, frames, duration, budget);
    │   │                                      .field / .limit / .value say which and by how much
    │   └── FetchError                         an http(s) URL could not be fetched; .status
    │       └── BlockedAddressError            the URL (or a redirect) points at a refused address
    ├── DecodeError (RuntimeError)            decoding failed
    │   └── DecodeTimeoutError (TimeoutError)  decoding ran past its timeout
    └── BackendUnavailableError (ImportError)  backend not installed / not usable here

A server can map ``MediaTooLargeError`` to HTTP 413, its attributes as the details, and
``DecodeTimeoutError`` to 504.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BackendUnavailableError",
    "BlockedAddressError",
    "DecodeError",
    "DecodeTimeoutError",
    "FetchError",
    "InvalidMediaError",
    "MMFastError",
    "MediaTooLargeError",
]


class MMFastError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidMediaError(MMFastError, ValueError):
    """The input is not a video we can decode (empty, garbage, not video, bad URL)."""


class _KeywordState:
    """Keeps keyword-only attributes through pickling (errors cross process boundaries in
    crash-isolated workers and multiprocessing pools; the default ``cls(*args)`` drops them)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self.args, self.__dict__)  # type: ignore[attr-defined]


class MediaTooLargeError(_KeywordState, InvalidMediaError):
    """The input exceeds a configured limit.

    ``field``: the limit that was exceeded, qualified by where it is set
    (``"Limits.max_bytes"``, ``"Limits.max_output_frames"``, ``"FetchPolicy.max_bytes"``, ...);
    ``limit``: its value; ``value``: what the input measured (for a body cut off while it
    streamed in, the bytes read so far, a lower bound). ``None`` when the raiser did not say.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        limit: float | None = None,
        value: float | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.limit = limit
        self.value = value


class FetchError(_KeywordState, InvalidMediaError):
    """An ``http(s)`` video URL could not be fetched; ``status`` is the HTTP status, if any."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BlockedAddressError(FetchError):
    """The URL (or a redirect) points at an address the fetch policy does not allow."""


class DecodeError(MMFastError, RuntimeError):
    """Decoding failed for a reason other than bad input."""


class DecodeTimeoutError(DecodeError, TimeoutError):
    """Decoding ran past its timeout (``load_video_async(timeout=)``); the worker finishes in
    the background and its result is discarded. Also a ``TimeoutError``, so callers that
    catch timeouts generically (``asyncio.wait_for`` style) see it as one."""


class BackendUnavailableError(MMFastError, ImportError):
    """A decoder backend was asked for but is not installed or cannot run here."""

    def __init__(self, backend: str, extra: str | None = None, reason: str = "") -> None:
        hint = f"; install it with: pip install 'trtllm-mmfast[{extra}]'" if extra else ""
        why = f" ({reason})" if reason else ""
        super().__init__(f"video backend {backend!r} is not available{why}{hint}")
        self.backend = backend
        self.extra = extra
