"""runtime.executors: sized, named pools; worker-count resolution; run_in."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from conftest import python_stdout
from trtllm_mmfast.runtime import executors as ex

MEDIA_ENV = "TRTLLM_MMFAST_MEDIA_LOAD_WORKERS"
INPROC_ENV = "TRTLLM_MMFAST_INPUT_PROCESSING_WORKERS"


def _threads(prefix: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


@pytest.fixture(autouse=True)
def _fresh_pools(monkeypatch):
    monkeypatch.delenv(MEDIA_ENV, raising=False)
    monkeypatch.delenv(INPROC_ENV, raising=False)
    ex.shutdown()
    ex._state.sizes = {}
    yield
    ex.shutdown()
    ex._state.sizes = {}
    assert _threads("mmfast-") == []


def _saturate(pool, expected: int, n_tasks: int = 12) -> int:
    """Submit blocking tasks; return how many ran at once (= live worker threads).

    Waits until ``expected`` run (or 5 s), then a little longer for any extra one."""
    release = threading.Event()
    lock = threading.Lock()
    running = [0, 0]  # now, max

    def task() -> None:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1

    futures = [pool.submit(task) for _ in range(n_tasks)]
    end = time.monotonic() + 5
    while running[1] < expected and time.monotonic() < end:
        time.sleep(0.01)
    time.sleep(0.1)
    peak = running[1]
    release.set()
    for f in futures:
        f.result(5)
    return peak


def test_resolution_precedence(monkeypatch):
    assert ex.resolve_workers("media_load") == ex.DEFAULT_WORKERS == 8
    monkeypatch.setenv(MEDIA_ENV, "3")
    assert ex.resolve_workers("media_load") == 3
    assert ex.resolve_workers("media_load", cli=5) == 5
    assert ex.resolve_workers("media_load", explicit=7, cli=5) == 7
    assert ex.resolve_workers("input_processing") == 8  # the other pool's variable is separate
    monkeypatch.setenv(MEDIA_ENV, "  ")
    assert ex.resolve_workers("media_load") == 8  # empty: not given


@pytest.mark.parametrize(
    "kwargs, env, named",
    [
        ({"explicit": 0}, None, "media_load_workers"),
        ({"explicit": -2}, None, "media_load_workers"),
        ({"explicit": 2.5}, None, "media_load_workers"),
        ({"explicit": True}, None, "media_load_workers"),
        ({"cli": 0}, None, "--media-load-workers"),
        ({"cli": -1}, None, "--media-load-workers"),
        ({}, "0", MEDIA_ENV),
        ({}, "-4", MEDIA_ENV),
        ({}, "abc", MEDIA_ENV),
        ({}, "2.5", MEDIA_ENV),
    ],
)
def test_invalid_sizes_name_their_source(monkeypatch, kwargs, env, named):
    if env is not None:
        monkeypatch.setenv(MEDIA_ENV, env)
    received = repr(env) if env is not None else repr(next(iter(kwargs.values())))
    with pytest.raises(ValueError) as e:
        ex.resolve_workers("media_load", **kwargs)
    assert named in str(e.value) and received in str(e.value)


def test_invalid_env_for_input_processing(monkeypatch):
    monkeypatch.setenv(INPROC_ENV, "zero")
    with pytest.raises(ValueError, match=f"{INPROC_ENV}.*'zero'"):
        ex.input_processing_pool()
    with pytest.raises(ValueError, match="--input-processing-workers.*0"):
        ex.resolve_workers("input_processing", cli=0)
    with pytest.raises(ValueError, match="unknown pool kind"):
        ex.resolve_workers("gpu")  # type: ignore[arg-type]


def test_configure_sizes_are_honoured():
    ex.configure(media_load_workers=3, input_processing_workers=2)
    assert _saturate(ex.media_load_pool(), 3) == 3
    assert _saturate(ex.input_processing_pool(), 2) == 2
    assert len(_threads("mmfast-media-")) == 3
    assert len(_threads("mmfast-inproc-")) == 2
    ex.shutdown()
    assert _threads("mmfast-") == []


def test_env_sizes_are_honoured(monkeypatch):
    monkeypatch.setenv(MEDIA_ENV, "2")
    monkeypatch.setenv(INPROC_ENV, "4")
    assert _saturate(ex.media_load_pool(), 2) == 2
    assert _saturate(ex.input_processing_pool(), 4) == 4
    assert sorted(_threads("mmfast-media-")) == ["mmfast-media-0", "mmfast-media-1"]


def test_default_size_is_eight():
    assert _saturate(ex.media_load_pool(), 8, n_tasks=20) == 8


def test_configure_replaces_pools_and_shutdown_joins_them():
    ex.configure(media_load_workers=2)
    old = ex.media_load_pool()
    _saturate(old, 2)
    ex.configure(media_load_workers=1)
    new = ex.media_load_pool()
    assert new is not old
    with pytest.raises(RuntimeError):
        old.submit(int)  # the old pool is shut down
    assert _saturate(new, 1) == 1
    ex.shutdown(wait=True)
    assert _threads("mmfast-") == []
    assert ex.media_load_pool() is not new  # recreated lazily after shutdown


class _Custom(Exception):
    pass


def _boom(x: int) -> int:
    raise _Custom(f"bad {x}")


def test_run_in_returns_and_propagates():
    async def main() -> tuple[int, str]:
        value = await ex.run_in(ex.media_load_pool(), pow, 2, 10)
        name = await ex.run_in("input_processing", lambda: threading.current_thread().name)
        with pytest.raises(_Custom, match="bad 3"):
            await ex.run_in(ex.media_load_pool(), _boom, 3)
        with pytest.raises(KeyError):
            await ex.run_in(None, {}.__getitem__, "missing")
        return value, name

    value, name = asyncio.run(main())
    assert value == 1024 and name.startswith("mmfast-inproc-")


def test_no_pool_at_import():
    code = (
        "import threading, trtllm_mmfast, trtllm_mmfast.runtime as r; "
        "from trtllm_mmfast.runtime import executors as e; "
        "print(threading.active_count(), e._state.pools, 'uvloop' in __import__('sys').modules)"
    )
    out = python_stdout(code)
    assert out.split() == ["1", "{}", "False"]
