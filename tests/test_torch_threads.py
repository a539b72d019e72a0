"""Torch intra-op threads are capped where the HF processor runs (no oversubscription).

OpenMP settings leak into threads created later (libgomp), so the pool checks run in a fresh
interpreter each."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

torch = pytest.importorskip("torch")

from trtllm_mmfast.runtime.torch_threads import TORCH_THREADS_ENV, cap_torch_threads, resolve_torch_threads  # noqa: E402

PROBE = (
    "import torch\n"
    "from trtllm_mmfast.runtime import executors\n"
    "print(torch.get_num_threads(), executors.{pool}_pool().submit(torch.get_num_threads).result())\n"
)


def _pool_threads(pool: str = "input_processing", **env) -> tuple[int, int]:
    """(torch threads of the main thread, of a ``pool`` worker) in a fresh process."""
    clean = {k: v for k, v in os.environ.items() if k not in (TORCH_THREADS_ENV, "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", PROBE.format(pool=pool)], env={**clean, **env}, capture_output=True,
                         text=True, check=True)
    main, worker = out.stdout.split()
    return int(main), int(worker)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs torch to default to >= 2 threads")
def test_input_processing_workers_cap_torch_threads():
    main, worker = _pool_threads()
    assert main >= 2 and worker == 1
    assert _pool_threads(**{TORCH_THREADS_ENV: "0"}) == (main, main)  # 0: torch's own default
    assert _pool_threads(**{TORCH_THREADS_ENV: "2"})[1] == min(2, main)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs torch to default to >= 2 threads")
def test_decode_workers_cap_torch_threads_and_the_caller_keeps_its_own():
    """The decode pool's extra contexts resize frames as decoded: capped like the processor
    threads; a caller's thread (it decodes the first run itself) keeps torch's default."""
    main, worker = _pool_threads("decode")
    assert main >= 2 and worker == 1
    probe = ("import torch\n"
             "from trtllm_mmfast import load_video\n"
             "from trtllm_mmfast.processors.tiny import tiny_processor\n"
             "from trtllm_mmfast.synth import ClipSpec, encode_clip\n"
             "n = torch.get_num_threads()\n"
             "v = load_video(encode_clip(ClipSpec(width=256, height=192, num_frames=24, fps=12)), resize_for=tiny_processor())\n"
             "print(n, torch.get_num_threads(), v.metadata.frames_size is not None)\n")
    clean = {k: v for k, v in os.environ.items() if k not in (TORCH_THREADS_ENV, "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", probe], env=clean, capture_output=True, text=True, check=True)
    before, after, resized = out.stdout.split()
    assert before == after and resized == "True"


def test_the_cap_is_configurable_and_validated(monkeypatch):
    monkeypatch.delenv(TORCH_THREADS_ENV, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert resolve_torch_threads() is None  # the user's OpenMP setting is respected
    monkeypatch.setenv(TORCH_THREADS_ENV, "3")
    assert resolve_torch_threads() == 3
    monkeypatch.setenv(TORCH_THREADS_ENV, "lots")
    with pytest.raises(ValueError, match=f"{TORCH_THREADS_ENV} must be an integer >= 0"):
        resolve_torch_threads()


def test_cap_applies_once_per_thread_and_leaves_later_choices(monkeypatch):
    monkeypatch.setenv(TORCH_THREADS_ENV, "1")
    before = torch.get_num_threads()
    seen = []

    def worker():
        cap_torch_threads()
        seen.append(torch.get_num_threads())
        torch.set_num_threads(before)  # a caller's own later choice is not undone
        cap_torch_threads()
        seen.append(torch.get_num_threads())

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == [1, before]
