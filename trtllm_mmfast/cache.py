"""A repeat-video cache: a multi-turn chat resends the same video every turn; we pay for it once.

A ``CacheKey`` (``make_key``) is the BLAKE3 digest of the source bytes, the kind of result and
every parameter that changes the output (this package's version too), so a hit never returns
another video's or other settings' result. ``VideoCache``: a byte-budgeted, thread-safe LRU
with single-flight ``get_or_compute``; budget: explicit > ``TRTLLM_MMFAST_VIDEO_CACHE_BYTES`` >
2 GiB, 0 = off. No decoding, no TensorRT-LLM; numpy and torch are looked at only if imported."""

from __future__ import annotations

import dataclasses
import enum
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Literal, TypeVar, get_args

__all__ = [
    "CACHE_BYTES_ENV", "CacheKey", "CacheKind", "DEFAULT_CACHE_BYTES", "VERSION_PARAM", "VideoCache",
    "default_cache", "make_key", "nbytes_of", "parse_bytes", "resolve_cache_bytes", "set_default_cache", "source_digest",
]

CacheKind = Literal["frames", "processed"]
VERSION_PARAM = "mmfast_version"  # reserved: make_key always sets it
CACHE_BYTES_ENV = "TRTLLM_MMFAST_VIDEO_CACHE_BYTES"
DEFAULT_CACHE_BYTES = 2 * 1024**3
V = TypeVar("V")


@dataclasses.dataclass(frozen=True)
class CacheKey:
    """What a cached result depends on; build it with ``make_key`` (it canonicalises)."""

    digest: str
    kind: str
    params: tuple
    _hash: int = dataclasses.field(init=False, repr=False, compare=False)  # once: keys may hold 1000s of indices

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.digest, self.kind, self.params)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        # str hashes differ between processes: a pickled key must hash afresh where it lands.
        return (CacheKey, (self.digest, self.kind, self.params))

    def __str__(self) -> str:
        return f"{self.kind} key of source {self.digest[:16]} ({', '.join(n for n, _ in self.params)})"


def make_key(digest: str, kind: CacheKind, **params: Any) -> CacheKey:
    """The key of ``kind`` results for ``digest`` (``source_digest``) under ``params``, everything
    that changes the output. Order does not matter; a list equals a tuple, a numpy array its
    ``tolist()``; floats stay exact; ``1``, ``1.0``, ``True`` differ; other types: TypeError."""
    from ._version import __version__

    if not isinstance(digest, str) or not digest:
        raise ValueError(f"cache key digest must be a non-empty hex string (source_digest()), got {digest!r}")
    if kind not in get_args(CacheKind):
        raise ValueError(f"unknown cache key kind {kind!r}; valid: {', '.join(get_args(CacheKind))}")
    if VERSION_PARAM in params:
        raise ValueError(f"cache key parameter {VERSION_PARAM!r} is reserved: make_key() always sets it")
    params[VERSION_PARAM] = __version__  # an upgrade never hits entries built by older code
    return CacheKey(digest, kind, tuple(sorted((name, _canon(v, name)) for name, v in params.items())))


# Scalars: (types, tag, exact payload). Tags keep 1, 1.0, True and "1.0" apart; repr round-trips
# a float exactly (-0.0 and nan included). Subclasses (IntEnum, str enums) reduce to their value.
_SCALARS = ((bool, "bool", bool), (int, "int", int), (float, "float", float.__repr__), (str, "str", str.__str__),
            ((bytes, bytearray, memoryview), "bytes", bytes))


def _canon(value: Any, where: str) -> tuple:
    """A hashable, type-tagged form of ``value``: equal only for values meaning the same."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, (np.ndarray, np.generic)):
        return _canon(value.tolist(), where)  # first: np.float64 is a float with its own repr
    if value is None:
        return ("none",)
    for types, tag, exact in _SCALARS:
        if isinstance(value, types):
            return (tag, exact(value))
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(_canon(v, f"{where}[{i}]") for i, v in enumerate(value)))
    if isinstance(value, Mapping):
        items = [(_canon(k, f"{where} key"), _canon(v, f"{where}[{k!r}]")) for k, v in value.items()]
        return ("map", tuple(sorted(items, key=repr)))
    cls = f"{type(value).__module__}.{type(value).__qualname__}"
    if isinstance(value, enum.Enum):
        return ("enum", cls, value.name)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return ("dataclass", cls, tuple((f.name, _canon(getattr(value, f.name), f"{where}.{f.name}")) for f in fields))
    raise TypeError(f"cache key parameter {where} is a {cls}, which cannot be part of a key; pass None, bool, "
                    "int, float, str, bytes, lists/tuples/dicts of those, a numpy array, an Enum, a dataclass, or a "
                    "fingerprint string")


def source_digest(data: bytes | bytearray | memoryview | str | os.PathLike[str]) -> str:
    """BLAKE3 hex digest of the source bytes: of ``data`` itself, or of the file at a path (a
    ``str`` is a path). The same digest TensorRT-LLM puts in ``VideoData.raw_bytes_hash``."""
    import blake3

    if isinstance(data, (str, os.PathLike)):
        return blake3.blake3().update_mmap(os.fspath(data)).hexdigest()  # no copy of a large file
    return blake3.blake3(data).hexdigest()


class _Sizer:
    """Walks one value. Buffers count by address span, so memory shared inside the value counts
    once (a numpy view and its base, ``torch.from_numpy`` of an array, two views of one tensor)."""

    def __init__(self) -> None:
        self.np = sys.modules.get("numpy")
        self.torch = sys.modules.get("torch")  # never imported here: no value can hold a tensor otherwise
        self.seen: set[int] = set()  # ids of objects reachable from the value (alive, so ids stay unique)
        self.spans: list[tuple[str, int, int]] = []  # (device, start, end) of buffers
        self.flat = 0  # bytes of objects counted by identity (bytes, str, foreign buffer owners)

    def total(self, value: Any) -> int:
        stack = [value]  # a stack, not recursion: deep values never hit the recursion limit
        while stack:
            v = stack.pop()
            if id(v) not in self.seen:
                self.seen.add(id(v))
                self._visit(v, stack)
        return self.flat + _union_length(self.spans)

    def _visit(self, v: Any, stack: list[Any]) -> None:
        if isinstance(v, (bytes, bytearray, str)):
            self.flat += len(v)
        elif isinstance(v, memoryview):
            self.flat += v.nbytes
        elif self.np is not None and isinstance(v, self.np.ndarray):
            self._array(v, stack)
        elif self.torch is not None and isinstance(v, self.torch.Tensor):
            self._tensor(v)
        elif isinstance(v, Mapping):
            stack.extend(x for item in v.items() for x in item)
        elif isinstance(v, (list, tuple, set, frozenset)):
            stack.extend(v)
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            stack.extend(getattr(v, f.name) for f in dataclasses.fields(v))

    def _array(self, a: Any, stack: list[Any]) -> None:
        if a.dtype.hasobject:
            stack.extend(a.ravel().tolist())
        root = a
        while isinstance(root.base, self.np.ndarray):
            root = root.base  # a view keeps its whole base buffer alive: count that, once
        owner = root.base
        if owner is None:
            start = root.__array_interface__["data"][0]
            self.spans.append(("cpu", start, start + root.nbytes))
        elif self.torch is not None and isinstance(owner, self.torch.Tensor):
            self._tensor(owner)  # tensor.numpy(): the tensor's storage
        elif id(owner) not in self.seen:
            self.seen.add(id(owner))
            try:
                self.flat += memoryview(owner).nbytes  # np.frombuffer(bytes), an mmap, ...
            except TypeError:
                self.flat += root.nbytes

    def _tensor(self, t: Any) -> None:
        try:
            s = t.untyped_storage()
            n, start, device = s.nbytes(), s.data_ptr(), str(s.device)
        except (RuntimeError, NotImplementedError, TypeError):  # sparse / nested tensors: no single storage
            self.flat += t.element_size() * t.nelement()
            return
        if device != "meta":  # meta tensors hold no memory
            self.spans.append((device, start, start + n))


def _union_length(spans: list[tuple[str, int, int]]) -> int:
    total, device, start, end = 0, None, 0, 0  # the run being merged
    for d, s, e in sorted(spans):
        if d == device and s <= end:
            end = max(end, e)
        else:
            total, device, start, end = total + end - start, d, s, e
    return total + end - start


def nbytes_of(value: Any) -> int:
    """The bytes ``value`` holds: numpy arrays (a view: its whole base buffer), torch tensors (their
    storages, CPU or GPU), bytes and str by length, walking mappings, lists, tuples, sets and
    dataclasses. Memory shared inside ``value`` counts once; other objects count 0."""
    return _Sizer().total(value)


class _Flight:
    """One computation in progress; its waiters block on ``done``."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.thread = threading.get_ident()
        self.value: Any = None
        self.error: BaseException | None = None


class VideoCache:
    """A thread-safe LRU of at most ``max_bytes`` (``nbytes_of`` each entry); 0: off, every call computes.
    ``get_or_compute`` blocks while another thread computes the same key: run it in a worker thread
    (the media-load or input-processing pool), never on the event loop."""

    def __init__(self, max_bytes: int, *, name: str = "video") -> None:
        self.name = name
        self._max = _nonneg_int(max_bytes, "VideoCache max_bytes", "0 disables the cache")
        self._lock = threading.Lock()  # never held while computing, nor while values are freed
        self._entries: OrderedDict[CacheKey, tuple[Any, int]] = OrderedDict()  # (value, nbytes), LRU first
        self._flights: dict[CacheKey, _Flight] = {}
        self._bytes = 0
        self._counts = dict.fromkeys(("hits", "misses", "joins", "evictions", "oversize"), 0)

    @property
    def max_bytes(self) -> int:
        return self._max

    def get(self, key: CacheKey) -> Any | None:
        """The cached value (now the most recently used), or None."""
        with self._lock:
            entry = self._entries.get(key)
            self._counts["misses" if entry is None else "hits"] += 1
            if entry is not None:
                self._entries.move_to_end(key)
        return None if entry is None else entry[0]

    def put(self, key: CacheKey, value: Any, nbytes: int | None = None) -> None:
        """Store ``value`` (``nbytes``: its size, ``nbytes_of(value)`` when None), evicting least
        recently used entries until it fits. A value larger than ``max_bytes`` is not stored
        (counted as ``oversize``); an entry already under ``key`` then stays."""
        if self._max == 0:
            return
        size = _nonneg_int(nbytes, "nbytes") if nbytes is not None else nbytes_of(value)
        with self._lock:
            evicted = self._store(key, value, size)  # noqa: F841 (freed on return, outside the lock)

    def get_or_compute(
        self, key: CacheKey, compute: Callable[[], V], *, nbytes: int | None = None, timeout: float | None = None
    ) -> tuple[V, bool]:
        """``(value, hit)``: the cached value, or ``compute()`` stored under ``key``; ``hit``: this
        call did not run ``compute``. Single flight: callers of a key being computed wait for that
        result (``joins``; at most ``timeout`` s, else ``TimeoutError``). If ``compute`` raises, its
        caller and every waiter get that exception, nothing is stored, the next call computes."""
        if nbytes is not None:
            _nonneg_int(nbytes, "nbytes")
        if timeout is not None and not timeout >= 0:
            raise ValueError(f"get_or_compute timeout must be None or seconds >= 0, got {timeout!r}")
        with self._lock:
            entry, flight, lead = self._claim(key)
        if entry is not None:
            return entry[0], True
        if flight is None:  # disabled
            return compute(), False
        if lead:
            return self._lead(key, flight, compute, nbytes), False
        return self._wait(key, flight, timeout), True

    def _claim(self, key: CacheKey) -> tuple[tuple[Any, int] | None, _Flight | None, bool]:
        """Under the lock: (entry, _, False): hit; (None, flight, lead?); (None, None, False): disabled."""
        entry = self._entries.get(key)
        flight = self._flights.get(key)
        outcome = "hits" if entry is not None else "joins" if flight is not None else "misses"
        self._counts[outcome] += 1
        if entry is not None:
            self._entries.move_to_end(key)
        elif flight is None and self._max > 0:
            flight = self._flights[key] = _Flight()
            return None, flight, True
        return entry, flight, False

    def _lead(self, key: CacheKey, flight: _Flight, compute: Callable[[], V], nbytes: int | None) -> V:
        try:
            value = flight.value = compute()
            size = nbytes if nbytes is not None else nbytes_of(value)
            with self._lock:
                evicted = self._store(key, value, size)  # noqa: F841
                del self._flights[key]  # atomically with the store: a later caller hits
        except BaseException as exc:  # BaseException too: a waiter never blocks on a leader gone
            flight.error = exc
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            raise
        finally:
            flight.done.set()
        return value  # ``evicted`` is freed on return, outside the lock

    def _wait(self, key: CacheKey, flight: _Flight, timeout: float | None) -> Any:
        """The outcome of another thread's computation of ``key``: its value or its exception."""
        if flight.thread == threading.get_ident():
            raise RuntimeError(f"get_or_compute for {key} called again by its own compute(): it would wait forever")
        if not flight.done.wait(timeout):
            raise TimeoutError(f"{self.name} cache: waited {timeout:g} s for another thread computing {key}")
        if flight.error is not None:
            raise flight.error
        return flight.value

    def _store(self, key: CacheKey, value: Any, size: int) -> list[tuple[Any, int]]:
        """Insert (lock held); returns the entries it dropped, for the caller to free unlocked."""
        if size > self._max:
            self._counts["oversize"] += 1
            return []
        dropped = [old] if (old := self._entries.pop(key, None)) is not None else []
        self._bytes -= old[1] if old is not None else 0
        while self._entries and self._bytes + size > self._max:
            dropped.append(self._entries.popitem(last=False)[1])
            self._bytes -= dropped[-1][1]
            self._counts["evictions"] += 1
        self._entries[key] = (value, size)
        self._bytes += size
        return dropped

    def stats(self) -> dict[str, int]:
        """Counts since creation (hits, misses, joins, evictions, oversize) and entries, bytes,
        max_bytes now. A ``get`` is a hit or a miss; a ``get_or_compute`` a hit, miss or join."""
        with self._lock:
            return {**self._counts, "entries": len(self._entries), "bytes": self._bytes, "max_bytes": self._max}

    def clear(self) -> None:
        """Drop every entry (counts stay; a computation in flight still stores its result)."""
        with self._lock:
            entries, self._entries, self._bytes = self._entries, OrderedDict(), 0  # noqa: F841 (freed unlocked)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is cached; neither counted nor moved in the LRU order."""
        with self._lock:
            return key in self._entries


def _nonneg_int(value: Any, what: str, meaning: str = "the entry's size in bytes") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{what} must be an int >= 0 ({meaning}), got {value!r}")
    return value


_UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
for _power, _prefix in enumerate("kmgt", start=1):  # K = Ki = KiB = 1024, ...
    _UNITS.update(dict.fromkeys((_prefix, f"{_prefix}i", f"{_prefix}ib"), 1024**_power))
_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", re.IGNORECASE)
_FORMS = ("a non-negative number of bytes, optionally with a suffix: K, M, G, T, KiB, MiB, GiB, TiB "
          "(powers of 1024) or KB, MB, GB, TB (powers of 1000), e.g. 512M or 2GiB; 0 turns the cache off")


def parse_bytes(text: str | int, *, name: str = "byte size") -> int:
    """Bytes from a CLI / env value: ``1073741824``, ``"512M"``, ``"2GiB"``, ``"1.5G"``, ``"500MB"``
    (case-insensitive; a fraction of a byte rounds down). ``name``: where the value came from."""
    if isinstance(text, int) and not isinstance(text, bool) and text >= 0:
        return text
    if isinstance(text, str) and (m := _SIZE_RE.fullmatch(text)) and m.group(2).lower() in _UNITS:
        return int(Decimal(m.group(1)) * _UNITS[m.group(2).lower()])  # Decimal: exact, no float rounding
    raise ValueError(f"invalid {name} {text!r}: expected {_FORMS}")


def resolve_cache_bytes(explicit: int | str | None = None) -> int:
    """The cache budget: ``explicit`` > ``TRTLLM_MMFAST_VIDEO_CACHE_BYTES`` > ``DEFAULT_CACHE_BYTES``.
    An unset or empty variable means "not given"; a bad value raises ``ValueError`` naming it."""
    if explicit is not None:
        return parse_bytes(explicit, name="video cache size")
    if (env := os.environ.get(CACHE_BYTES_ENV, "")).strip():
        return parse_bytes(env, name=CACHE_BYTES_ENV)
    return DEFAULT_CACHE_BYTES


_default_lock = threading.Lock()
_default: VideoCache | None = None


def default_cache() -> VideoCache:
    """The process-wide cache, built on first use with ``resolve_cache_bytes()``."""
    global _default
    with _default_lock:
        if _default is None:
            _default = VideoCache(resolve_cache_bytes(None))
        return _default


def set_default_cache(cache_or_bytes: VideoCache | int | str | None) -> VideoCache | None:
    """Install a ``VideoCache``, a new one of a budget (``parse_bytes`` forms) or None (rebuilt from
    the environment on next use) as the process-wide cache; returns it. Old holders keep theirs."""
    global _default
    if not (cache_or_bytes is None or isinstance(cache_or_bytes, VideoCache)):
        cache_or_bytes = VideoCache(resolve_cache_bytes(cache_or_bytes))
    with _default_lock:
        _default = cache_or_bytes
    return cache_or_bytes
