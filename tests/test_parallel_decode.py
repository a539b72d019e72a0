"""One request decoded on several cores (``video._parallel``): the GOP runs of a pyav decode spread
over extra decoder contexts are bit-identical to the sequential decode (frames, indices, damage),
and the decoder threads of all concurrent decodes together never exceed the allowance."""

from __future__ import annotations

import io
import threading
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pytest

from conftest import clip_bytes, reference_frames
from test_pyav_backend import x264, x265
from trtllm_mmfast.runtime import executors
from trtllm_mmfast.synth import ClipSpec
from trtllm_mmfast.video import _parallel, pyav_backend
from trtllm_mmfast.video._parallel import DecodeThreads
from trtllm_mmfast.video.backend import HOST
from trtllm_mmfast.video.sampling import qwen3_vl_indices
from trtllm_mmfast.video.source import MediaSource

av = pytest.importorskip("av")


def clip(**kw) -> ClipSpec:
    """4 s of 96x64 at 30 fps unless overridden."""
    return ClipSpec(**{"width": 96, "height": 64, "num_frames": 120, "fps": 30, **kw})


def remux(data: bytes, fmt: str, *, rotate: int = 0) -> bytes:
    """The same packets in another container (or with a display rotation)."""
    out = io.BytesIO()
    with av.open(io.BytesIO(data)) as src, av.open(out, "w", format=fmt) as dst:
        ist = src.streams.video[0]
        ost = dst.add_stream_from_template(ist)
        if rotate:
            ost.set_display_rotation(rotate)
        for pkt in src.demux(ist):
            if pkt.dts is not None:
                pkt.stream = ost
                dst.mux(pkt)
    return out.getvalue()


@dataclass(frozen=True)
class Case:
    id: str
    spec: ClipSpec
    container: str | None = None  # remux into it
    rotate: int = 0


CASES = [
    Case("h264-g12-b3", clip(gop=12, bframes=3)),
    Case("h264-g30-b0", clip(gop=30, bframes=0)),
    Case("h264-g250-b3", clip(num_frames=300, gop=250, bframes=3)),  # two runs, one of 250 packets
    Case("h264-g30-b-pyramid", clip(gop=30, bframes=3, options=x264("keyint=30:min-keyint=30:b-pyramid=normal"))),
    Case("h264-open-gop", clip(gop=12, bframes=3, options=x264("keyint=12:min-keyint=12:open-gop=1"))),
    Case("hevc-g10", clip(codec="libx265", gop=10)),
    Case("hevc-open-gop", clip(codec="libx265", options=x265("keyint=16:min-keyint=16:scenecut=0:bframes=3:open-gop=1"))),
    Case("h264-mpegts", clip(gop=12, bframes=3), container="mpegts"),  # seeks without an index
    Case("h264-mkv", clip(gop=12, bframes=3), container="matroska"),
    Case("h264-rotated-90", clip(gop=12, bframes=3), container="mp4", rotate=90),
]
# Targets without gaps join into one run (reading on beats seeking): nothing to spread. ``gapped``
# leaves the end of every 12-frame GOP out (P pictures there), so each GOP is a run of its own.
GAPPED = np.array([i for i in range(120) if i % 12 < 7])
REQUESTS = {
    "all": lambda n, fps: np.arange(n),
    "gapped": lambda n, fps: np.array([i for i in range(n) if i % 12 < 7]),
    "fps8": lambda n, fps: qwen3_vl_indices(n, fps, fps=8),
    "fps2": lambda n, fps: qwen3_vl_indices(n, fps, fps=2),
    "repeats": lambda n, fps: qwen3_vl_indices(n, fps, num_frames=2 * n),
    "one-per-gop": lambda n, fps: np.arange(5, n, 12),
}

_BYTES: dict[Case, bytes] = {}


def case_bytes(case: Case) -> bytes:
    if case not in _BYTES:
        data = clip_bytes(case.spec)
        _BYTES[case] = remux(data, case.container, rotate=case.rotate) if case.container else data
    return _BYTES[case]


@pytest.fixture
def slots(monkeypatch) -> DecodeThreads:
    """A fresh process-wide allowance of 4 slots (more than this machine's cores: parallel for sure)."""
    allowance = DecodeThreads(4)
    monkeypatch.setattr(_parallel, "_allowance", allowance)
    return allowance


class RunLog:
    """Wraps ``_decode_run``: records which thread decoded each run and how many decoder threads were
    at work at once (peak). With ``spread``, whenever a decode was granted extra slots, the first run
    each context takes waits (up to 10 s) until a second context has taken one too: tiny test runs
    would otherwise all go to whichever context asks first (correct, but nothing spread)."""

    def __init__(self, monkeypatch, *, spread: bool) -> None:
        self.threads: list[tuple[int, str]] = []
        self.active = self.peak = 0
        self._cond = threading.Condition()
        self._seen: dict[int, set[str]] = defaultdict(set)  # id(plan) -> threads that took a run
        real = pyav_backend._PyAVVideo._decode_run

        def decode_run(ctx, i, plan, sink):
            me = threading.current_thread().name
            with self._cond:
                self.threads.append((i, me))
                self.active += ctx._threads
                self.peak = max(self.peak, self.active)
                seen = self._seen[id(plan)]
                first = me not in seen
                seen.add(me)
                self._cond.notify_all()
                if spread and first and _parallel.allowance().in_use > ctx._threads:
                    self._cond.wait_for(lambda: len(seen) >= 2, timeout=10)
            try:
                return real(ctx, i, plan, sink)
            finally:
                with self._cond:
                    self.active -= ctx._threads

        monkeypatch.setattr(pyav_backend._PyAVVideo, "_decode_run", decode_run)

    def contexts(self) -> int:
        return len({name for _, name in self.threads})


def decode(data: bytes, indices, *, parallel_runs: int | None, threads: int = 1, path=None):
    """(Decoded, stats) of one decode on a freshly opened pyav video."""
    source = MediaSource(path=path) if path is not None else MediaSource(data=data)
    video = pyav_backend.BACKEND.open(source, decoder_threads=threads, parallel_runs=parallel_runs)
    try:
        return video.decode(np.asarray(indices, dtype=np.int64), HOST), video.stats
    finally:
        video.close()


def assert_same(par, seq) -> None:
    assert par.indices.tolist() == seq.indices.tolist()
    assert par.damage == seq.damage
    assert par.info == seq.info
    assert par.frames.shape == seq.frames.shape and np.array_equal(par.frames, seq.frames)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("req", sorted(REQUESTS))
def test_parallel_is_bit_identical_to_sequential(case, req, slots, monkeypatch):
    data = case_bytes(case)
    ref = reference_frames(data)
    indices = REQUESTS[req](len(ref), 30.0)
    seq, seq_stats = decode(data, indices, parallel_runs=1)
    runs = RunLog(monkeypatch, spread=True)
    par, par_stats = decode(data, indices, parallel_runs=None)
    assert_same(par, seq)
    assert par.damage is None and par.indices.tolist() == indices.tolist()
    frames = ref[indices]
    if case.rotate:
        frames = np.rot90(frames, k=case.rotate // 90, axes=(1, 2))  # +d degrees: counter-clockwise
    np.testing.assert_array_equal(par.frames, frames)
    assert seq_stats.contexts == 1
    assert sorted(i for i, _ in runs.threads) == list(range(len(runs.threads)))  # every run once
    if len(runs.threads) > 1 and par_stats.packets_sent >= 2 * _parallel.MIN_PACKETS_PER_CONTEXT:
        assert par_stats.contexts == runs.contexts() >= 2, runs.threads
    for name in ("packets_sent", "packets_skipped", "gops_skipped", "frames_converted", "decode_errors", "frames_damaged"):
        assert getattr(par_stats, name) == getattr(seq_stats, name), name
    assert par_stats.sent == seq_stats.sent  # the same packets, merged in run order
    assert slots.in_use == 0 and slots.peak <= slots.total


def break_packets(data: bytes, ordinals) -> bytes:
    """``data`` with the NAL length prefix of these packets (decode order) made impossible: the
    decoder rejects each of them."""
    out = bytearray(data)
    with av.open(io.BytesIO(data)) as c:
        packets = [p for p in c.demux(video=0) if p.size]
        for q in ordinals:
            out[packets[q].pos : packets[q].pos + 4] = b"\x7f\xff\xff\xff"
    return bytes(out)


def _disposable(data: bytes) -> list[bool]:
    video = pyav_backend.BACKEND.open(MediaSource(data=data), decoder_threads=1)
    try:
        return list(video.index.disposable)
    finally:
        video.close()


DAMAGED = {  # clip -> packets (decode order) to break: references mid-GOP, a keyframe, a B frame
    "refs": lambda disp: [25, 50, 75],
    "keyframe": lambda disp: [36],
    "disposable": lambda disp: [q for q, d in enumerate(disp) if d][3:5],
    "many": lambda disp: list(range(13, 120, 9)),
}


OPEN_GOP_12 = x264("keyint=12:min-keyint=12:open-gop=1")


@pytest.mark.parametrize("where", sorted(DAMAGED))
@pytest.mark.parametrize("spec", [clip(gop=12, bframes=3), clip(gop=12, bframes=3, options=OPEN_GOP_12)], ids=["closed", "open-gop"])
def test_damaged_packets_give_the_same_frames_and_damage(spec, where, slots, monkeypatch, no_leaks):
    clean = clip_bytes(spec)
    data = break_packets(clean, DAMAGED[where](_disposable(clean)))
    seq, seq_stats = decode(data, GAPPED, parallel_runs=1)
    runs = RunLog(monkeypatch, spread=True)
    par, par_stats = decode(data, GAPPED, parallel_runs=None)
    assert_same(par, seq)
    assert par_stats.decode_errors == seq_stats.decode_errors > 0
    assert par_stats.frames_damaged == seq_stats.frames_damaged
    assert "failed to decode" in par.damage
    assert runs.contexts() >= 2
    ref = reference_frames(clean)
    for k, i in enumerate(par.indices.tolist()):  # what is returned under a number is that frame
        if i < 12:  # the first GOP is intact in every variant but "many"
            np.testing.assert_array_equal(par.frames[k], ref[i])


@pytest.mark.parametrize("cut", [40, 65, 90])
@pytest.mark.parametrize("container", ["mp4-faststart", "mpegts"])
def test_truncated_input_gives_the_same_frames_and_damage(cut, container, slots, monkeypatch, no_leaks):
    if container == "mpegts":
        whole = remux(clip_bytes(clip(gop=12, bframes=3)), "mpegts")
    else:
        whole = clip_bytes(clip(gop=12, bframes=3, faststart=True))  # the index survives the cut
    data = whole[: len(whole) * cut // 100]
    seq, _ = decode(data, GAPPED, parallel_runs=1)
    runs = RunLog(monkeypatch, spread=True)
    par, _ = decode(data, GAPPED, parallel_runs=None)
    assert_same(par, seq)
    assert 0 < len(par.indices) < len(GAPPED) and runs.contexts() >= 2
    if container == "mp4-faststart":  # MPEG-TS declares no frame count: a cut there is not seen
        assert par.damage
    if container == "mp4-faststart":  # (a cut MPEG-TS packet decodes to concealed pixels, undetected)
        np.testing.assert_array_equal(par.frames, reference_frames(whole)[par.indices])


def test_many_targets_over_many_gops_from_a_path(tmp_path, slots, monkeypatch, no_leaks):
    spec = clip(num_frames=300, gop=10, bframes=2)
    path = tmp_path / "clip.mp4"
    path.write_bytes(clip_bytes(spec))
    indices = qwen3_vl_indices(300, 30.0, num_frames=150)
    seq, _ = decode(b"", indices, parallel_runs=1, path=path)
    runs = RunLog(monkeypatch, spread=True)
    par, stats = decode(b"", indices, parallel_runs=None, path=path)
    assert_same(par, seq)
    assert stats.gops_skipped == 0 and runs.contexts() == stats.contexts >= 2
    assert slots.peak <= 4
    np.testing.assert_array_equal(par.frames, reference_frames(clip_bytes(spec))[indices])


@pytest.mark.parametrize("threads,total", [(1, 3), (2, 4), (1, 2)])
def test_concurrent_decodes_never_exceed_the_allowance(threads, total, monkeypatch, no_leaks):
    allowance = DecodeThreads(total)
    monkeypatch.setattr(_parallel, "_allowance", allowance)
    data = clip_bytes(clip(num_frames=240, gop=12, bframes=3))
    indices = np.array([i for i in range(240) if i % 12 < 5])
    want, _ = decode(data, indices, parallel_runs=1)
    runs = RunLog(monkeypatch, spread=False)
    start = threading.Barrier(8)
    results: list = [None] * 8

    def one(k: int) -> None:
        start.wait()
        for _ in range(3):
            results[k] = decode(data, indices, parallel_runs=None, threads=threads)

    workers = [threading.Thread(target=one, args=(k,)) for k in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for got, _ in results:
        assert_same(got, want)
    assert allowance.peak <= total and runs.peak <= total  # slots held, and decoder threads at work
    assert allowance.in_use == 0 and allowance.waiting == 0


def test_extra_slots_are_only_taken_when_idle():
    slots = DecodeThreads(2)
    assert slots.acquire() == 1 and slots.try_acquire() and slots.in_use == 2 == slots.peak
    assert not slots.try_acquire()  # all taken
    got = threading.Event()
    waiter = threading.Thread(target=lambda: (slots.acquire(), got.set()))
    waiter.start()
    for _ in range(1000):
        if slots.waiting:
            break
        threading.Event().wait(0.01)
    assert slots.waiting == 1
    slots.release()  # one slot free, but a decode is waiting for it: not idle
    waiter.join(10)
    assert got.is_set() and not slots.try_acquire() and slots.in_use == 2
    slots.release(2)
    assert slots.acquire(5) == 2  # at most the total
    with pytest.raises(RuntimeError):
        slots.release(3)
    slots.release(2)
    with slots.held() as n:
        assert n == 1 and slots.in_use == 1
    assert slots.in_use == 0 and slots.peak == 2
    with pytest.raises(ValueError):
        DecodeThreads(0)


def test_parallel_runs_option(slots, monkeypatch):
    data = clip_bytes(clip(gop=12, bframes=3))
    runs = RunLog(monkeypatch, spread=True)
    _, stats = decode(data, GAPPED, parallel_runs=1)
    assert stats.contexts == 1 and runs.contexts() == 1 and slots.peak == 1
    _, stats = decode(data, GAPPED, parallel_runs=2)
    assert stats.contexts == 2 and slots.peak == 2
    monkeypatch.setenv(_parallel.ENV_PARALLEL_RUNS, "1")
    _, stats = decode(data, GAPPED, parallel_runs=None)
    assert stats.contexts == 1
    _, stats = decode(data, GAPPED, parallel_runs=3)  # explicit beats the environment
    assert stats.contexts >= 2
    for bad in ("0", "two", "1.5"):
        monkeypatch.setenv(_parallel.ENV_PARALLEL_RUNS, bad)
        with pytest.raises(ValueError, match=_parallel.ENV_PARALLEL_RUNS):
            decode(data, [0], parallel_runs=None)
    with pytest.raises(ValueError, match="parallel_runs"):
        decode(data, [0], parallel_runs=0)


def test_busy_cores_mean_a_sequential_decode(slots, monkeypatch):
    data = clip_bytes(clip(gop=12, bframes=3))
    slots.acquire(3)  # three other decodes at work: one slot left, for this decode's own thread
    try:
        _, stats = decode(data, GAPPED, parallel_runs=None)
    finally:
        slots.release(3)
    assert stats.contexts == 1 and slots.peak == 4


def test_a_failing_run_raises_and_releases_everything(slots, monkeypatch, no_leaks):
    real = pyav_backend._PyAVVideo._decode_run
    RunLog(monkeypatch, spread=True)
    spread = pyav_backend._PyAVVideo._decode_run

    def decode_run(ctx, i, plan, sink):
        if i in (3, 5):
            raise MemoryError(f"run {i}")
        return spread(ctx, i, plan, sink)

    monkeypatch.setattr(pyav_backend._PyAVVideo, "_decode_run", decode_run)
    with pytest.raises(MemoryError, match="run 3"):  # the lowest failing run's error
        decode(clip_bytes(clip(gop=12, bframes=3)), GAPPED, parallel_runs=None)
    assert slots.in_use == 0
    monkeypatch.setattr(pyav_backend._PyAVVideo, "_decode_run", real)


def test_decode_threads_are_named_and_stopped_at_shutdown(slots, monkeypatch, no_leaks):
    RunLog(monkeypatch, spread=True)
    _, stats = decode(clip_bytes(clip(gop=12, bframes=3)), GAPPED, parallel_runs=None)
    assert stats.contexts >= 2
    assert any(t.name.startswith("mmfast-decode-") for t in threading.enumerate())
    executors.shutdown()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("mmfast-decode-")]
