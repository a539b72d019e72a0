"""Torch intra-op threads in the input-processing threads: capped, so that N processor
threads do not each start one OpenMP thread per core and fight the decoders for the cores
(TensorRT-LLM main caps its input-processor pool the same way).

OpenMP keeps the thread count per thread: our input-processing pool applies the cap when each
worker starts, and so does the decode pool (its extra decoder contexts resize frames as they are
decoded: two resizing at once would each start a team of one thread per core); the TensorRT-LLM integration applies it in the thread that runs the fast Qwen3-VL
processor (TensorRT-LLM's own pool), once per thread. (With libgomp, threads that have not used
OpenMP yet start from the last value set, so threads created later default to the cap too;
threads that already ran torch keep theirs. TensorRT-LLM main's own cap behaves the same.)

``TRTLLM_MMFAST_PROCESSOR_TORCH_THREADS``: threads per processor thread (default 1); ``0``
leaves torch's default. When it is unset and ``OMP_NUM_THREADS`` is set, that is respected.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

__all__ = ["TORCH_THREADS_ENV", "cap_torch_threads", "resolve_torch_threads"]

log = logging.getLogger(__name__)

TORCH_THREADS_ENV = "TRTLLM_MMFAST_PROCESSOR_TORCH_THREADS"
DEFAULT_TORCH_THREADS = 1

_done = threading.local()


def resolve_torch_threads() -> int | None:
    """The cap (None: leave torch's default), from the environment."""
    raw = os.environ.get(TORCH_THREADS_ENV, "").strip()
    if not raw:
        return None if os.environ.get("OMP_NUM_THREADS") else DEFAULT_TORCH_THREADS
    try:
        n = int(raw)
    except ValueError:
        n = -1
    if n < 0:
        raise ValueError(f"{TORCH_THREADS_ENV} must be an integer >= 0 (0: torch's default), got {raw!r}")
    return n or None


def cap_torch_threads(*, import_torch: bool = False) -> None:
    """Cap torch's intra-op threads in the calling thread (once per thread). Without
    ``import_torch``, nothing happens until torch has been imported by someone."""
    if getattr(_done, "capped", False):
        return
    torch = sys.modules.get("torch")
    if torch is None and import_torch:
        try:
            import torch  # noqa: F811
        except ImportError:
            torch = None
    if torch is None:
        return
    _done.capped = True
    n = resolve_torch_threads()
    if n is not None and torch.get_num_threads() > n:
        torch.set_num_threads(n)
