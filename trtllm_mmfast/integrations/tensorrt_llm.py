"""Hook trtllm-mmfast into TensorRT-LLM (``trtllm-serve`` and the LLM API), Qwen3-VL first.

The drop-in, before the ``LLM`` (or the server) is built::

    import trtllm_mmfast.integrations.tensorrt_llm as mmfast
    mmfast.enable()
    llm = LLM("Qwen/Qwen3-VL-8B-Instruct")

``enable()`` finds which TensorRT-LLM API generation is installed by looking for the hook
points themselves (the version string is only reported), checks every hook point first,
then applies all hooks or none. ``disable()`` restores what it changed. ``plan()`` returns
the same ``HookReport`` without applying anything. Hooks, per layout ("1.2": 1.2.x; "main":
the ``inputs/media_io.py`` generation, 2026):

- ``video_loader``: 1.2, ``chat_utils.async_load_video`` replaced (same signature, async);
  main, ``MEDIA_IO_REGISTRY["video"]`` -> a ``VideoMediaIO`` subclass (a new
  ``MappingProxyType`` in ``media_io``, ``chat_utils`` and any module holding the old one).
- ``media_load_pool``: 1.2, our loader decodes in the mmfast-media pool (1.2 itself decodes
  on the event loop); main, ``BaseMediaIO.set_executor(mmfast-media pool)``, which
  ``OpenAIServer`` later replaces with its own pool of ``--num_media_load_workers``.
- ``input_processing_pool``: 1.2, not found: the HF processor runs inside the synchronous
  ``LLM.generate_async`` on the loop thread and cannot be moved without patching the server,
  so the fast processor below makes that step cheap instead; main, already native
  (``OpenAIServer`` runs ``generator.preprocess`` in its ``--num_input_processor_workers`` pool).
- ``qwen3_vl_input_processor``: both, a subclass of the registered ``Qwen3VLInputProcessorBase``
  re-registered for ``Qwen3VLModel`` / ``"qwen3_vl"`` with the same placeholder metadata.
- ``event_loop``: 1.2, uvloop's policy, so trtllm-serve's ``asyncio.run`` gets uvloop;
  main, already native (``uvloop.run``).

Sampling (what a request's ``num_frames`` / ``fps`` mean). TensorRT-LLM passes its
``media_io_kwargs["video"]`` (server ``--media_io_kwargs``; per request on main), with
signature defaults ``num_frames=10, fps=30``. Our replacements keep those defaults but can
tell them from values actually given. Once a fast Qwen3-VL input processor exists in this
process (it is built with the ``LLM``, which holds it; we keep only a weak reference),
videos are sampled exactly as its HF processor would sample the full video
(``sampler_for(processor)``):

- neither given: the processor's own default (its ``fps``, 2 for Qwen3-VL);
- only ``fps`` / only ``num_frames``: that, with transformers' clamps and rounding;
- both given: ``fps``, with ``num_frames`` as a cap (TensorRT-LLM's reading of the pair),
  i.e. ``num_frames=min(count at fps, num_frames)``; a value <= 0 means "not given".

Without a fast Qwen3-VL processor (another model), sampling stays TensorRT-LLM's own
(``uniform``, defaults 10 frames / 30 fps), only decoded faster and exactly.

Frames handed to TensorRT-LLM (``VideoData.frames``) are a ``FrameList``: a list, as
TensorRT-LLM expects, whose ``.video`` is our ``VideoFrames`` (one uint8 (N,H,W,3) array +
metadata). The fast input processor consumes ``.video`` directly; the list elements are for
everything else (frame hashing, token counting, other models):

- ``"np"``: uint8 (H,W,3) views, exactly TensorRT-LLM's own ``"np"`` format;
- ``"pil"``: PIL images, as TensorRT-LLM's;
- ``"pt"`` with the fast Qwen3-VL processor active: **uint8** (3,H,W) tensor views (zero
  copy), NOT TensorRT-LLM's float [0,1] CHW: the fast processor rescales them itself, and
  hashing them reads a quarter of the bytes;
- ``"pt"`` otherwise: float32 (3,H,W) in [0,1], TensorRT-LLM's own ``"pt"`` contract.

``metadata`` carries TensorRT-LLM's keys: ``total_num_frames``, ``fps`` (source),
``duration``, ``frames_indices``.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import logging
import sys
import threading
import types
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..errors import MMFastError
from . import _trtllm_replacements as _r
from ._trtllm_replacements import FrameList, VideoRequest

__all__ = [
    "FrameList",
    "Hook",
    "HookReport",
    "TensorRTLLMNotFoundError",
    "UnsupportedTensorRTLLMError",
    "VideoRequest",
    "disable",
    "enable",
    "is_enabled",
    "plan",
    "serve_argv",
    "summary",
]

log = logging.getLogger(__name__)

Generation = Literal["1.2", "main"]
HookStatus = Literal["applied", "already native", "not found", "skipped"]

INSTALL_HINT = "pip install 'trtllm-mmfast[trtllm]'"
QWEN3_VL_MODEL_TYPE = "qwen3_vl"
# our pool kinds -> trtllm-serve's own worker flags (main layout only)
NATIVE_WORKER_FLAGS = {"media_load": "--num_media_load_workers", "input_processing": "--num_input_processor_workers"}


class TensorRTLLMNotFoundError(MMFastError, ImportError):
    """TensorRT-LLM is not installed here."""

    def __init__(self) -> None:
        super().__init__(f"TensorRT-LLM is not installed in this environment; install it with: {INSTALL_HINT}")


class UnsupportedTensorRTLLMError(MMFastError, RuntimeError):
    """The installed TensorRT-LLM has neither known layout; nothing was patched."""


# ---- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hook:
    """One hook point: ``status`` is applied / already native / not found / skipped (by option)."""

    name: str
    status: HookStatus
    detail: str


@dataclass(frozen=True)
class HookReport:
    """What ``enable()`` did (or, with ``dry_run``, what ``plan()`` says it would do)."""

    generation: Generation
    version: str | None
    hooks: tuple[Hook, ...]
    dry_run: bool = False

    def __getitem__(self, name: str) -> Hook:
        for h in self.hooks:
            if h.name == name:
                return h
        raise KeyError(f"no hook {name!r}; hooks: {', '.join(h.name for h in self.hooks)}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "version": self.version,
            "dry_run": self.dry_run,
            "hooks": [asdict(h) for h in self.hooks],
        }

    def __str__(self) -> str:
        title = f"TensorRT-LLM {self.version or '?'} ({self.generation} layout)"
        lines = [title + (": hooks enable() would apply" if self.dry_run else ": hooks")]
        for h in self.hooks:
            status = "would apply" if self.dry_run and h.status == "applied" else h.status
            lines.append(f"  {h.name:26s} {status:15s} {h.detail}")
        return "\n".join(lines)


# ---- detection ------------------------------------------------------------------------------


def _import(name: str) -> types.ModuleType | None:
    """The module, or None if it (or a parent package) does not exist."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and (name == e.name or name.startswith(e.name + ".")):
            return None
        raise


def _import_optional(name: str) -> tuple[types.ModuleType | None, str]:
    """(module or None, why not) for optional hook points: any import failure is reported."""
    try:
        mod = _import(name)
    except Exception as e:  # a broken optional module must not stop the other hooks
        return None, f"import {name} failed: {type(e).__name__}: {e}"
    return mod, "" if mod is not None else f"{name} not found"


@dataclass
class _Target:
    generation: Generation
    version: str | None
    chat_utils: types.ModuleType
    video_data: type
    media_io: types.ModuleType | None = None


def _check(checks: dict[str, bool]) -> str:
    return ", ".join(f"{k} [{'found' if ok else 'MISSING'}]" for k, ok in checks.items())


def _detect() -> _Target:
    trt = _import("tensorrt_llm")
    if trt is None:
        raise TensorRTLLMNotFoundError()
    version = getattr(trt, "__version__", None)
    chat_utils = _import("tensorrt_llm.serve.chat_utils")
    media_io = _import("tensorrt_llm.inputs.media_io")
    inputs_utils = _import("tensorrt_llm.inputs.utils")
    multimodal_data = _import("tensorrt_llm.inputs.multimodal_data")

    base_media_io = getattr(media_io, "BaseMediaIO", None)
    registry = getattr(media_io, "MEDIA_IO_REGISTRY", None)
    video_media_io = getattr(media_io, "VideoMediaIO", None)
    main_video_data = getattr(multimodal_data, "VideoData", None) or getattr(media_io, "VideoData", None)
    main_checks = {
        "tensorrt_llm.inputs.media_io": media_io is not None,
        "media_io.BaseMediaIO.set_executor": callable(getattr(base_media_io, "set_executor", None)),
        "media_io.VideoMediaIO": isinstance(video_media_io, type),
        "media_io.MEDIA_IO_REGISTRY['video']": isinstance(registry, Mapping)
        and isinstance(registry.get("video"), type)
        and isinstance(video_media_io, type)
        and issubclass(registry["video"], video_media_io),
        "chat_utils._make_media_io": callable(getattr(chat_utils, "_make_media_io", None)),
        "chat_utils.MEDIA_IO_REGISTRY": isinstance(getattr(chat_utils, "MEDIA_IO_REGISTRY", None), Mapping),
        "VideoData (inputs.multimodal_data)": isinstance(main_video_data, type),
    }
    if all(main_checks.values()):
        return _Target("main", version, chat_utils, main_video_data, media_io)  # type: ignore[arg-type]

    v12_video_data = getattr(inputs_utils, "VideoData", None)
    v12_checks = {
        "tensorrt_llm.serve.chat_utils": chat_utils is not None,
        "chat_utils.async_load_video (async def)": inspect.iscoroutinefunction(getattr(chat_utils, "async_load_video", None)),
        "inputs.utils.VideoData": isinstance(v12_video_data, type),
        "no tensorrt_llm.inputs.media_io": media_io is None,
    }
    if all(v12_checks.values()):
        return _Target("1.2", version, chat_utils, v12_video_data)  # type: ignore[arg-type]

    raise UnsupportedTensorRTLLMError(
        f"unrecognised TensorRT-LLM API (tensorrt_llm {version} at {getattr(trt, '__file__', '?')}); nothing was patched. "
        f"Looked for the 'main' layout: {_check(main_checks)}; and for the '1.2' layout: {_check(v12_checks)}."
    )


# ---- the plan: one action per hook ----------------------------------------------------------

_MISSING: Any = object()


def _set_attr(obj: Any, name: str, new: Any, *, quiet: bool = False) -> Callable[[], None]:
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


@dataclass
class _Action:
    hook: Hook
    apply: Callable[[], Callable[[], None]] | None = None  # returns its undo


def _video_loader_action(t: _Target) -> _Action:
    if t.generation == "1.2":

        def apply_12() -> Callable[[], None]:
            return _set_attr(t.chat_utils, "async_load_video", _r.make_async_load_video(t.video_data))

        return _Action(
            Hook("video_loader", "applied", "tensorrt_llm.serve.chat_utils.async_load_video -> trtllm-mmfast loader"),
            apply_12,
        )
    media_io = t.media_io
    original = media_io.MEDIA_IO_REGISTRY  # type: ignore[union-attr]

    def apply_main() -> Callable[[], None]:
        fast = _r.make_video_media_io(original["video"], t.video_data)
        new = types.MappingProxyType({**original, "video": fast})
        holders = [media_io, t.chat_utils] + [
            m
            for n, m in list(sys.modules.items())
            if n.startswith("tensorrt_llm.") and m not in (media_io, t.chat_utils)
            and vars(m).get("MEDIA_IO_REGISTRY") is original
        ]
        undos = [_set_attr(m, "MEDIA_IO_REGISTRY", new) for m in holders]

        def undo() -> None:
            for u in reversed(undos):
                u()

        return undo

    return _Action(
        Hook("video_loader", "applied", f"MEDIA_IO_REGISTRY['video']: {original['video'].__name__} -> FastVideoMediaIO"),
        apply_main,
    )


def _media_pool_action(t: _Target, workers: int) -> _Action:
    if t.generation == "1.2":
        return _Action(Hook("media_load_pool", "applied", f"video decode runs in the mmfast-media pool ({workers} workers), off the event loop"))
    base = t.media_io.BaseMediaIO  # type: ignore[union-attr]

    def apply() -> Callable[[], None]:
        old = vars(base).get("_executor", _MISSING)
        proxy = _r.MediaLoadExecutor()
        base.set_executor(proxy)

        def undo() -> None:
            if vars(base).get("_executor") is proxy:
                base._executor = None if old is _MISSING else old
            else:
                log.debug("BaseMediaIO executor was replaced after enable() (OpenAIServer sets its own); left as is")

        return undo

    return _Action(
        Hook(
            "media_load_pool",
            "applied",
            f"BaseMediaIO.set_executor(mmfast-media pool, {workers} workers); "
            "OpenAIServer replaces it with its own pool of --num_media_load_workers",
        ),
        apply,
    )


def _input_pool_action(t: _Target) -> _Action:
    if t.generation == "1.2":
        return _Action(
            Hook(
                "input_processing_pool",
                "not found",
                "1.2 runs the HF processor inside the synchronous LLM.generate_async on the event loop; "
                "cannot be moved without patching the server: the fast Qwen3-VL processor makes that step cheap",
            )
        )
    server, why = _import_optional("tensorrt_llm.serve.openai_server")
    cls = getattr(server, "OpenAIServer", None)
    try:
        native = cls is not None and "input_processor_workers" in inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        native = False
    if native:
        return _Action(
            Hook(
                "input_processing_pool",
                "already native",
                "OpenAIServer runs preprocessing in its own pool of --num_input_processor_workers",
            )
        )
    return _Action(Hook("input_processing_pool", "not found", why or "OpenAIServer has no input_processor_workers"))


def _qwen3_vl_action() -> _Action:
    name = "qwen3_vl_input_processor"
    registry, why = _import_optional("tensorrt_llm.inputs.registry")
    modeling, why2 = _import_optional("tensorrt_llm._torch.models.modeling_qwen3vl")
    if registry is None or modeling is None:
        return _Action(Hook(name, "not found", why or why2))
    register = getattr(registry, "register_input_processor", None)
    table = getattr(getattr(registry, "INPUT_PROCESSOR_REGISTRY", None), "_input_processors_cls_by_model_type", None)
    placeholders = getattr(registry, "MULTIMODAL_PLACEHOLDER_REGISTRY", None)
    base = getattr(modeling, "Qwen3VLInputProcessorBase", None)
    model_cls = getattr(modeling, "Qwen3VLModel", None)
    missing = [
        n
        for n, ok in {
            "registry.register_input_processor": callable(register),
            "INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type": isinstance(table, dict),
            "MULTIMODAL_PLACEHOLDER_REGISTRY": placeholders is not None,
            "modeling_qwen3vl.Qwen3VLInputProcessorBase": isinstance(base, type),
            "modeling_qwen3vl.Qwen3VLModel": isinstance(model_cls, type),
        }.items()
        if not ok
    ]
    if missing:
        return _Action(Hook(name, "not found", "missing " + ", ".join(missing)))
    current = table.get(model_cls)  # type: ignore[union-attr]
    if not (isinstance(current, type) and issubclass(current, base)):  # type: ignore[arg-type]
        return _Action(Hook(name, "not found", f"Qwen3VLModel's input processor is {current!r}, not a Qwen3VLInputProcessorBase"))
    try:
        get = getattr(placeholders, "get_placeholder_metadata", None)
        meta = get(QWEN3_VL_MODEL_TYPE) if get else placeholders._multimodal_placeholder_by_model_type[QWEN3_VL_MODEL_TYPE]  # type: ignore[union-attr]
    except (KeyError, ValueError, AttributeError):
        return _Action(Hook(name, "not found", f"no placeholder metadata registered for {QWEN3_VL_MODEL_TYPE!r}"))

    def apply() -> Callable[[], None]:
        fast = _r.make_fast_input_processor(current)
        old_type = vars(current).get("_registered_model_type", _MISSING)
        register(fast, model_type=QWEN3_VL_MODEL_TYPE, placeholder_metadata=meta)(model_cls)  # type: ignore[misc]

        def undo() -> None:
            _r.clear_consumer()
            if table.get(model_cls) is not fast:  # type: ignore[union-attr]
                log.warning("the qwen3_vl input processor was re-registered after enable(); left as is")
                return
            register(current, model_type=QWEN3_VL_MODEL_TYPE, placeholder_metadata=meta)(model_cls)  # type: ignore[misc]
            if old_type is not _MISSING:
                current._registered_model_type = old_type
            elif "_registered_model_type" in vars(current):
                delattr(current, "_registered_model_type")

        return undo

    return _Action(
        Hook(name, "applied", f"Qwen3VLModel -> FastQwen3VLInputProcessor({current.__name__}) via register_input_processor"),
        apply,
    )


def _is_uvloop_policy(policy: Any) -> bool:
    cls = type(policy)
    return cls.__module__.split(".")[0] == "uvloop" and cls.__name__ == "EventLoopPolicy"


def _get_policy() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return asyncio.get_event_loop_policy()


def _event_loop_action(t: _Target, install_uvloop: bool) -> _Action:
    name = "event_loop"
    serve, _ = _import_optional("tensorrt_llm.commands.serve")
    if serve is not None:
        native = isinstance(vars(serve).get("uvloop"), types.ModuleType)
    else:  # could not import it: go by the generation (TRTLLM_HOOKS: main uses uvloop.run)
        native = t.generation == "main"
    if native:
        return _Action(Hook(name, "already native", "trtllm-serve runs uvloop.run"))
    if not install_uvloop:
        return _Action(Hook(name, "skipped", "install_uvloop=False: trtllm-serve's asyncio.run keeps the default loop"))
    if importlib.util.find_spec("uvloop") is None:
        return _Action(Hook(name, "not found", "uvloop is not installed"))
    if sys.version_info >= (3, 16):
        return _Action(Hook(name, "not found", "Python 3.16 has no event-loop policies"))
    if _is_uvloop_policy(_get_policy()):
        return _Action(Hook(name, "already native", "the uvloop event-loop policy is already installed"))

    def apply() -> Callable[[], None]:
        from ..runtime.loop import install

        previous = _get_policy()
        install()

        def undo() -> None:
            if _is_uvloop_policy(_get_policy()):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    asyncio.set_event_loop_policy(previous)

        return undo

    return _Action(Hook(name, "applied", "uvloop event-loop policy: trtllm-serve's asyncio.run gets a uvloop loop"), apply)


def _validate(media_load_workers: int | None, input_processing_workers: int | None, video_backend: str) -> tuple[int, int]:
    from ..runtime.executors import resolve_workers
    from ..video.backend import resolve

    workers = (resolve_workers("media_load", media_load_workers), resolve_workers("input_processing", input_processing_workers))
    resolve(video_backend)  # ValueError (unknown) / BackendUnavailableError (not usable here)
    return workers


def _build(t: _Target, media_workers: int, install_uvloop: bool) -> list[_Action]:
    return [
        _video_loader_action(t),
        _media_pool_action(t, media_workers),
        _input_pool_action(t),
        _qwen3_vl_action(),
        _event_loop_action(t, install_uvloop),
    ]


# ---- public API -----------------------------------------------------------------------------


@dataclass
class _Enabled:
    report: HookReport
    undo: list[Callable[[], None]] = field(default_factory=list)
    trtllm: Any = None  # the tensorrt_llm module object we patched


_lock = threading.RLock()
_state: _Enabled | None = None


def plan(
    *,
    media_load_workers: int | None = None,
    input_processing_workers: int | None = None,
    video_backend: str = "auto",
    install_uvloop: bool = True,
) -> HookReport:
    """The report ``enable(...)`` would return, without changing anything (the live report if enabled)."""
    with _lock:
        if _state is not None and _state.trtllm is sys.modules.get("tensorrt_llm"):
            return _state.report
        media_workers, _ = _validate(media_load_workers, input_processing_workers, video_backend)
        t = _detect()
        actions = _build(t, media_workers, install_uvloop)
        return HookReport(t.generation, t.version, tuple(a.hook for a in actions), dry_run=True)


def enable(
    *,
    media_load_workers: int | None = None,
    input_processing_workers: int | None = None,
    video_backend: str = "auto",
    install_uvloop: bool = True,
) -> HookReport:
    """Route TensorRT-LLM's video path through trtllm-mmfast; call before ``LLM(...)``.

    ``media_load_workers`` / ``input_processing_workers``: our pool sizes (explicit > env
    ``TRTLLM_MMFAST_*_WORKERS`` > 8). ``video_backend``: ``load_video``'s backend.
    ``install_uvloop``: set uvloop's policy where TensorRT-LLM runs plain ``asyncio.run``.
    Idempotent (a second call only resizes pools / changes the backend). Raises
    ``TensorRTLLMNotFoundError`` or ``UnsupportedTensorRTLLMError`` with nothing patched.
    """
    global _state
    with _lock:
        media_workers, _ = _validate(media_load_workers, input_processing_workers, video_backend)
        if _state is not None and _state.trtllm is not sys.modules.get("tensorrt_llm"):
            disable()  # a different tensorrt_llm was imported since (tests): start over
        if _state is not None:  # already enabled: only our settings change
            _configure(media_load_workers, input_processing_workers)
            _r.settings.video_backend = video_backend
            return _state.report
        t = _detect()
        actions = _build(t, media_workers, install_uvloop)  # every check done: nothing applied yet
        _configure(media_load_workers, input_processing_workers)
        _r.settings.video_backend = video_backend
        undo: list[Callable[[], None]] = []
        try:
            for action in actions:
                if action.apply is not None:
                    undo.append(action.apply())
        except BaseException:
            for u in reversed(undo):
                u()
            raise
        report = HookReport(t.generation, t.version, tuple(a.hook for a in actions))
        _state = _Enabled(report, undo, sys.modules["tensorrt_llm"])
        log.info("trtllm-mmfast enabled:\n%s", report)
        return report


def _configure(media_load_workers: int | None, input_processing_workers: int | None) -> None:
    if media_load_workers is None and input_processing_workers is None:
        return
    from ..runtime.executors import configure

    configure(media_load_workers=media_load_workers, input_processing_workers=input_processing_workers)


def disable() -> bool:
    """Undo ``enable()`` (hooks restored in reverse order); returns whether anything was enabled."""
    global _state
    with _lock:
        if _state is None:
            return False
        state, _state = _state, None
        for u in reversed(state.undo):
            try:
                u()
            except Exception:  # keep restoring the rest
                log.exception("trtllm-mmfast: restoring a TensorRT-LLM hook failed")
        _r.settings.video_backend = "auto"
        return True


def is_enabled() -> bool:
    return _state is not None


def summary() -> dict[str, Any]:
    """For ``trtllm-mmfast info``: is TensorRT-LLM installed, which layout, which hooks would apply."""
    if importlib.util.find_spec("tensorrt_llm") is None:
        return {"installed": False, "hint": INSTALL_HINT}
    try:
        report = plan()
    except Exception as e:  # info must still print: report why
        return {"installed": True, "error": f"{type(e).__name__}: {e}"}
    return {"installed": True, **report.as_dict()}


def serve_argv(
    serve_command: Any,
    model: str,
    args: Sequence[str],
    *,
    media_load_workers: int | None,
    input_processing_workers: int | None,
) -> list[str]:
    """The argv for ``trtllm-serve``: ours forwarded verbatim, plus our worker counts on the
    native ``--num_media_load_workers`` / ``--num_input_processor_workers`` when the
    ``serve_command`` (TensorRT-LLM's click ``serve``) has them and the user did not give them.

    Counts resolve as ``resolve_workers`` does (flag > env > 8). ``model`` may also name a
    trtllm-serve subcommand (e.g. ``disaggregated``): then nothing is added.
    """
    from ..runtime.executors import resolve_workers

    argv = [model, *args]
    if serve_command is None:
        return argv
    native = {o for p in getattr(serve_command, "params", []) for o in getattr(p, "opts", [])}
    ours = {"media_load": media_load_workers, "input_processing": input_processing_workers}
    for kind, flag in NATIVE_WORKER_FLAGS.items():
        if flag not in native:
            continue
        given = any(a == flag or a.startswith(flag + "=") for a in args)
        if given and ours[kind] is not None:
            ours_flag = "--" + kind.replace("_", "-") + "-workers"
            raise ValueError(f"give either {ours_flag} or {flag}, not both")
        if not given:
            argv += [flag, str(resolve_workers(kind, cli=ours[kind]))]  # type: ignore[arg-type]
    return argv
