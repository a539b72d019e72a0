"""Which TensorRT-LLM API generation is installed, found by looking for the hook points
themselves (the version string is only reported).

- ``"1.2"``: ``serve.chat_utils.async_load_video`` (an ``async def``) and
  ``inputs.utils.VideoData``; no ``inputs.media_io``.
- ``"main"``: ``inputs.media_io`` with ``BaseMediaIO.set_executor``, ``VideoMediaIO`` and
  the read-only ``MEDIA_IO_REGISTRY``; ``chat_utils._make_media_io``; ``VideoData`` in
  ``inputs.multimodal_data``. Within main, ``VideoMediaIO(hash_source=...)`` marks the 2026
  window in which ``OpenAIServer`` asks for source hashing on every request.
"""

from __future__ import annotations

import importlib
import inspect
import types
from collections.abc import Mapping
from dataclasses import dataclass

from ...errors import TensorRTLLMNotFoundError, UnsupportedTensorRTLLMError
from ._report import Generation

__all__ = ["Target", "detect", "import_optional", "import_or_none"]


def import_or_none(name: str) -> types.ModuleType | None:
    """The module, or None if it (or a parent package) does not exist."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and (name == e.name or name.startswith(e.name + ".")):
            return None
        raise


def import_optional(name: str) -> tuple[types.ModuleType | None, str]:
    """(module or None, why not) for optional hook points: any import failure is reported."""
    try:
        mod = import_or_none(name)
    except Exception as e:  # a broken optional module must not stop the other hooks
        return None, f"import {name} failed: {type(e).__name__}: {e}"
    return mod, "" if mod is not None else f"{name} not found"


@dataclass(frozen=True)
class Target:
    """The installed TensorRT-LLM, as far as the hooks need it."""

    generation: Generation
    version: str | None
    chat_utils: types.ModuleType
    video_data: type
    media_io: types.ModuleType | None = None

    @property
    def has_source_hash(self) -> bool:
        """Does its ``VideoData`` carry ``raw_bytes_hash`` (hashed instead of every frame)?"""
        fields = getattr(self.video_data, "__dataclass_fields__", {})
        return "raw_bytes_hash" in fields

    @property
    def array_frames(self) -> bool:
        """Is TensorRT-LLM's "np" video format one (N,H,W,3) array (newest main), not a list?
        Its ``VideoData`` accepts an array only in that generation (older ones test
        ``not frames``, which an array of several frames cannot answer)."""
        if self.generation != "main":
            return False
        import numpy as np

        try:
            self.video_data(frames=np.zeros((2, 1, 1, 3), np.uint8), metadata={})
        except (ValueError, TypeError):
            return False
        return True


def _check(checks: dict[str, bool]) -> str:
    return ", ".join(f"{k} [{'found' if ok else 'MISSING'}]" for k, ok in checks.items())


def _main_checks(chat_utils, media_io, multimodal_data) -> tuple[dict[str, bool], type | None]:
    base = getattr(media_io, "BaseMediaIO", None)
    registry = getattr(media_io, "MEDIA_IO_REGISTRY", None)
    video_io = getattr(media_io, "VideoMediaIO", None)
    video_data = getattr(multimodal_data, "VideoData", None) or getattr(media_io, "VideoData", None)
    checks = {
        "tensorrt_llm.inputs.media_io": media_io is not None,
        "media_io.BaseMediaIO.set_executor": callable(getattr(base, "set_executor", None)),
        "media_io.VideoMediaIO": isinstance(video_io, type),
        "media_io.MEDIA_IO_REGISTRY['video']": isinstance(registry, Mapping)
        and isinstance(registry.get("video"), type)
        and isinstance(video_io, type)
        and issubclass(registry["video"], video_io),
        "chat_utils._make_media_io": callable(getattr(chat_utils, "_make_media_io", None)),
        "chat_utils.MEDIA_IO_REGISTRY": isinstance(getattr(chat_utils, "MEDIA_IO_REGISTRY", None), Mapping),
        "VideoData (inputs.multimodal_data)": isinstance(video_data, type),
    }
    return checks, video_data


def detect() -> Target:
    """The installed generation; raises ``TensorRTLLMNotFoundError`` / ``UnsupportedTensorRTLLMError``."""
    trt = import_or_none("tensorrt_llm")
    if trt is None:
        raise TensorRTLLMNotFoundError()
    version = getattr(trt, "__version__", None)
    chat_utils = import_or_none("tensorrt_llm.serve.chat_utils")
    media_io = import_or_none("tensorrt_llm.inputs.media_io")
    main_checks, main_video_data = _main_checks(
        chat_utils, media_io, import_or_none("tensorrt_llm.inputs.multimodal_data")
    )
    if all(main_checks.values()):
        return Target("main", version, chat_utils, main_video_data, media_io)  # type: ignore[arg-type]

    v12_video_data = getattr(import_or_none("tensorrt_llm.inputs.utils"), "VideoData", None)
    v12_checks = {
        "tensorrt_llm.serve.chat_utils": chat_utils is not None,
        "chat_utils.async_load_video (async def)": inspect.iscoroutinefunction(getattr(chat_utils, "async_load_video", None)),
        "inputs.utils.VideoData": isinstance(v12_video_data, type),
        "no tensorrt_llm.inputs.media_io": media_io is None,
    }
    if all(v12_checks.values()):
        return Target("1.2", version, chat_utils, v12_video_data)  # type: ignore[arg-type]

    raise UnsupportedTensorRTLLMError(
        f"unrecognised TensorRT-LLM API (tensorrt_llm {version} at {getattr(trt, '__file__', '?')}); nothing was patched. "
        f"Looked for the 'main' layout: {_check(main_checks)}; and for the '1.2' layout: {_check(v12_checks)}."
    )
