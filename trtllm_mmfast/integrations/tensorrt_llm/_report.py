"""What ``enable()`` / ``plan()`` report: one ``Hook`` per hook point, the ``Action`` that
applies it, and one formatter (used by ``HookReport.__str__`` and by ``trtllm-mmfast info``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["Action", "Generation", "Hook", "HookReport", "HookStatus", "format_report"]

Generation = Literal["1.2", "main"]
HookStatus = Literal["applied", "already native", "not found", "skipped"]


@dataclass(frozen=True)
class Hook:
    """One hook point: ``status`` is applied / already native / not found / skipped (by option)."""

    name: str
    status: HookStatus
    detail: str


@dataclass
class Action:
    """A hook point's report line and how to apply it (``apply`` returns its undo; None:
    nothing to apply here, e.g. not found, already native, or applied by another action)."""

    hook: Hook
    apply: Callable[[], Callable[[], None]] | None = None


@dataclass(frozen=True)
class HookReport:
    """What ``enable()`` did (or, with ``dry_run``, what ``plan()`` says it would do).

    ``settings``: the active options (``video_sampling``, ``video_backend``, ...) and what
    stock TensorRT-LLM would do instead, so a rollout can see both.
    """

    generation: Generation
    version: str | None
    hooks: tuple[Hook, ...]
    dry_run: bool = False
    settings: Mapping[str, str] | None = None

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
            "settings": dict(self.settings or {}),
        }

    def __str__(self) -> str:
        return "\n".join(format_report(self.as_dict()))


def format_report(report: Mapping[str, Any], indent: str = "  ") -> Iterable[str]:
    """Lines for a report dict (``HookReport.as_dict()``; ``info --json`` prints the same dict)."""
    dry = report.get("dry_run", False)
    title = f"TensorRT-LLM {report.get('version') or '?'} ({report['generation']} layout)"
    yield title + (": hooks enable() would apply" if dry else ": hooks")
    for h in report["hooks"]:
        status = "would apply" if dry and h["status"] == "applied" else h["status"]
        yield f"{indent}{h['name']:26s} {status:15s} {h['detail']}"
    for key, value in (report.get("settings") or {}).items():
        yield f"{indent}{key:26s} {value}"
