"""The video backends by name: a name -> module table, each module imported on first use.

A backend is one module exposing ``BACKEND`` (see ``backend.Backend``); its name is stated
once, as its key in ``BUILTIN``. Listing names imports nothing; ``get`` / ``available`` /
``resolve`` import the modules, which import nothing heavy at module level, so the registry
can report backends whose native library (cv2, av, CUDA) is missing.

Backends outside the package: ``register(name, "module.path")`` in-process, or the
``TRTLLM_MMFAST_VIDEO_BACKENDS`` environment variable (``name=module[,name=module...]``),
which child processes (a server's workers, the crash-isolated test harness) inherit.
"""

from __future__ import annotations

import importlib
import os
import threading
from typing import TYPE_CHECKING

from ..errors import BackendUnavailableError

if TYPE_CHECKING:  # the contract; a runtime import is not needed (and would be a cycle's seed)
    from .backend import Backend

__all__ = ["BUILTIN", "ENV_VAR", "available", "get", "names", "register", "resolve"]

BUILTIN: dict[str, str] = {
    "nvdec": "trtllm_mmfast.video.nvdec_backend",  # GPU, opt-in: never ``auto``'s pick
    "opencv": "trtllm_mmfast.video.opencv_backend",
    "pyav": "trtllm_mmfast.video.pyav_backend",
}
ENV_VAR = "TRTLLM_MMFAST_VIDEO_BACKENDS"

_REQUIRED = ("extra", "priority", "auto", "modules", "unavailable_reason", "open")  # backend.Backend
_added: dict[str, str] = {}  # register()ed in this process
_loaded: dict[tuple[str, str], Backend] = {}  # (name, module) -> its BACKEND
_lock = threading.Lock()


def _from_env() -> dict[str, str]:
    raw = os.environ.get(ENV_VAR, "").strip()
    out: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in raw.split(","))):
        name, sep, module = (s.strip() for s in item.partition("="))
        if not sep or not name or not module or name == "auto":
            raise ValueError(f"{ENV_VAR}={raw!r}: each entry must be name=module.path (not 'auto'), got {item!r}")
        out[name] = module
    return out


def _table() -> dict[str, str]:
    table = dict(BUILTIN)
    for name, module in {**_added, **_from_env()}.items():
        if table.get(name, module) != module:
            raise ValueError(f"video backend {name!r} is built in ({table[name]}); pick another name for {module}")
        # One name per module: the registry names the module's one BACKEND object.
        other = next((n for n, m in table.items() if m == module and n != name), None)
        if other is not None:
            raise ValueError(f"module {module} is already the video backend {other!r}; use that name instead of {name!r}")
        table[name] = module
    return table


def register(name: str, module: str) -> None:
    """Add backend ``name``, implemented by importable module ``module`` (exposing ``BACKEND``)."""
    if not name or name == "auto" or "," in name or "=" in name:
        raise ValueError(f"invalid video backend name {name!r} (non-empty, not 'auto', no ',' or '=')")
    table = _table()
    if name in table and table[name] != module:
        raise ValueError(f"video backend {name!r} is already registered ({table[name]})")
    _added[name] = module


def names() -> list[str]:
    """Every registered backend name (installed or not), plus ``auto``; imports nothing."""
    return sorted(_table()) + ["auto"]


def _load(name: str, module: str) -> Backend:
    key = (name, module)
    with _lock:
        if key not in _loaded:
            try:
                mod = importlib.import_module(module)
            except ImportError as e:
                raise BackendUnavailableError(name, None, f"cannot import its module {module}: {e}") from e
            backend = getattr(mod, "BACKEND", None)
            lacks = [a for a in _REQUIRED if not hasattr(backend, a)] if backend is not None else ["BACKEND"]
            if lacks:
                raise TypeError(
                    f"video backend {name!r} (module {module}) lacks {', '.join(lacks)}: "
                    "see backend.Backend for what BACKEND must provide"
                )
            backend.name = name
            _loaded[key] = backend
        return _loaded[key]


def get(name: str) -> Backend:
    """The backend called ``name``; unknown names raise ``ValueError`` listing the valid ones."""
    table = _table()
    if name not in table:
        raise ValueError(f"unknown video backend {name!r}; valid: {', '.join(names())}")
    return _load(name, table[name])


def available() -> dict[str, str | None]:
    """name -> None if usable here, else the reason it is not (a module that fails to import included)."""
    out: dict[str, str | None] = {}
    for name in sorted(_table()):
        try:
            out[name] = get(name).unavailable_reason()
        except (BackendUnavailableError, TypeError) as e:  # a broken plug-in: listed, with why
            out[name] = str(e)
    return out


def resolve(name: str) -> Backend:
    """``auto`` -> the highest-priority usable auto backend; a name -> that backend if usable."""
    if name != "auto":
        backend = get(name)
        reason = backend.unavailable_reason()
        if reason is not None:
            raise BackendUnavailableError(name, backend.extra, reason)
        return backend
    candidates = []
    for n in sorted(_table()):
        try:
            candidates.append(get(n))
        except (BackendUnavailableError, TypeError):
            continue  # a plug-in module that fails to import (or lacks BACKEND) is never auto's pick
    for b in sorted((b for b in candidates if b.auto), key=lambda b: -b.priority):
        if b.unavailable_reason() is None:
            return b
    raise BackendUnavailableError("auto", None, "no video backend is usable; is opencv-python-headless installed?")
