"""The pyav backend: exact sparse decode, pixel-identical to a full decode and to OpenCV."""

from __future__ import annotations

import dataclasses
import io
import logging
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest

from conftest import clip_bytes, reference_frames
from trtllm_mmfast import InvalidMediaError, load_video
from trtllm_mmfast.synth import ClipSpec
from trtllm_mmfast.video import _bitstream
from trtllm_mmfast.video import registry as backend_registry
from trtllm_mmfast.video.backend import HOST
from trtllm_mmfast.video.reader import open_video
from trtllm_mmfast.video.sampling import qwen3_vl_indices
from trtllm_mmfast.video.source import MediaSource

av = pytest.importorskip("av")

AV1 = next((c for c in ("libsvtav1", "libaom-av1") if c in av.codecs_available), None)


def remux(data: bytes, fmt: str, *, shift: int = 0, vfr: bool = False) -> bytes:
    """Copy the packets into another container, moving every timestamp by ``shift`` frames
    (a negative shift makes MP4 write an edit list that trims the first frames), and with
    ``vfr`` stretching frame durations monotonically (variable frame rate)."""
    out = io.BytesIO()
    with av.open(io.BytesIO(data)) as src, av.open(out, "w", format=fmt) as dst:
        ist = src.streams.video[0]
        ost = dst.add_stream_from_template(ist)
        step = round(1 / (ist.average_rate * ist.time_base))

        def move(t: int) -> int:
            q = t // step
            return t + shift * step + (16 * q * q if vfr else 0)

        for pkt in src.demux(ist):
            if pkt.dts is None:
                continue
            pkt.pts, pkt.dts = move(pkt.pts), move(pkt.dts)
            pkt.stream = ost
            dst.mux(pkt)
    return out.getvalue()


@dataclass(frozen=True)
class Case:
    id: str
    spec: ClipSpec
    remux: tuple[str, int, bool] | None = None  # (container, shift in frames, vfr)
    opencv: bool = True  # OpenCV can decode it
    opencv_count: bool = True  # OpenCV reports the right frame count for it


def clip(**kw) -> ClipSpec:
    """A small test clip: 3 s of 96x64 at 30 fps unless overridden."""
    return ClipSpec(**{"width": 96, "height": 64, "num_frames": 90, "fps": 30, **kw})


def x264(params: str) -> tuple[tuple[str, str], ...]:
    return (("x264-params", params),)


def x265(params: str) -> tuple[tuple[str, str], ...]:
    return (("x265-params", "log-level=error:" + params),)


X265_OPEN_GOP = x265("keyint=32:min-keyint=32:scenecut=0:b-adapt=0:bframes=3:open-gop=1")

CASES = [
    Case("h264-g250-b0", clip(gop=250, bframes=0)),
    Case("h264-g250-b3", clip(gop=250, bframes=3)),
    Case("h264-g30-b0", clip(gop=30, bframes=0)),
    Case("h264-g30-b3-pyramid", clip(gop=30, bframes=3, options=x264("keyint=30:min-keyint=30:b-pyramid=normal"))),
    Case("h264-open-gop", clip(gop=12, bframes=3, options=x264("keyint=12:min-keyint=12:open-gop=1"))),
    Case("hevc-g30", clip(codec="libx265", gop=30)),
    # open GOPs: CRA keyframes with RASL_N / RASL_R leading pictures
    Case("hevc-open-gop", clip(codec="libx265", options=X265_OPEN_GOP)),
    # temporal sub-layers 0..2 (TSA_N only in the top one)
    Case("hevc-temporal-layers", clip(codec="libx265", options=x265("temporal-layers=3:b-adapt=0:bframes=7"))),
    Case("vp9-webm", clip(codec="libvpx-vp9", container="webm", gop=30)),
    Case("mpeg4-b2", clip(codec="mpeg4", gop=12, bframes=2)),
    Case("h264-10bit", clip(width=64, height=48, num_frames=60, pix_fmt="yuv420p10le", gop=12, bframes=3)),
    Case("h264-odd-444", clip(width=65, height=49, num_frames=60, pix_fmt="yuv444p", gop=12, bframes=3)),
    Case("h264-start-pts", clip(gop=12, bframes=3), remux=("mp4", 10, False)),  # non-zero start pts
    Case("h264-edit-list-trim", clip(gop=12, bframes=3), remux=("mp4", -5, False), opencv_count=False),
    Case("h264-mpegts", clip(gop=12, bframes=3), remux=("mpegts", 0, False)),
    Case("h264-mkv-start-pts", clip(gop=12, bframes=3), remux=("matroska", 10, False), opencv_count=False),
    Case("h264-vfr", clip(gop=12, bframes=3), remux=("mp4", 0, True)),
]
if AV1:
    CASES.append(Case("av1", clip(codec=AV1, gop=30), opencv=False))  # OpenCV's FFmpeg has no AV1 decoder here

# num_frames=200 is more than any clip has: the sampler repeats indices
REQUESTS = [{"fps": 0.5}, {"fps": 1}, {"fps": 2}, {"fps": 8}] + [{"num_frames": n} for n in (4, 32, 200)]

_BYTES: dict[Case, bytes] = {}
_REFS: dict[Case, np.ndarray] = {}


def case_bytes(case: Case) -> bytes:
    if case not in _BYTES:
        data = clip_bytes(case.spec)
        _BYTES[case] = remux(data, case.remux[0], shift=case.remux[1], vfr=case.remux[2]) if case.remux else data
    return _BYTES[case]


def case_ref(case: Case) -> np.ndarray:
    if case not in _REFS:
        _REFS[case] = reference_frames(case_bytes(case))
    return _REFS[case]


def open_pyav(data: bytes, threads: int = 1):
    return backend_registry.get("pyav").open(MediaSource(data=data), decoder_threads=threads)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: "-".join(f"{k}{v}" for k, v in r.items()))
def test_pixel_exact_against_full_decode_and_opencv(case, req, caplog):
    data, ref = case_bytes(case), case_ref(case)
    video = load_video(data, backend="pyav", **req)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text  # intact: no damage report
    meta = video.metadata
    assert meta.backend == "pyav"
    assert meta.total_num_frames == len(ref)
    assert (meta.width, meta.height) == (case.spec.width, case.spec.height)
    idx = list(meta.frames_indices)
    assert idx == qwen3_vl_indices(meta.total_num_frames, meta.fps, **req).tolist()  # nothing missing
    f = video.frames
    assert f.dtype == np.uint8 and f.flags.c_contiguous and f.shape == (len(idx), meta.height, meta.width, 3)
    np.testing.assert_array_equal(f, ref[idx])
    if not case.opencv:
        return
    if case.opencv_count:
        cv = load_video(data, backend="opencv", **req)
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
        assert dataclasses.replace(cv.metadata, backend="pyav") == meta
        np.testing.assert_array_equal(cv.frames, f)
    else:  # OpenCV miscounts these (edit-list trims / start offsets): compare at the same indices
        with open_video(data, backend="opencv") as cv_video:
            cv = cv_video.decode(idx)
        assert list(cv.metadata.frames_indices) == idx
        np.testing.assert_array_equal(cv.frames, f)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_frame_threads_are_exact(case):
    video = load_video(case_bytes(case), backend="pyav", num_frames=8, decoder_threads=2)
    np.testing.assert_array_equal(video.frames, case_ref(case)[list(video.metadata.frames_indices)])
    assert len(video.metadata.frames_indices) == 8


def test_nal_parsers():
    idr, non_ref_b, ref_b = b"\x65\x88", b"\x01\x9e", b"\x21\x9e"  # nal_ref_idc 3 / 0 / 1
    sei, aud = b"\x06\x05\x01", b"\x09\xf0"

    def avcc(*nals: bytes) -> bytes:
        return b"".join(len(n).to_bytes(4, "big") + n for n in nals)

    def annexb(*nals: bytes) -> bytes:
        return b"".join(b"\0\0\0\1" + n for n in nals)

    for pack, size in ((avcc, 4), (annexb, 0)):
        assert _bitstream.h264_disposable(pack(aud, sei, non_ref_b, non_ref_b), size)
        assert not _bitstream.h264_disposable(pack(aud, non_ref_b, ref_b), size)  # one reference slice
        assert not _bitstream.h264_disposable(pack(idr), size)
        assert not _bitstream.h264_disposable(pack(sei), size)  # no slice at all
    assert not _bitstream.h264_disposable(avcc(sei, non_ref_b) + b"\0", 4)  # prefixes do not tile the packet
    assert not _bitstream.h264_disposable(annexb(non_ref_b), 4)  # Annex B read as length-prefixed
    # HEVC: (type << 1, temporal_id + 1); TRAIL_N=0, TRAIL_R=1, TSA_N=2, RASL_R=9, CRA=21, prefix SEI=39
    hevc = lambda t, tid, body=b"\xaf": bytes([t << 1, tid + 1]) + body  # noqa: E731
    assert _bitstream.hevc_vcl(avcc(hevc(39, 0), hevc(2, 2), hevc(2, 2)), 4) == (True, 2)
    assert _bitstream.hevc_vcl(annexb(hevc(0, 0)), 0) == (True, 0)
    assert _bitstream.hevc_vcl(avcc(hevc(1, 1)), 4) == (False, 1)
    assert _bitstream.hevc_vcl(avcc(hevc(9, 0)), 4) == (False, 0)
    assert _bitstream.hevc_vcl(avcc(hevc(39, 0)), 4) == (False, -1)
    # NAL length size from the decoder configuration records
    assert _bitstream.nal_length_size(bytes([1, 0x64, 0, 0x0A, 0xFF, 0xE1, 0]), "h264") == 4
    assert _bitstream.nal_length_size(bytes([1] + [0] * 20 + [0x0F, 0]), "hevc") == 4
    assert _bitstream.nal_length_size(b"", "h264") == 0
    assert _bitstream.nal_length_size(b"\0\0\0\1\x67", "h264") == 0


def _decoded_picture_types(data: bytes) -> dict[int, str]:
    from av.video.frame import PictureType

    with av.open(io.BytesIO(data)) as c:
        return {f.pts: PictureType(f.pict_type).name for f in c.decode(video=0)}


def test_disposable_non_targets_are_never_sent():
    data = clip_bytes(clip(gop=250, bframes=3))  # one GOP, B-pyramid (x264 default)
    video = open_pyav(data)
    try:
        targets = np.array([10, 40, 70])
        decoded = video.decode(targets, HOST)
        frames, got = decoded.frames, decoded.indices
        stats, index = video.stats, video.index
        sent = [index.pts[q] for q in stats.sent]
        target_pts = {index.pts[index.frame_packet[t]] for t in targets}
        last = max(index.frame_packet[t] for t in targets)
        disposable = {p for p, d in zip(index.pts[: last + 1], index.disposable) if d}
    finally:
        video.close()
    np.testing.assert_array_equal(frames, reference_frames(data)[targets])
    assert got.tolist() == targets.tolist()
    skipped = disposable - target_pts
    assert skipped and stats.packets_skipped == len(skipped)
    assert not skipped & set(sent), "a disposable non-target frame was sent to the decoder"
    assert stats.packets_sent == len(sent) == last + 1 - len(skipped)  # everything else up to the last target
    # independent check: everything skipped decodes (in a full decode) as a B picture
    types = _decoded_picture_types(data)
    assert {types[p] for p in skipped} == {"B"}
    assert stats.gops_skipped == 0 and stats.frames_converted == len(targets)


def test_hevc_disposable_matches_the_encoder():
    """x265 flags its non-reference pictures and the MP4 muxer stores that (sdtp): our parse agrees."""
    data = clip_bytes(clip(codec="libx265", options=X265_OPEN_GOP))
    with av.open(io.BytesIO(data)) as c:
        flags = [p.is_disposable for p in c.demux(video=0) if p.size]
    video = open_pyav(data)
    try:
        assert list(video.index.disposable) == flags and any(flags)
    finally:
        video.close()


def test_whole_gops_without_targets_are_skipped():
    data = clip_bytes(clip(num_frames=150, gop=10, bframes=3, options=x264("keyint=10:min-keyint=10:scenecut=0")))
    video = open_pyav(data)
    try:
        targets = np.array([5, 75, 145])
        frames = video.decode(targets, HOST).frames
        stats = video.stats
        assert video.index.num_gops == 15
    finally:
        video.close()
    np.testing.assert_array_equal(frames, reference_frames(data)[targets])
    assert stats.gops_skipped == 12 and stats.seeks >= 3
    assert stats.packets_sent <= 3 * 10


def test_repeated_decodes_and_frame_threads_are_exact():
    data = clip_bytes(clip(gop=30, bframes=3))
    ref = reference_frames(data)
    video = open_pyav(data, threads=2)
    try:
        assert video.decoder_threads == 2
        for idx in ([89], [0, 1, 2, 88], [3, 3, 3, 50, 51], list(range(90))):
            decoded = video.decode(np.array(idx), HOST)
            assert decoded.indices.tolist() == idx and decoded.damage is None
            np.testing.assert_array_equal(decoded.frames, ref[idx])
    finally:
        video.close()


class _NoSeek:
    """A container whose seek always fails: the backend must reopen and read from the start."""

    def __init__(self, container) -> None:
        self._c = container

    def __getattr__(self, name):
        return getattr(self._c, name)

    def seek(self, *args, **kwargs):
        raise av.FFmpegError(38, "seek not supported")


def test_failed_seeks_fall_back_to_reopening(monkeypatch, no_leaks):
    data = clip_bytes(clip(gop=12, bframes=3))
    ref = reference_frames(data)  # before av.open is wrapped
    real_open = av.open
    monkeypatch.setattr(av, "open", lambda *args, **kwargs: _NoSeek(real_open(*args, **kwargs)))
    video = open_pyav(data)
    try:
        targets = np.array([3, 40, 41, 80])
        decoded = video.decode(targets, HOST)
        frames, got = decoded.frames, decoded.indices
    finally:
        video.close()
    assert got.tolist() == targets.tolist()
    np.testing.assert_array_equal(frames, ref[targets])


def test_auto_picks_pyav(small_clip):
    assert backend_registry.resolve("auto").name == "pyav"
    assert load_video(small_clip, fps=2).metadata.backend == "pyav"


def test_auto_falls_back_to_opencv_without_av(monkeypatch, small_clip):
    monkeypatch.setitem(sys.modules, "av", None)  # "import av" now raises ImportError
    reason = backend_registry.get("pyav").unavailable_reason()
    assert reason and "av" in reason
    assert backend_registry.resolve("auto").name == "opencv"
    with pytest.raises(ImportError, match="pyav"):
        load_video(small_clip, backend="pyav")


def test_av_is_imported_lazily():
    code = "import sys, trtllm_mmfast.video.pyav_backend; print('av' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _bad_inputs() -> dict[str, bytes]:
    data = clip_bytes(clip(gop=30, bframes=3))  # moov at the end: a cut-off file has no index
    return {
        "zeros": b"\0" * 16,
        "random": np.random.default_rng(0).bytes(5000),
        "text": b"this is not a video\n" * 100,
        "truncated": data[: len(data) // 2],
    }


@pytest.mark.parametrize("name", ["zeros", "random", "text", "truncated"])
@pytest.mark.parametrize("as_path", [False, True], ids=["bytes", "path"])
def test_bad_input_raises_invalid_media(name, as_path, tmp_path, no_leaks):
    data = _bad_inputs()[name]
    src = data
    if as_path:
        src = tmp_path / "bad.mp4"
        src.write_bytes(data)
    with pytest.raises(InvalidMediaError, match="not a decodable video|no video stream"):
        load_video(src, backend="pyav")


def test_damaged_middle_returns_what_decoded(no_leaks):
    spec = clip(gop=30, bframes=3, faststart=True)
    clean = clip_bytes(spec)
    damaged = bytearray(clean)
    mid = len(damaged) // 2
    damaged[mid : mid + 300] = np.random.default_rng(1).bytes(300)
    video = load_video(bytes(damaged), backend="pyav", num_frames=8)
    idx = list(video.metadata.frames_indices)
    assert 0 < len(idx) <= 8 and video.frames.shape[0] == len(idx)
    # the first GOP lies before the damage: exact
    ref = reference_frames(clean)
    first_gop = [i for i in idx if i < 30]
    np.testing.assert_array_equal(video.frames[: len(first_gop)], ref[first_gop])


def test_path_source_is_exact_and_closed(clip_file, no_leaks):
    video = load_video(clip_file, backend="pyav", fps=4)
    ref = reference_frames(clip_file.read_bytes())
    np.testing.assert_array_equal(video.frames, ref[list(video.metadata.frames_indices)])


def test_packet_index_and_run_plan_are_pure():
    """Two closed GOPs of 4 in decode order I P B b | I P B b (pts order I B b P), no media needed."""
    from trtllm_mmfast.video._packet_index import build_index, plan_runs

    pts = [0, 3, 1, 2, 4, 7, 5, 6]
    index = build_index(
        pts, [p - 1 for p in pts], key=[True, False, False, False] * 2, discard=[False] * 8,
        disp=[False, False, False, True] * 2,
    )  # fmt: skip
    assert index.sparse and index.num_gops == 2 and index.total_num_frames == index.num_packets == 8
    assert index.frame_packet == (0, 2, 3, 1, 4, 6, 7, 5)  # frame i -> its packet (decode order)
    assert index.gop_start == (0, 0, 0, 0, 4, 4, 4, 4) and index.nondisp_before == (0, 1, 2, 3, 3, 4, 5, 6, 6)
    plan = plan_runs(index, [0, 6])  # frame 0 is packet 0; frame 6 is packet 7 (GOP 1, disposable)
    assert plan.runs == ((0, 0), (4, 7)) and plan.target_packets == {0, 7} and dict(plan.slot_of) == {0: 0, 6: 1}
    assert plan_runs(index, [1, 4]).runs == ((0, 4),)  # (0, 2) and (4, 4), only disposable packet 3 between: joined
    with pytest.raises(dataclasses.FrozenInstanceError):
        index.sparse = False  # type: ignore[misc]


def test_truncated_scan_keeps_only_frames_numbered_for_sure():
    from trtllm_mmfast.video._packet_index import build_index

    # decode order I P B: the packet after the cut would be presented before pts 3 (dts 1 read last)
    index = build_index([0, 3, 1], [-1, 0, 1], [True, False, False], [False] * 3, [False, False, True], truncated=True)
    assert index.frame_packet == (0, 2)  # pts 3 lies past the last dts read: left out
    hevc = build_index([0, 1], [0, 1], [True, False], [False] * 2, [True, True], tids=[0, 1])
    assert hevc.disposable == (False, True)  # only the highest temporal sub-layer is never referenced
