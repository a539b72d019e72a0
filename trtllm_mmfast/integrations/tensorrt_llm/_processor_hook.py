"""The input-processor hook points, one per processor family (``qwen3_vl_input_processor``,
``qwen2_vl_input_processor``), applied together by one wrapper of TensorRT-LLM's registry.

Every model class whose registered input processor subclasses one of the hooked bases
(``_families.HOOKED``: ``Qwen3VLInputProcessorBase``, ``Qwen2VLInputProcessorBase``) gets a
fast subclass of that processor class (made once per class): the registry's table is
wrapped so that looking a model class up returns it, also for model classes the lazy model
zoo registers after ``enable()``. Registrations and placeholder metadata stay TensorRT-LLM's
own. Each family's hook is reported on its own line, naming the model types it serves.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from ._detect import Target, import_optional
from ._families import HOOKED, HookedBase, base_of
from ._processor import make_fast_input_processor
from ._report import Action, Hook
from ._settings import set_active_processor

__all__ = ["FastProcessorTable", "input_processor_actions"]

log = logging.getLogger("trtllm_mmfast.integrations.tensorrt_llm")


class FastProcessorTable(dict):
    """The registry's model class -> input processor table, answering lookups of a hooked
    base's subclass with its fast subclass (made once per class). Writes land here as in
    the plain dict, so registrations after ``enable()`` are kept."""

    def __init__(self, entries: dict, bases: tuple[tuple[HookedBase, type], ...]) -> None:
        super().__init__(entries)
        self.bases = bases
        self.fast: dict[type, type] = {}

    def _swap(self, cls: Any) -> Any:
        if not isinstance(cls, type) or getattr(cls, "_mmfast_fast", False):
            return cls
        hooked = base_of(cls, self.bases)
        if hooked is None:
            return cls
        if cls not in self.fast:
            fast = make_fast_input_processor(cls, hooked.fast_name)
            fast._mmfast_fast = True
            self.fast[cls] = fast
        return self.fast[cls]

    def __getitem__(self, key: Any) -> Any:
        return self._swap(super().__getitem__(key))

    def get(self, key: Any, default: Any = None) -> Any:
        return self._swap(super().get(key, default))


def _registered_types(hooked: HookedBase, table: dict, bases: tuple[tuple[HookedBase, type], ...]) -> tuple[list[str], list[str]]:
    """(model types of ``hooked.models`` registered with a processor this base serves, those
    whose module is not imported yet). Importing a model module would re-register its
    processor; the lazy zoo imports them when a checkpoint needs them, and the wrapped
    table serves them then."""
    found, lazy = [], []
    for module, cls_name, model_type in hooked.models:
        if module not in sys.modules:
            lazy.append(model_type)
            continue
        model_cls = getattr(sys.modules[module], cls_name, None)
        proc = table.get(model_cls) if model_cls is not None else None
        if isinstance(proc, type) and base_of(proc, bases) is hooked:
            found.append(model_type)
    return found, lazy


def _bases(hooked_all: tuple[HookedBase, ...]) -> tuple[list[tuple[HookedBase, type]], dict[str, str]]:
    """The hooked bases this TensorRT-LLM has ((hooked, class) in HOOKED order), and why the others are missing."""
    found, missing = [], {}
    for hooked in hooked_all:
        modeling, why = import_optional(hooked.module)
        base = getattr(modeling, hooked.base, None) if modeling is not None else None
        if isinstance(base, type):
            found.append((hooked, base))
        else:
            missing[hooked.hook] = why or f"{hooked.module} has no {hooked.base}"
    return found, missing


def _apply(holder: Any, table: dict, bases: tuple[tuple[HookedBase, type], ...]) -> Callable[[], Callable[[], None]]:
    def apply() -> Callable[[], None]:
        wrapped = FastProcessorTable(table, bases)
        holder._input_processors_cls_by_model_type = wrapped

        def undo() -> None:
            set_active_processor(None)
            if holder._input_processors_cls_by_model_type is not wrapped:
                log.warning("the input processor registry was replaced after enable(); left as is")
                return
            holder._input_processors_cls_by_model_type = table
            table.update(dict.items(wrapped))  # keep what was registered meanwhile

        return undo

    return apply


def _detail(hooked: HookedBase, types: tuple[list[str], list[str]], bases: tuple[tuple[HookedBase, type], ...]) -> str:
    found, lazy = types
    before = [h.base for h, _ in bases[: [h for h, _ in bases].index(hooked)]]
    extra = f" that is not a {' / '.join(before)}" if before else ""
    served = ", ".join(found) if found else "no model type registered yet"
    later = f"; {', '.join(lazy)} when the model zoo imports it" if lazy else ""
    return (f"{served}{later} (and any model type registered with a {hooked.base} subclass{extra}) -> "
            f"{hooked.fast_name} (the {hooked.family} fast processor; an HF processor of another family gets its own)")


def input_processor_actions(t: Target) -> list[Action]:
    """One ``Action`` per family in ``HOOKED``; the first one found applies the shared wrapper."""
    registry, why = import_optional("tensorrt_llm.inputs.registry")
    holder = getattr(registry, "INPUT_PROCESSOR_REGISTRY", None)
    table = getattr(holder, "_input_processors_cls_by_model_type", None)
    if registry is None or not isinstance(table, dict):
        why = why or "missing INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type"
        return [Action(Hook(h.hook, "not found", why)) for h in HOOKED]
    found, missing = _bases(HOOKED)
    bases = tuple(found)
    actions = []
    for hooked in HOOKED:
        if hooked.hook in missing:
            actions.append(Action(Hook(hooked.hook, "not found", missing[hooked.hook])))
            continue
        types = _registered_types(hooked, table, bases)
        actions.append(Action(Hook(hooked.hook, "applied", _detail(hooked, types, bases))))
    if bases:  # one registry wrapper serves every family found; the first applied action applies it
        next(a for a in actions if a.hook.status == "applied").apply = _apply(holder, table, bases)
    return actions
