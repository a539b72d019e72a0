"""Running trtllm-serve with our hooks: the argv we hand it, and the argv its frontends
re-execute.

``trtllm-serve --num_serve_frontends K`` (main) starts K-1 more frontend processes as
``[sys.executable] + sys.argv``. ``trtllm-mmfast serve`` therefore runs trtllm-serve with
``sys.argv`` set to a command that re-enters ``trtllm-mmfast serve`` with the same options
(``reexec_argv``), so every frontend applies the same hooks before it builds anything.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["NATIVE_WORKER_FLAGS", "reexec_argv", "serve_argv", "with_argv"]

# our pool kinds -> trtllm-serve's own worker flags (main layout only)
NATIVE_WORKER_FLAGS = {"media_load": "--num_media_load_workers", "input_processing": "--num_input_processor_workers"}


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
    from ...runtime.executors import resolve_workers

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


def reexec_argv(model: str, args: Sequence[str], options: dict[str, Any]) -> list[str]:
    """``sys.argv`` for trtllm-serve: ``[sys.executable] + reexec_argv(...)`` runs
    ``python -m trtllm_mmfast serve MODEL <our options> <trtllm-serve args>``."""
    argv = ["-m", "trtllm_mmfast", "serve", model]
    for name, value in options.items():
        if value is not None:
            argv += ["--" + name.replace("_", "-"), str(value)]
    return [*argv, *args]


@contextlib.contextmanager
def with_argv(argv: list[str]) -> Iterator[None]:
    """``sys.argv`` replaced for the duration (restored after, also on errors)."""
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved
