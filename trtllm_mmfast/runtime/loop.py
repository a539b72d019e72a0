"""The event loop: uvloop when installed, plain asyncio otherwise.

``run(coro)`` is the entry point for code we start ourselves (``uvloop.run`` semantics).
``install()`` is for code paths that call ``asyncio.run`` themselves (e.g. a third-party
server entry point): it sets uvloop's event-loop policy, so their loop is a uvloop one.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import warnings
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["install", "is_uvloop", "run"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_fallback_logged = False


def _uvloop() -> Any | None:
    """The uvloop module, or None (logging once, at info level, that we fall back)."""
    global _fallback_logged
    try:
        import uvloop
    except ImportError:
        if not _fallback_logged:
            _fallback_logged = True
            log.info("uvloop is not installed; using the default asyncio event loop")
        return None
    return uvloop


def run(coro: Coroutine[Any, Any, T], *, debug: bool | None = None) -> T:
    """Run ``coro`` to completion on a new uvloop loop (plain asyncio without uvloop)."""
    uvloop = _uvloop()
    if uvloop is None:
        return asyncio.run(coro, debug=debug)
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop, debug=debug) as runner:
            return runner.run(coro)
    return uvloop.run(coro, debug=debug)  # Python 3.10: no asyncio.Runner


def _is_uvloop_policy(policy: object) -> bool:
    # uvloop >= 0.22 builds EventLoopPolicy lazily on attribute access (a new class each
    # time), so isinstance() against uvloop.EventLoopPolicy is unreliable: compare by name.
    cls = type(policy)
    return cls.__module__.split(".")[0] == "uvloop" and cls.__name__ == "EventLoopPolicy"


def install() -> bool:
    """Make loops created by ``asyncio.run`` / ``asyncio.new_event_loop`` uvloop ones.

    Returns True when uvloop's policy is in place (already, or now), False when uvloop is
    not installed or this Python has no event-loop policies (3.16+: use ``run``). Idempotent.

    From Python 3.12 ``uvloop.install()`` warns (DeprecationWarning) in favour of
    ``uvloop.run()``, and from 3.14 asyncio's policy functions warn too. We call neither
    warning entry point blindly: the policy is set directly, with DeprecationWarning
    silenced only around those two calls, because a code path that calls ``asyncio.run``
    itself has no other way to get uvloop. Code we start ourselves uses ``run`` instead.
    """
    uvloop = _uvloop()
    if uvloop is None:
        return False
    if sys.version_info >= (3, 16):
        log.info("event-loop policies were removed in Python 3.16; use trtllm_mmfast.runtime.loop.run()")
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if _is_uvloop_policy(asyncio.get_event_loop_policy()):
            return True
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    log.debug("uvloop event-loop policy installed")
    return True


def is_uvloop(loop: asyncio.AbstractEventLoop | None = None) -> bool:
    """Is ``loop`` (default: the running loop; False when none runs) a uvloop loop?"""
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
    return type(loop).__module__.split(".")[0] == "uvloop"
