"""trtllm_mmfast.cache: content-addressed keys, byte sizes, the byte-budgeted single-flight LRU,
and the budget's parsing and resolution (explicit > env > default)."""

from __future__ import annotations

import dataclasses
import enum
import gc
import pickle
import random
import re
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import blake3
import numpy as np
import pytest

import trtllm_mmfast
import trtllm_mmfast._version
from trtllm_mmfast import cache as C
from trtllm_mmfast.cache import VideoCache, make_key, nbytes_of, parse_bytes

DIGEST = blake3.blake3(b"video one").hexdigest()
OTHER = blake3.blake3(b"video two").hexdigest()
BASE = dict(policy="hf", fps=2.0, num_frames=None, indices=[0, 15, 30], processor="qwen3vl:abc123")


def key(i: int, kind: str = "frames") -> C.CacheKey:
    return make_key(DIGEST, kind, index=i)


def run_threads(n: int, target, *args) -> list[threading.Thread]:
    threads = [threading.Thread(target=target, args=(i, *args), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    return threads


def join_all(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive(), "a thread is stuck (deadlock?)"


def wait_until(predicate, what: str) -> None:
    """Poll a condition no Event can observe (a waiter having joined); bounded, never timed."""
    deadline = time.monotonic() + 30
    while not predicate():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.001)


# --------------------------------------------------------------------------- keys


def test_same_params_in_any_order_give_equal_keys():
    a = make_key(DIGEST, "frames", **BASE)
    b = make_key(DIGEST, "frames", **dict(reversed(list(BASE.items()))))
    assert a == b and hash(a) == hash(b)
    assert {a: 1}[b] == 1


@pytest.mark.parametrize(
    "change",
    [
        {"policy": "trtllm"},
        {"fps": 2.5},
        {"fps": 0.1 + 0.2},  # 0.30000000000000004: floats compared exactly
        {"num_frames": 16},
        {"indices": [0, 15, 31]},
        {"indices": [0, 15]},
        {"processor": "qwen3vl:abc124"},
        {"extra": True},
    ],
)
def test_any_param_change_gives_another_key(change):
    assert make_key(DIGEST, "frames", **BASE) != make_key(DIGEST, "frames", **{**BASE, **change})


def test_other_digest_or_kind_gives_another_key():
    k = make_key(DIGEST, "frames", **BASE)
    assert make_key(OTHER, "frames", **BASE) != k
    assert make_key(DIGEST, "processed", **BASE) != k


def test_values_that_compare_equal_in_python_stay_distinct():
    keys = {make_key(DIGEST, "frames", x=v) for v in (1, 1.0, True, "1", "1.0", None, 0.0, -0.0)}
    assert len(keys) == 8


def test_sequences_arrays_and_numpy_scalars_mean_their_values():
    as_list = make_key(DIGEST, "frames", idx=[0, 5, 10], fps=0.5, nested={"b": 1, "a": (1, 2)})
    assert make_key(DIGEST, "frames", idx=(0, 5, 10), fps=np.float64(0.5), nested={"a": [1, 2], "b": 1}) == as_list
    assert make_key(DIGEST, "frames", idx=np.array([0, 5, 10], np.int64), fps=0.5, nested={"a": [1, 2], "b": 1}) == as_list
    # float32(0.1) is not 0.1: exact values, no rounding
    assert make_key(DIGEST, "frames", x=np.float32(0.1)) != make_key(DIGEST, "frames", x=0.1)


class Mode(enum.Enum):
    FAST = "fast"
    EXACT = "exact"


@dataclasses.dataclass(frozen=True)
class Cfg:
    fps: float
    mode: Mode


def test_enums_and_dataclasses_are_keyed_by_value():
    assert make_key(DIGEST, "frames", cfg=Cfg(2.0, Mode.FAST)) == make_key(DIGEST, "frames", cfg=Cfg(2.0, Mode.FAST))
    assert make_key(DIGEST, "frames", cfg=Cfg(2.0, Mode.FAST)) != make_key(DIGEST, "frames", cfg=Cfg(2.0, Mode.EXACT))


def test_package_version_is_part_of_every_key(monkeypatch):
    k = make_key(DIGEST, "frames", **BASE)
    assert (C.VERSION_PARAM, ("str", trtllm_mmfast.__version__)) in k.params
    monkeypatch.setattr(trtllm_mmfast._version, "__version__", "99.0.0")  # where make_key reads it
    assert make_key(DIGEST, "frames", **BASE) != k
    with pytest.raises(ValueError, match=C.VERSION_PARAM):
        make_key(DIGEST, "frames", **{C.VERSION_PARAM: "x"})


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"x": object()}, "x"),
        ({"x": {1, 2}}, "x"),
        ({"frames": [1, {"a": lambda: 0}]}, "frames[1]['a']"),
        ({"cfg": Cfg(fps=object(), mode=Mode.FAST)}, "cfg.fps"),  # type: ignore[arg-type]
    ],
)
def test_unknown_or_unhashable_param_raises_type_error_naming_it(params, named):
    with pytest.raises(TypeError, match=r"parameter " + re.escape(named) + " is a"):
        make_key(DIGEST, "frames", **params)


def test_bad_digest_or_kind_is_a_value_error():
    with pytest.raises(ValueError, match="digest"):
        make_key("", "frames")
    with pytest.raises(ValueError, match="'decoded'.*frames, processed"):
        make_key(DIGEST, "decoded")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        C.CacheKey(DIGEST, "frames", ([1],))  # built by hand with an unhashable param


def test_key_pickles_and_hashes_afresh():
    k = make_key(DIGEST, "processed", **BASE)
    back = pickle.loads(pickle.dumps(k))
    assert back == k and hash(back) == hash(k)
    assert DIGEST[:16] in str(k) and "processed" in str(k)


def test_source_digest_of_bytes_memoryview_and_path(tmp_path: Path):
    data = bytes(range(256)) * 1000
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    want = blake3.blake3(data).hexdigest()
    assert C.source_digest(data) == C.source_digest(memoryview(data)) == want
    assert C.source_digest(str(path)) == C.source_digest(path) == want
    assert C.source_digest(data + b"\0") != want


# --------------------------------------------------------------------------- sizes


def test_nbytes_of_arrays_and_views_count_the_base_once():
    a = np.zeros((4, 8, 8, 3), np.uint8)
    assert nbytes_of(a) == a.nbytes == 768
    assert nbytes_of(a[::2]) == a.nbytes  # a view keeps its whole base alive
    assert nbytes_of([a, a[1:], a.transpose(0, 3, 1, 2), {"again": a}]) == a.nbytes + len("again")
    assert nbytes_of([a, np.ones(10, np.float64)]) == a.nbytes + 80
    buf = b"x" * 100
    assert nbytes_of(np.frombuffer(buf, np.uint8)[10:]) == 100  # the bytes it views


def test_nbytes_of_tensors_counts_each_storage_once():
    torch = pytest.importorskip("torch")
    t = torch.zeros(100, dtype=torch.float32)
    assert nbytes_of(t) == 400
    assert nbytes_of([t, t[10:], t.view(10, 10), t.numpy()]) == 400
    a = np.zeros(1000, np.uint8)
    assert nbytes_of({"frames": a, "tensor": torch.from_numpy(a[100:])}) == 1000 + len("frames") + len("tensor")
    assert nbytes_of([t, torch.ones(3, dtype=torch.int64)]) == 424


@dataclasses.dataclass
class Frames:
    frames: np.ndarray
    meta: dict
    label: str


def test_nbytes_of_walks_nested_values_and_scalars_cost_nothing():
    a = np.zeros(64, np.uint8)
    value = Frames(a, {"fps": 2.0, "indices": (1, 2, 3), "raw": b"abcd"}, "xyz")
    assert nbytes_of(value) == 64 + len("fps") + len("indices") + len("raw") + 4 + 3
    assert nbytes_of(None) == nbytes_of(3) == nbytes_of(2.5) == nbytes_of(object()) == 0
    loop: list = [a]
    loop.append(loop)  # a cycle terminates
    assert nbytes_of(loop) == 64
    deep: list = [a]
    for _ in range(10_000):  # deeper than the recursion limit
        deep = [deep]
    assert nbytes_of(deep) == 64


def test_nbytes_of_never_imports_torch():
    code = "import sys, numpy as np; from trtllm_mmfast.cache import nbytes_of; " \
           "assert nbytes_of([np.zeros(4)]) == 32; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- LRU and budget


def test_lru_order_and_eviction_under_the_byte_budget():
    cache = VideoCache(100)
    for i in range(3):
        cache.put(key(i), f"v{i}", nbytes=30)
    assert cache.get(key(0)) == "v0"  # 0 is now the most recently used: 1 goes first
    cache.put(key(3), "v3", nbytes=30)
    assert [i for i in range(4) if key(i) in cache] == [0, 2, 3]
    cache.put(key(4), "v4", nbytes=60)  # evicts 2, then 0
    assert [i for i in range(5) if key(i) in cache] == [3, 4]
    s = cache.stats()
    assert (s["evictions"], s["entries"], s["bytes"], s["hits"]) == (3, 2, 90, 1)


def test_bytes_never_exceed_the_budget_and_oversize_is_not_stored():
    cache = VideoCache(1000)
    rng = random.Random(0)
    for i in range(300):
        cache.put(key(i % 40), i, nbytes=rng.randint(0, 400))
        assert cache.stats()["bytes"] <= 1000
    cache.clear()
    cache.put(key(1), "small", nbytes=10)
    cache.put(key(1), "huge", nbytes=1001)
    cache.put(key(2), "huge", nbytes=1001)
    assert cache.get(key(1)) == "small" and key(2) not in cache
    assert cache.stats()["oversize"] == 2 and cache.stats()["bytes"] == 10


def test_put_replaces_and_sizes_values_itself():
    cache = VideoCache(10_000)
    cache.put(key(0), np.zeros(100, np.uint8))
    cache.put(key(0), np.zeros(300, np.uint8))
    assert cache.stats()["bytes"] == 300 and len(cache) == 1
    with pytest.raises(ValueError, match="nbytes.*-1"):
        cache.put(key(1), "x", nbytes=-1)


def test_contains_and_len_neither_count_nor_reorder():
    cache = VideoCache(60)
    cache.put(key(0), "a", nbytes=30)
    cache.put(key(1), "b", nbytes=30)
    before = cache.stats()
    assert key(0) in cache and key(9) not in cache and "not a key" not in cache and len(cache) == 2
    assert cache.stats() == before
    cache.put(key(2), "c", nbytes=30)  # 0 is still the least recently used
    assert key(0) not in cache and key(1) in cache


def test_disabled_cache_stores_nothing_and_always_computes():
    cache = VideoCache(0)
    calls = []
    cache.put(key(0), "x", nbytes=1)
    assert cache.get(key(0)) is None and len(cache) == 0
    for _ in range(3):
        assert cache.get_or_compute(key(0), lambda: calls.append(1) or "v") == ("v", False)
    assert len(calls) == 3
    s = cache.stats()
    assert (s["misses"], s["hits"], s["entries"], s["bytes"], s["max_bytes"]) == (4, 0, 0, 0, 0)


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True, None])
def test_max_bytes_is_validated(bad):
    with pytest.raises(ValueError, match=f"max_bytes.*{re.escape(repr(bad))}"):
        VideoCache(bad)  # type: ignore[arg-type]


def test_eviction_and_clear_release_the_value():
    @dataclasses.dataclass
    class Owner:
        frames: np.ndarray

    cache = VideoCache(2000)
    owner = Owner(np.zeros(1000, np.uint8))
    ref = weakref.ref(owner)
    cache.put(key(0), owner)
    assert cache.get_or_compute(key(0), lambda: None)[0] is owner
    del owner
    cache.put(key(1), np.zeros(1500, np.uint8))  # evicts key 0
    gc.collect()
    assert ref() is None

    value, _ = cache.get_or_compute(key(2), lambda: Owner(np.zeros(10, np.uint8)))
    ref = weakref.ref(value)
    del value
    cache.clear()
    gc.collect()
    assert ref() is None and len(cache) == 0 and cache.stats()["bytes"] == 0


# --------------------------------------------------------------------------- single flight


def _flight(cache: VideoCache, compute, n: int = 8) -> list:
    """``n`` threads call get_or_compute on one key at once; returns each one's outcome."""
    start = threading.Barrier(n)
    out: list = [None] * n

    def worker(i: int) -> None:
        start.wait()
        try:
            out[i] = cache.get_or_compute(key(0), compute)
        except BaseException as exc:  # noqa: BLE001 - the test inspects what each thread got
            out[i] = exc

    join_all(run_threads(n, worker))
    return out


def test_single_flight_computes_once_for_eight_threads():
    cache = VideoCache(1 << 20)
    release, calls = threading.Event(), []

    def compute():
        calls.append(threading.get_ident())
        assert release.wait(30)
        return np.arange(10)

    helper = threading.Thread(target=lambda: (wait_until(lambda: cache.stats()["joins"] == 7, "7 joins"), release.set()))
    helper.start()
    out = _flight(cache, compute)
    helper.join()
    assert len(calls) == 1
    assert all(v is out[0][0] for v, _ in out)
    assert sorted(hit for _, hit in out) == [False] + [True] * 7
    s = cache.stats()
    assert (s["misses"], s["joins"], s["hits"], s["entries"]) == (1, 7, 0, 1)
    assert cache.get_or_compute(key(0), lambda: 1 / 0) == (out[0][0], True)


def test_failing_compute_reaches_every_waiter_and_caches_nothing():
    cache = VideoCache(1 << 20)
    release, calls = threading.Event(), []
    error = RuntimeError("decoder exploded")

    def compute():
        calls.append(1)
        assert release.wait(30)
        raise error

    helper = threading.Thread(target=lambda: (wait_until(lambda: cache.stats()["joins"] == 7, "7 joins"), release.set()))
    helper.start()
    out = _flight(cache, compute)
    helper.join()
    assert len(calls) == 1 and all(e is error for e in out)
    assert key(0) not in cache and len(cache) == 0 and cache.stats()["bytes"] == 0
    assert cache.get_or_compute(key(0), lambda: calls.append(2) or "ok") == ("ok", False)
    assert calls == [1, 2] and cache.get(key(0)) == "ok"


class Dying(BaseException):
    """Not an Exception: like a thread torn down by SystemExit or an async exception."""


def test_waiters_never_hang_when_the_leader_dies():
    cache = VideoCache(1 << 20)
    release = threading.Event()

    def compute():
        assert release.wait(30)
        raise Dying()

    helper = threading.Thread(target=lambda: (wait_until(lambda: cache.stats()["joins"] == 3, "3 joins"), release.set()))
    helper.start()
    out = _flight(cache, compute, n=4)
    helper.join()
    assert all(isinstance(e, Dying) for e in out) and len({id(e) for e in out}) == 1


def test_waiting_is_bounded_by_timeout_naming_the_key():
    cache = VideoCache(1 << 20)
    started, release = threading.Event(), threading.Event()

    def compute():
        started.set()
        assert release.wait(30)
        return "late"

    leader = threading.Thread(target=cache.get_or_compute, args=(key(0), compute))
    leader.start()
    assert started.wait(30)
    with pytest.raises(TimeoutError, match=re.escape(str(key(0)))):
        cache.get_or_compute(key(0), lambda: "never", timeout=0.01)
    release.set()
    leader.join()
    assert cache.get(key(0)) == "late"
    with pytest.raises(ValueError, match="timeout"):
        cache.get_or_compute(key(0), lambda: 1, timeout=-1)


def test_compute_asking_for_its_own_key_is_an_error_not_a_deadlock():
    cache = VideoCache(1 << 20)
    with pytest.raises(RuntimeError, match="its own compute"):
        cache.get_or_compute(key(0), lambda: cache.get_or_compute(key(0), lambda: 1))
    assert cache.get_or_compute(key(0), lambda: 2) == (2, False)


def test_concurrent_mixed_workload_keeps_the_invariants():
    n_threads, n_ops, keys = 8, 200, [key(i) for i in range(30)]
    size = {k: 20 + 7 * i for i, k in enumerate(keys)}  # 20..223 bytes
    cache = VideoCache(1500)
    start, errors, lookups = threading.Barrier(n_threads), [], [0] * n_threads

    def value_of(k):
        return bytes([keys.index(k)]) * size[k]

    def worker(t: int) -> None:
        rng = random.Random(t)
        start.wait()
        try:
            for _ in range(n_ops):
                k, op = rng.choice(keys), rng.random()
                if op < 0.3:
                    lookups[t] += 1
                    got = cache.get(k)
                    assert got is None or got == value_of(k)
                elif op < 0.5:
                    cache.put(k, value_of(k))
                else:
                    lookups[t] += 1
                    assert cache.get_or_compute(k, lambda k=k: value_of(k))[0] == value_of(k)
                assert cache.stats()["bytes"] <= 1500
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    join_all(run_threads(n_threads, worker))
    assert errors == []
    s = cache.stats()
    held = [k for k in keys if k in cache]
    assert s["entries"] == len(held) == len(cache)
    assert s["bytes"] == sum(size[k] for k in held) <= s["max_bytes"] == 1500
    assert s["hits"] + s["misses"] + s["joins"] == sum(lookups)
    assert all(cache.get(k) == value_of(k) for k in held)


# --------------------------------------------------------------------------- budget parsing


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (0, 0), ("0", 0), (12345, 12345), ("12345", 12345), (" 77 ", 77), ("10b", 10),
        ("1K", 1024), ("1k", 1024), ("512M", 512 * 2**20), ("2G", 2 * 2**30), ("1T", 2**40),
        ("1KiB", 1024), ("4mib", 4 * 2**20), ("2GiB", 2 * 2**30), ("1Ti", 2**40), ("1.5G", 3 * 2**29),
        ("1KB", 1000), ("500MB", 500_000_000), ("2gb", 2_000_000_000), ("1 TB", 10**12),
    ],
)
def test_parse_bytes_accepts(text, want):
    assert parse_bytes(text) == want


@pytest.mark.parametrize("bad", ["", "  ", "-1", -1, "abc", "1X", "1.2.3", "K", "1e9", 1.5, True, None, "1 G B"])
def test_parse_bytes_rejects_naming_value_and_forms(bad):
    with pytest.raises(ValueError) as info:
        parse_bytes(bad)  # type: ignore[arg-type]
    assert repr(bad) in str(info.value) and "KiB" in str(info.value) and "MB" in str(info.value)


def test_resolve_cache_bytes_explicit_then_env_then_default(monkeypatch):
    monkeypatch.delenv(C.CACHE_BYTES_ENV, raising=False)
    assert C.resolve_cache_bytes(None) == C.DEFAULT_CACHE_BYTES == 2 * 2**30
    monkeypatch.setenv(C.CACHE_BYTES_ENV, "")
    assert C.resolve_cache_bytes(None) == C.DEFAULT_CACHE_BYTES
    monkeypatch.setenv(C.CACHE_BYTES_ENV, "256M")
    assert C.resolve_cache_bytes(None) == 256 * 2**20
    assert C.resolve_cache_bytes("1G") == 2**30 and C.resolve_cache_bytes(0) == 0
    monkeypatch.setenv(C.CACHE_BYTES_ENV, "lots")
    with pytest.raises(ValueError, match=f"{C.CACHE_BYTES_ENV} 'lots'"):
        C.resolve_cache_bytes(None)


@pytest.fixture
def fresh_default():
    C.set_default_cache(None)
    yield
    C.set_default_cache(None)


def test_default_cache_is_built_once_from_the_env(monkeypatch, fresh_default):
    monkeypatch.setenv(C.CACHE_BYTES_ENV, "1M")
    start, got = threading.Barrier(8), [None] * 8

    def worker(i: int) -> None:
        start.wait()
        got[i] = C.default_cache()

    join_all(run_threads(8, worker))
    assert all(c is got[0] for c in got) and got[0].max_bytes == 2**20 and got[0].name == "video"


def test_set_default_cache_replaces_it(monkeypatch, fresh_default):
    monkeypatch.delenv(C.CACHE_BYTES_ENV, raising=False)
    mine = VideoCache(7, name="mine")
    assert C.set_default_cache(mine) is mine and C.default_cache() is mine
    assert C.set_default_cache("5K").max_bytes == 5120 and C.default_cache().max_bytes == 5120
    assert C.set_default_cache(None) is None and C.default_cache().max_bytes == C.DEFAULT_CACHE_BYTES
