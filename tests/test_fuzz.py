"""Mutation fuzzing of real clips: byte flips, truncations and splices, decoded in a child process.

Bounded and derandomized for CI. Each input must end in an ``MMFastError`` subclass or in
well-formed frames (uint8 (N, H, W, 3) of the probed size, C-contiguous, sorted valid indices);
a crash or a hang (one long-lived worker per backend, restarted after one) fails the test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _crash_harness import Worker
from conftest import BACKENDS, clip_bytes
from trtllm_mmfast.synth import ClipSpec

EXAMPLES = 60  # per backend
SEEDS = {
    "h264-mp4": ClipSpec(width=96, height=64, num_frames=30, fps=30, gop=10, bframes=2),
    "h264-faststart": ClipSpec(width=96, height=64, num_frames=30, fps=30, gop=10, bframes=2, faststart=True),
    "hevc-mp4": ClipSpec(width=96, height=64, num_frames=20, fps=30, gop=10, codec="libx265"),
    "mpeg4-avi": ClipSpec(width=96, height=64, num_frames=20, fps=30, gop=10, codec="mpeg4", container="avi"),
}


Op = tuple[str, int, int, int]  # (kind, offset, size or value, source offset)


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, list[Op]]:
    """A seed clip and 1-4 mutations (small, so a failing example prints readably)."""
    seed = draw(st.sampled_from(sorted(SEEDS)))
    n = len(clip_bytes(SEEDS[seed]))
    ops: list[Op] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "run", "truncate", "insert", "overwrite"]))
        ops.append((kind, draw(st.integers(0, n - 1)), draw(st.integers(1, 4096)), draw(st.integers(0, n - 1))))
    return seed, ops


def mutate(seed: str, ops: list[Op]) -> bytes:
    """Apply ``ops``: xor a byte, overwrite a run with 0xFF, truncate, or copy a span of the clip
    elsewhere (inserted or overwriting: duplicated or shifted boxes, packets, NAL units)."""
    data = bytearray(clip_bytes(SEEDS[seed]))
    for kind, at, size, src in ops:
        n = len(data)
        if n < 2:
            break
        at, src = at % n, src % n
        if kind == "flip":
            data[at] ^= size % 255 + 1
        elif kind == "run":
            data[at : at + size % 64 + 1] = b"\xff" * len(data[at : at + size % 64 + 1])
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = data[src : src + size]
        else:
            span = bytes(data[src : src + size])
            data[at : at + len(span)] = span
    return bytes(data)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    w = Worker()
    yield w
    w.close()


@pytest.mark.parametrize("backend", BACKENDS)  # every registered backend
def test_mutated_clips_never_crash_hang_or_raise_untyped(backend: str, worker: Worker, fuzz_dir: Path) -> None:
    path = fuzz_dir / f"{backend}.bin"

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=mutations(), num_frames=st.sampled_from([4, 16]))
    def check(case: tuple[str, list[Op]], num_frames: int) -> None:
        path.write_bytes(mutate(*case))
        res = worker.request({"path": str(path), "backend": backend, "kwargs": {"num_frames": num_frames}}, timeout=30)
        if not res["ok"]:
            assert res["mmfast"], f"untyped {res['error']}: {res['message']}"
            return
        n, h, w, c = res["shape"]
        assert res["dtype"] == "uint8" and c == 3 and res["contiguous"], res
        assert (h, w) == (res["height"], res["width"]) and n == len(res["indices"]) > 0, res
        idx = res["indices"]
        assert idx == sorted(idx) and 0 <= idx[0] and idx[-1] < res["total"], res

    check()
