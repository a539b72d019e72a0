"""Put one stand-in ``tensorrt_llm`` (see README.md) on ``sys.path`` for a test, and take it off.

Never a real TensorRT-LLM: every ``tensorrt_llm*`` module is purged before and after, and
the imported package must carry the ``STANDIN`` marker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Iterator

HERE = Path(__file__).resolve().parent
GENERATIONS = ("v1_2", "main")


def purge() -> None:
    for name in [n for n in sys.modules if n == "tensorrt_llm" or n.startswith("tensorrt_llm.")]:
        del sys.modules[name]


def _policy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return asyncio.get_event_loop_policy()


@contextlib.contextmanager
def use_standin(generation: str | None) -> Iterator[ModuleType | None]:
    """``generation``: "v1_2", "main", or None for "TensorRT-LLM not installed"."""
    from trtllm_mmfast.integrations import tensorrt_llm as integration

    integration.disable()
    purge()
    policy = _policy()
    path = str(HERE / generation) if generation else None
    if path:
        sys.path.insert(0, path)
    try:
        if generation is None:
            yield None
            return
        import tensorrt_llm

        assert getattr(tensorrt_llm, "STANDIN", None), f"not a stand-in: {tensorrt_llm.__file__}"
        yield tensorrt_llm
    finally:
        integration.disable()
        if path:
            sys.path.remove(path)
        purge()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            asyncio.set_event_loop_policy(policy)


def make_model_dir(path: Path) -> Path:
    """A Qwen3-VL "checkpoint" dir: the tiny offline processor plus a config.json naming the arch."""
    try:
        from trtllm_mmfast.processors.qwen3_vl import tiny_processor
    except ImportError:
        from trtllm_mmfast.processors.tiny import tiny_processor

    tiny_processor(save_dir=path)
    (path / "config.json").write_text(
        json.dumps({"architectures": ["Qwen3VLForConditionalGeneration"], "model_type": "qwen3_vl"})
    )
    return path
