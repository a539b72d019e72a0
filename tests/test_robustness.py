"""Hostile and unusual inputs, decoded by every backend in a child process (a crash or hang fails).

Each input ends in a typed error (an ``MMFastError`` subclass) or in documented frames:
uint8 (N, H, W, 3) RGB, C-contiguous, ``frames_indices`` sorted, equal across backends.
Every test runs once per registered backend (``conftest.BACKENDS``, from the registry).
"""

from __future__ import annotations

import io
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest

from _crash_harness import Worker
from conftest import BACKEND_NAMES, BACKENDS, clip_bytes, reference_frames
from trtllm_mmfast.synth import ClipSpec, synth_frame

REFERENCE_BACKEND = "opencv"  # the pixels TensorRT-LLM's stock loader gives: every backend must match them
TIMEOUT_S = 30.0
BASE = dict(width=96, height=64, num_frames=30, fps=30, gop=10, bframes=2)


@pytest.fixture(scope="module")
def workers() -> Iterator[dict[str, Worker]]:
    ws = {b: Worker() for b in BACKEND_NAMES}  # each child starts on its first request
    yield ws
    for w in ws.values():
        w.close()


# --- inputs -----------------------------------------------------------------------------------


def _png() -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", np.zeros((16, 16, 3), np.uint8))
    assert ok
    return buf.tobytes()


def _audio_only_mp4() -> bytes:
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as c:
        s = c.add_stream("aac", rate=16000, layout="mono")
        t = np.arange(16000, dtype=np.float32) / 16000
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        for i in range(0, 16000, 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, i : i + 1024]), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return out.getvalue()


def _raw_avi(width: int, height: int) -> bytes:
    """A tiny rawvideo AVI whose headers (avih and the BITMAPINFOHEADER) claim ``width``x``height``.

    Rawvideo carries no size of its own, so this is the size every prober reports (when FFmpeg
    accepts it at all: it refuses sizes whose byte count overflows an int).
    """
    d = bytearray(clip_bytes(ClipSpec(width=32, height=16, num_frames=4, container="avi", codec="rawvideo", pix_fmt="bgr24")))
    i = d.find(b"avih")
    struct.pack_into("<II", d, i + 8 + 32, width, height)  # dwWidth, dwHeight
    j = d.find(b"strf")
    struct.pack_into("<ii", d, j + 8 + 4, width, height)  # biWidth, biHeight
    return bytes(d)


def _vfr_mp4() -> bytes:
    """H.264 with frame durations from 10 to 100 ms (1 ms time base)."""
    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = 96, 64, "yuv420p"
        s.codec_context.time_base = Fraction(1, 1000)
        s.options = {"bf": "2", "g": "10"}
        pts = 0
        for i in range(30):
            frame = av.VideoFrame.from_ndarray(synth_frame(96, 64, i), format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            pts += 10 + (i * 37) % 91
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return out.getvalue()


def _rotated(data: bytes, degrees: int) -> bytes:
    """``data`` remuxed (no re-encode) with a display-matrix rotation of ``degrees``."""
    import av

    out = io.BytesIO()
    with av.open(io.BytesIO(data)) as src, av.open(out, "w", format="mp4") as dst:
        ins = src.streams.video[0]
        outs = dst.add_stream_from_template(ins)
        outs.set_display_rotation(degrees)
        for p in src.demux(ins):
            if p.dts is not None:
                p.stream = outs
                dst.mux(p)
    return out.getvalue()


def _cuts(data: bytes) -> dict[int, bytes]:
    return {pct: data[: len(data) * pct // 100] for pct in range(10, 100, 10)}


# name -> (bytes factory, allowed error classes)
ERRORS = ("InvalidMediaError", "MediaTooLargeError")
BAD: dict[str, tuple[Callable[[], bytes], tuple[str, ...]]] = {
    "empty": (lambda: b"", ("InvalidMediaError",)),
    "random": (lambda: np.random.default_rng(7).integers(0, 256, 50_000, dtype=np.uint8).tobytes(), ("InvalidMediaError",)),
    "text": (lambda: b"GET / HTTP/1.1\r\nthis is text, not a video\r\n" * 200, ("InvalidMediaError",)),
    "png": (_png, ("InvalidMediaError",)),
    "audio-only-mp4": (_audio_only_mp4, ("InvalidMediaError",)),
    "avi-100000x100000": (lambda: _raw_avi(100_000, 100_000), ERRORS),
    "y4m-100000x100000": (lambda: b"YUV4MPEG2 W100000 H100000 F30:1 Ip C420jpeg\n" + (b"FRAME\n" + bytes(4096)) * 2, ERRORS),
    "avi-10000x10000": (lambda: _raw_avi(10_000, 10_000), ("MediaTooLargeError",)),  # FFmpeg accepts it: our limit
}
for _pct, _cut in _cuts(clip_bytes(ClipSpec(**BASE))).items():  # type: ignore[arg-type]
    BAD[f"moov-at-end-cut-{_pct}%"] = ((lambda c=_cut: c), ("InvalidMediaError",))  # no index: nothing decodable


def _write(tmp: Path, name: str, data: bytes) -> str:
    p = tmp / f"{name}.bin"
    p.write_bytes(data)
    return str(p)


def _decode(workers: dict[str, Worker], backend: str, path: str, **kw: Any) -> dict[str, Any]:
    req = {"path": path, "backend": backend, "as_bytes": kw.pop("as_bytes", True), "kwargs": kw.pop("kwargs", {})}
    req.update(kw)
    return workers[backend].request(req, timeout=TIMEOUT_S)


def _check_frames(res: dict[str, Any], what: str) -> None:
    """A success must be documented frames: uint8 (N, H, W, 3), contiguous, sorted valid indices."""
    n, h, w, c = res["shape"]
    assert res["dtype"] == "uint8" and c == 3 and res["contiguous"], (what, res)
    assert (h, w) == (res["height"], res["width"]) and n == len(res["indices"]) > 0, (what, res)
    idx = res["indices"]
    assert idx == sorted(idx) and 0 <= idx[0] and idx[-1] < res["total"], (what, res)


# --- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_raises_a_typed_error(name, backend, workers, tmp_path):
    make, allowed = BAD[name]
    path = _write(tmp_path, name, make())
    for as_bytes in (True, False):
        what = f"{name} via {backend} ({'bytes' if as_bytes else 'path'})"
        res = _decode(workers, backend, path, as_bytes=as_bytes, kwargs={"num_frames": 8})
        assert not res["ok"], f"{what}: decoded {res}"
        assert res["mmfast"] and res["error"] in allowed, f"{what}: {res}"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pct", range(10, 100, 10))
def test_truncated_faststart_gives_a_typed_error_or_the_frames_before_the_cut(pct, backend, workers, tmp_path):
    full = clip_bytes(ClipSpec(**BASE, faststart=True))  # type: ignore[arg-type]
    path = _write(tmp_path, f"cut{pct}", _cuts(full)[pct])
    ref = reference_frames(full)
    save = str(tmp_path / f"{backend}.npy")
    res = _decode(workers, backend, path, save=save, kwargs={"num_frames": 30, "sampler": "uniform"})
    if not res["ok"]:
        assert res["mmfast"] and res["error"] == "InvalidMediaError", (backend, res)
        return
    _check_frames(res, f"{pct}% via {backend}")
    # Frames before the cut (a damaged last packet may leave a gap), each under its true index.
    np.testing.assert_array_equal(np.load(save), ref[res["indices"]], err_msg=backend)


def _both(
    workers: dict[str, Worker], backend: str, tmp: Path, data: bytes, **kwargs: Any
) -> dict[str, tuple[dict[str, Any], np.ndarray]]:
    """``backend`` and the reference backend on ``data``: both intact, and identical."""
    path = _write(tmp, "clip", data)
    out = {}
    for b in dict.fromkeys((backend, REFERENCE_BACKEND)):
        save = str(tmp / f"{b}.npy")
        res = _decode(workers, b, path, save=save, kwargs=kwargs)
        assert res["ok"], (b, res)
        _check_frames(res, b)
        assert res["warnings"] == [], (b, res)  # an intact stream is not reported as damaged
        out[b] = (res, np.load(save))
    (a, fa), (r, fr) = out[backend], out[REFERENCE_BACKEND]
    assert (a["indices"], a["total"], a["width"], a["height"]) == (r["indices"], r["total"], r["width"], r["height"])
    np.testing.assert_array_equal(fa, fr, err_msg=f"{backend} and {REFERENCE_BACKEND} disagree")
    return out


UNUSUAL = {
    "h264-10bit": lambda: clip_bytes(ClipSpec(**{**BASE, "pix_fmt": "yuv420p10le"})),  # type: ignore[arg-type]
    "h264-444": lambda: clip_bytes(ClipSpec(**{**BASE, "pix_fmt": "yuv444p"})),  # type: ignore[arg-type]
    "h264-444-10bit": lambda: clip_bytes(ClipSpec(**{**BASE, "pix_fmt": "yuv444p10le"})),  # type: ignore[arg-type]
    "h264-vfr": _vfr_mp4,
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(UNUSUAL))
def test_unusual_streams_give_the_same_8bit_rgb_on_every_backend(name, backend, workers, tmp_path):
    data = UNUSUAL[name]()
    out = _both(workers, backend, tmp_path, data, num_frames=12)
    res, frames = out[backend]
    ref = reference_frames(data)  # 8-bit RGB, converted as OpenCV does it
    assert res["total"] == len(ref)
    np.testing.assert_array_equal(frames, ref[res["indices"]])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_rotation_is_applied_like_opencv(degrees, backend, workers, tmp_path):
    """Both backends return frames upright as displayed (OpenCV's ``CAP_PROP_ORIENTATION_AUTO``,
    which TensorRT-LLM's stock loader gets by default), with width/height of the rotated frame."""
    coded = clip_bytes(ClipSpec(**BASE))  # type: ignore[arg-type]
    out = _both(workers, backend, tmp_path, _rotated(coded, degrees), num_frames=8)
    res, frames = out[backend]
    # A display matrix of +d degrees (counter-clockwise) = np.rot90 by d/90 quarter turns.
    want = np.rot90(reference_frames(coded)[res["indices"]], k=degrees // 90, axes=(1, 2))
    assert (res["width"], res["height"]) == ((64, 96) if degrees % 180 else (96, 64))
    np.testing.assert_array_equal(frames, want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cut_after_every_packet_keeps_true_frame_numbers(backend, workers, tmp_path):
    """Cutting a faststart file right after a reference picture (before the B-frames shown ahead of
    it) must not renumber it: every frame returned is the source frame its index names, and the
    damage is reported in exactly one warning."""
    import av

    full = clip_bytes(ClipSpec(**BASE, faststart=True))  # type: ignore[arg-type]
    with av.open(io.BytesIO(full)) as c:
        ends = sorted({p.pos + p.size for p in c.demux(video=0) if p.size})
    ref = reference_frames(full)
    decoded = 0
    for end in ends[:-1]:
        path = _write(tmp_path, "cut", full[:end])
        save = str(tmp_path / f"{backend}.npy")
        res = _decode(workers, backend, path, save=save, kwargs={"num_frames": 30, "sampler": "uniform"})
        if not res["ok"]:
            assert res["mmfast"] and res["error"] == "InvalidMediaError", (end, backend, res)
            continue
        _check_frames(res, f"cut at {end} via {backend}")
        np.testing.assert_array_equal(np.load(save), ref[res["indices"]], err_msg=f"cut at {end} via {backend}")
        assert len(res["warnings"]) == 1 and "incomplete decode" in res["warnings"][0], (end, backend, res)
        decoded += len(res["indices"])
    assert decoded > 0, decoded  # most cuts keep frames: the check above did run


def _packets(data: bytes) -> list[dict[str, Any]]:
    """Each video packet in decode order: byte range, frame number (pts order), key, disposable."""
    import av

    from trtllm_mmfast.video._bitstream import h264_disposable, nal_length_size

    with av.open(io.BytesIO(data)) as c:
        cc = c.streams.video[0].codec_context
        nal = nal_length_size(cc.extradata, "h264")
        assert nal
        pkts = [
            {"pos": p.pos, "size": p.size, "pts": p.pts, "key": p.is_keyframe, "disp": h264_disposable(memoryview(p), nal)}
            for p in c.demux(video=0)
            if p.size
        ]
    order = sorted(range(len(pkts)), key=lambda q: pkts[q]["pts"])
    for frame, q in enumerate(order):
        pkts[q]["frame"] = frame
    return pkts


DAMAGED_GOP = 30  # frames per GOP of the clip below; the damage is in the second GOP


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("what", ["zeroed-reference", "random-reference", "zeroed-keyframe", "zeroed-disposable"])
def test_damaged_middle_gives_true_frames_and_one_warning(what, backend, workers, tmp_path):
    """A damaged packet mid-stream: every frame returned is exactly the source frame its index
    names (no concealed guesses), the damage is reported once, and nothing before it is lost.
    pyav decodes on from the next keyframe; opencv stops at the damage (a prefix)."""
    spec = ClipSpec(width=96, height=64, num_frames=90, fps=30, gop=DAMAGED_GOP, bframes=3, faststart=True)
    full = clip_bytes(spec)
    pkts = _packets(full)
    in_gop2 = [p for p in pkts if DAMAGED_GOP + 5 <= p["frame"] < 2 * DAMAGED_GOP - 5]
    pick = {
        "zeroed-reference": lambda p: not p["key"] and not p["disp"],
        "random-reference": lambda p: not p["key"] and not p["disp"],
        "zeroed-keyframe": None,
        "zeroed-disposable": lambda p: p["disp"],
    }[what]
    victim = next(p for p in pkts if p["key"] and p["frame"] == DAMAGED_GOP) if pick is None else next(filter(pick, in_gop2))
    damaged = bytearray(full)
    lo, hi = victim["pos"], victim["pos"] + victim["size"]
    damaged[lo:hi] = np.random.default_rng(3).bytes(hi - lo) if what.startswith("random") else bytes(hi - lo)
    path = _write(tmp_path, what, bytes(damaged))
    ref = reference_frames(full)
    save = str(tmp_path / f"{backend}.npy")
    res = _decode(workers, backend, path, save=save, kwargs={"num_frames": 90, "sampler": "uniform"})
    assert res["ok"], (backend, res)
    _check_frames(res, f"{what} via {backend}")
    got = res["indices"]
    np.testing.assert_array_equal(np.load(save), ref[got], err_msg=f"{what} via {backend}")
    assert victim["frame"] not in got, (backend, got)
    assert len(res["warnings"]) == 1 and "incomplete decode" in res["warnings"][0], (backend, res)
    assert set(range(DAMAGED_GOP - 4)) <= set(got), (backend, got)  # the GOP before: intact
    if backend == "pyav":
        # decodes on from the next keyframe (a zeroed packet no longer reads as disposable,
        # so even a lost B-frame costs the rest of its GOP)
        assert set(range(2 * DAMAGED_GOP, 90)) <= set(got), got
    elif backend == "opencv":
        assert got == list(range(len(got))), got  # OpenCV stops at the damage
