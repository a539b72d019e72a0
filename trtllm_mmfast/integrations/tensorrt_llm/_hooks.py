"""The hook points, one ``Action`` each: what it would do (a ``Hook`` for the report) and how
to apply it (returning its undo). ``build()`` checks every hook point before anything is
applied, so ``enable()`` applies all of them or none.

- ``video_loader``: 1.2, ``chat_utils.async_load_video`` replaced (same signature, async);
  main, ``MEDIA_IO_REGISTRY["video"]`` -> a ``VideoMediaIO`` subclass (a new
  ``MappingProxyType`` in ``media_io``, ``chat_utils`` and any module holding the old one).
- ``media_load_pool``: 1.2, our loader decodes in the mmfast-media pool (1.2 itself decodes
  on the event loop); main, ``BaseMediaIO.set_executor(mmfast-media pool)``, which
  ``OpenAIServer`` later replaces with its own pool of ``--num_media_load_workers``.
- ``input_processing_pool``: 1.2, not found (the HF processor runs inside the synchronous
  ``LLM.generate_async`` on the loop; the fast processor makes that step cheap instead);
  main, already native (``--num_input_processor_workers``).
- ``qwen3_vl_input_processor`` / ``qwen2_vl_input_processor`` (``_processor_hook``): every
  model class whose registered input processor is a ``Qwen3VLInputProcessorBase``
  (``qwen3_vl``, ``qwen3_vl_moe``) or another ``Qwen2VLInputProcessorBase`` (``qwen2_vl``,
  ``qwen2_5_vl``), also ones the lazy model zoo registers after ``enable()``, gets a fast
  subclass through one wrapper of the registry's table; placeholder metadata and
  registrations stay TensorRT-LLM's own.
- ``event_loop``: 1.2, uvloop's policy for trtllm-serve's ``asyncio.run``; main, native.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import logging
import sys
import types
import warnings
from collections.abc import Callable
from typing import Any

from . import _loader
from ._detect import Target, import_optional
from ._image_loader import image_loader
from ._patch import set_attr, swap_media_io
from ._processor_hook import input_processor_actions
from ._report import Action, Hook

__all__ = ["Action", "build"]

log = logging.getLogger("trtllm_mmfast.integrations.tensorrt_llm")

_MISSING: Any = object()

def _video_loader(t: Target) -> Action:
    if t.generation == "1.2":
        return Action(
            Hook("video_loader", "applied", "tensorrt_llm.serve.chat_utils.async_load_video -> trtllm-mmfast loader"),
            lambda: set_attr(t.chat_utils, "async_load_video", _loader.make_async_load_video(t.video_data)),
        )
    original = t.media_io.MEDIA_IO_REGISTRY  # type: ignore[union-attr]

    def apply() -> Callable[[], None]:
        return swap_media_io(t.media_io, t.chat_utils, "video", lambda cls: _loader.make_video_media_io(cls, t.video_data))

    hashing = "raw_bytes_hash = BLAKE3 of the source" if t.has_source_hash else "no raw_bytes_hash in this VideoData"
    return Action(
        Hook("video_loader", "applied", f"MEDIA_IO_REGISTRY['video']: {original['video'].__name__} -> FastVideoMediaIO ({hashing})"),
        apply,
    )


def _media_pool(t: Target, workers: int) -> Action:
    if t.generation == "1.2":
        return Action(Hook("media_load_pool", "applied", f"video decode runs in the mmfast-media pool ({workers} workers), off the event loop"))
    base = t.media_io.BaseMediaIO  # type: ignore[union-attr]

    def apply() -> Callable[[], None]:
        old = vars(base).get("_executor", _MISSING)
        proxy = _loader.MediaLoadExecutor()
        base.set_executor(proxy)

        def undo() -> None:
            if vars(base).get("_executor") is proxy:
                base._executor = None if old is _MISSING else old
            else:
                log.debug("BaseMediaIO executor was replaced after enable() (OpenAIServer sets its own); left as is")

        return undo

    detail = f"BaseMediaIO.set_executor(mmfast-media pool, {workers} workers); OpenAIServer replaces it with its own pool of --num_media_load_workers"
    return Action(Hook("media_load_pool", "applied", detail), apply)


def _input_pool(t: Target) -> Action:
    name = "input_processing_pool"
    if t.generation == "1.2":
        why = ("1.2 runs the HF processor inside the synchronous LLM.generate_async on the event loop; "
               "cannot be moved without patching the server: the fast Qwen-VL processors make that step cheap")
        return Action(Hook(name, "not found", why))
    server, why = import_optional("tensorrt_llm.serve.openai_server")
    cls = getattr(server, "OpenAIServer", None)
    try:
        native = cls is not None and "input_processor_workers" in inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        native = False
    if native:
        return Action(Hook(name, "already native", "OpenAIServer runs preprocessing in its own pool of --num_input_processor_workers"))
    return Action(Hook(name, "not found", why or "OpenAIServer has no input_processor_workers"))


def _is_uvloop_policy(policy: Any) -> bool:
    cls = type(policy)
    return cls.__module__.split(".")[0] == "uvloop" and cls.__name__ == "EventLoopPolicy"


def _get_policy() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return asyncio.get_event_loop_policy()


def _event_loop(t: Target, install_uvloop: bool) -> Action:
    name = "event_loop"
    serve, _ = import_optional("tensorrt_llm.commands.serve")
    native = isinstance(vars(serve).get("uvloop"), types.ModuleType) if serve is not None else t.generation == "main"
    if native:
        return Action(Hook(name, "already native", "trtllm-serve runs uvloop.run"))
    if not install_uvloop:
        return Action(Hook(name, "skipped", "install_uvloop=False: trtllm-serve's asyncio.run keeps the default loop"))
    if importlib.util.find_spec("uvloop") is None:
        return Action(Hook(name, "not found", "uvloop is not installed"))
    if sys.version_info >= (3, 16):
        return Action(Hook(name, "not found", "Python 3.16 has no event-loop policies"))
    if _is_uvloop_policy(_get_policy()):
        return Action(Hook(name, "already native", "the uvloop event-loop policy is already installed"))

    def apply() -> Callable[[], None]:
        from ...runtime.loop import install

        previous = _get_policy()
        install()

        def undo() -> None:
            if _is_uvloop_policy(_get_policy()):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    asyncio.set_event_loop_policy(previous)

        return undo

    return Action(Hook(name, "applied", "uvloop event-loop policy: trtllm-serve's asyncio.run gets a uvloop loop"), apply)


def build(t: Target, media_workers: int, install_uvloop: bool) -> list[Action]:
    return [_video_loader(t), image_loader(t), _media_pool(t, media_workers), _input_pool(t), *input_processor_actions(t),
            _event_loop(t, install_uvloop)]
