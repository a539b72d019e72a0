"""Errors raised by trtllm-mmfast.

Every error is an ``MMFastError`` and also the builtin a caller would catch::

    MMFastError
    ├── InvalidMediaError (ValueError)      input is not a decodable video
    │   └── MediaTooLargeError               a limit (bytes, pixels, frames, duration, budget)
    ├── DecodeError (RuntimeError)          decoding failed or timed out
    ├── BackendUnavailableError (ImportError)  backend not installed / not usable here
    ├── TensorRTLLMNotFoundError (ImportError)  the integration needs TensorRT-LLM
    └── UnsupportedTensorRTLLMError (RuntimeError)  an unknown TensorRT-LLM layout: nothing patched
"""

from __future__ import annotations

__all__ = [
    "BackendUnavailableError",
    "DecodeError",
    "InvalidMediaError",
    "MMFastError",
    "MediaTooLargeError",
    "TensorRTLLMNotFoundError",
    "UnsupportedTensorRTLLMError",
]


class MMFastError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidMediaError(MMFastError, ValueError):
    """The input is not a video we can decode (empty, garbage, not video, bad URL)."""


class MediaTooLargeError(InvalidMediaError):
    """The input exceeds a configured limit."""


class DecodeError(MMFastError, RuntimeError):
    """Decoding failed for a reason other than bad input (or timed out)."""


class BackendUnavailableError(MMFastError, ImportError):
    """A decoder backend was asked for but is not installed or cannot run here."""

    def __init__(self, backend: str, extra: str | None = None, reason: str = "") -> None:
        hint = f"; install it with: pip install 'trtllm-mmfast[{extra}]'" if extra else ""
        why = f" ({reason})" if reason else ""
        super().__init__(f"video backend {backend!r} is not available{why}{hint}")
        self.backend = backend
        self.extra = extra


TRTLLM_INSTALL_HINT = "pip install 'trtllm-mmfast[trtllm]'"


class TensorRTLLMNotFoundError(MMFastError, ImportError):
    """TensorRT-LLM is not installed here (the integration needs it)."""

    def __init__(self) -> None:
        super().__init__(f"TensorRT-LLM is not installed in this environment; install it with: {TRTLLM_INSTALL_HINT}")


class UnsupportedTensorRTLLMError(MMFastError, RuntimeError):
    """The installed TensorRT-LLM has neither known layout; nothing was patched."""
