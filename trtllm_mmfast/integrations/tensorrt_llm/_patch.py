"""The two ways the hooks change TensorRT-LLM, each returning its undo: ``set_attr`` (one module
attribute) and ``swap_media_io`` (one entry of the read-only ``MEDIA_IO_REGISTRY``, in every
module that holds it). An undo leaves alone what someone else replaced after us."""

from __future__ import annotations

import logging
import sys
import types
from collections.abc import Callable
from typing import Any

__all__ = ["set_attr", "swap_media_io"]

log = logging.getLogger("trtllm_mmfast.integrations.tensorrt_llm")

_MISSING: Any = object()


def set_attr(obj: Any, name: str, new: Any, *, quiet: bool = False) -> Callable[[], None]:
    """``setattr`` that returns its undo; the undo leaves a value someone set after us alone."""
    old = vars(obj).get(name, _MISSING)
    setattr(obj, name, new)

    def undo() -> None:
        if vars(obj).get(name, _MISSING) is not new:
            (log.debug if quiet else log.warning)(
                "%s.%s was replaced after trtllm-mmfast hooked it; left as is", getattr(obj, "__name__", obj), name
            )
            return
        if old is _MISSING:
            delattr(obj, name)
        else:
            setattr(obj, name, old)

    return undo


def swap_media_io(media_io: Any, chat_utils: Any, modality: str, make: Callable[[type], type]) -> Callable[[], None]:
    """``MEDIA_IO_REGISTRY[modality]`` -> ``make(current class)``: a new ``MappingProxyType`` in
    ``media_io``, ``chat_utils`` and any ``tensorrt_llm`` module holding the current one. Reads
    the registry now, so hooks applied one after another compose."""
    current = media_io.MEDIA_IO_REGISTRY
    new = types.MappingProxyType({**current, modality: make(current[modality])})
    holders = [media_io, chat_utils] + [
        m
        for n, m in list(sys.modules.items())
        if n.startswith("tensorrt_llm.") and m not in (media_io, chat_utils) and vars(m).get("MEDIA_IO_REGISTRY") is current
    ]
    undos = [set_attr(m, "MEDIA_IO_REGISTRY", new) for m in holders if vars(m).get("MEDIA_IO_REGISTRY") is current]

    def undo() -> None:
        for u in reversed(undos):
            u()

    return undo
