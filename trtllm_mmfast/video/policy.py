"""Which local files a source may name: ``SourcePolicy`` and the server default.

Library calls (``load_video(path)``) may read any local file unless a policy says
otherwise. A server must not let a request read arbitrary files, so the TensorRT-LLM
integration uses ``server_policy()``: no local files at all, unless allowed roots are
configured in ``TRTLLM_MMFAST_ALLOWED_MEDIA_ROOTS`` (``os.pathsep``-separated).

Containment is checked on the fully resolved path (``os.path.realpath``: ``..`` and
symlinks followed) against the resolved roots, and the resolved path is what gets opened.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidMediaError

__all__ = ["ALLOWED_ROOTS_ENV", "LIBRARY_POLICY", "SourcePolicy", "server_policy"]

ALLOWED_ROOTS_ENV = "TRTLLM_MMFAST_ALLOWED_MEDIA_ROOTS"


@dataclass(frozen=True)
class SourcePolicy:
    """Where local paths and ``file://`` URLs may point.

    ``allow_local_paths=False``: no local file at all. ``True`` with no ``allowed_roots``:
    any file (the library default). ``True`` with roots: only files whose real path lies
    under the real path of one of the roots.
    """

    allow_local_paths: bool = True
    allowed_roots: tuple[Path, ...] = ()
    hint: str = field(default="", compare=False)  # appended to refusals (how to configure)

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_roots", tuple(Path(r) for r in self.allowed_roots))

    @classmethod
    def under(cls, roots: Iterable[str | os.PathLike[str]], *, hint: str = "") -> "SourcePolicy":
        """Local files only under ``roots`` (none at all when ``roots`` is empty)."""
        roots = tuple(Path(r) for r in roots)
        return cls(allow_local_paths=bool(roots), allowed_roots=roots, hint=hint)

    def check_path(self, path: str) -> str:
        """The path to open for ``path``: itself (no roots), or its real path if inside a root.

        Raises ``InvalidMediaError`` when the policy refuses it (before any existence check,
        so a refusal says nothing about what exists on this machine).
        """
        hint = f"; {self.hint}" if self.hint else ""
        if not self.allow_local_paths:
            raise InvalidMediaError(f"local file paths are not allowed here (received {path!r}){hint}")
        if not self.allowed_roots:
            return path
        real = os.path.realpath(path)
        for root in self.allowed_roots:
            real_root = os.path.realpath(root)
            try:
                if os.path.commonpath([real, real_root]) == real_root:
                    return real
            except ValueError:  # different drives (Windows)
                continue
        roots = ", ".join(repr(str(r)) for r in self.allowed_roots)
        raise InvalidMediaError(
            f"local file {path!r} (resolved to {real!r}) is outside the allowed media roots ({roots}){hint}"
        )


LIBRARY_POLICY = SourcePolicy()


def server_policy(environ: Mapping[str, str] | None = None) -> SourcePolicy:
    """The policy for sources from network requests: local files only under the roots in
    ``TRTLLM_MMFAST_ALLOWED_MEDIA_ROOTS`` (read at each call), none when it is unset."""
    env = os.environ if environ is None else environ
    roots = [r for r in env.get(ALLOWED_ROOTS_ENV, "").split(os.pathsep) if r.strip()]
    return SourcePolicy.under(
        (os.path.expanduser(r.strip()) for r in roots),
        hint=f"set {ALLOWED_ROOTS_ENV} ({os.pathsep!r}-separated directories) to allow local media",
    )
