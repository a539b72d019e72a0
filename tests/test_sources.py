"""Every source form gives the same frames; bad input gives a typed, helpful error; nothing leaks."""

from __future__ import annotations

import base64
import logging
import pathlib

import numpy as np
import pytest

from conftest import BACKENDS
from trtllm_mmfast import InvalidMediaError, Limits, MediaTooLargeError, MMFastError, load_video


def test_every_source_form_gives_the_same_frames(small_clip, clip_file, no_leaks):
    want = load_video(small_clip, fps=4)
    b64 = base64.b64encode(small_clip).decode()
    forms = {
        "bytes": small_clip,
        "bytearray": bytearray(small_clip),
        "memoryview": memoryview(small_clip),
        "str path": str(clip_file),
        "Path": pathlib.Path(clip_file),
        "file URL": clip_file.as_uri(),  # percent-encodes the space
        "data URL": f"data:video/mp4;base64,{b64}",
    }
    for name, src in forms.items():
        got = load_video(src, fps=4)
        assert got.metadata == want.metadata, name
        np.testing.assert_array_equal(got.frames, want.frames, err_msg=name)


def _png() -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", np.zeros((16, 16, 3), np.uint8))
    assert ok
    return buf.tobytes()


BAD_INPUTS = {
    "empty bytes": (b"", "0 bytes"),
    "random bytes": (np.random.default_rng(1).integers(0, 256, 20000, dtype=np.uint8).tobytes(), "not a decodable video"),
    "text": (b"hello, this is not a video at all\n" * 100, "not a decodable video"),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_bytes_raise_invalid_media(name, backend, no_leaks):
    data, msg = BAD_INPUTS[name]
    with pytest.raises(InvalidMediaError, match=msg):
        load_video(data, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_image_file_is_not_a_video(backend, no_leaks):
    with pytest.raises(InvalidMediaError):
        load_video(_png(), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9])
def test_truncated_mp4_index_at_end(cut, backend, small_clip, no_leaks):
    # moov after mdat (the encoder default): a cut file has no index, nothing is decodable
    with pytest.raises(InvalidMediaError, match="not a decodable video"):
        load_video(small_clip[: int(len(small_clip) * cut)], num_frames=90, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_mp4_faststart_returns_the_frames_it_has(cut, backend, no_leaks, caplog):
    from conftest import clip_bytes, reference_frames
    from trtllm_mmfast.synth import ClipSpec

    full = clip_bytes(ClipSpec(width=96, height=64, num_frames=90, fps=30, gop=30, bframes=3, faststart=True))
    v = load_video(full[: int(len(full) * cut)], num_frames=90, sampler="uniform", backend=backend)
    got = list(v.metadata.frames_indices)
    assert 0 < len(got) < 90 and got == list(range(len(got)))  # a prefix: the frames before the cut
    np.testing.assert_array_equal(v.frames, reference_frames(full)[got])
    # opencv trusts the mp4 index (90 frames); pyav counts the packets actually present
    assert len(got) <= v.metadata.total_num_frames <= 90
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("trtllm_mmfast")]
    assert len(warnings) == 1 and "incomplete decode" in warnings[0].getMessage(), caplog.text


def test_bad_urls_and_paths(tmp_path, no_leaks):
    cases = [
        ("data:video/mp4;base64,@@not-base64@@", "not valid base64"),
        ("data:image/png;base64,AAAA", "not a video type"),
        ("data:video/mp4,rawpayload", "base64"),
        ("data:nonsense", "malformed data URL"),
        (str(tmp_path / "missing.mp4"), "not found"),
        (str(tmp_path), "not a regular file"),
        ("ftp://example.com/x.mp4", "unsupported URL scheme"),
        ("file://otherhost/x.mp4", "local file"),
    ]
    for src, msg in cases:
        with pytest.raises(InvalidMediaError, match=msg):
            load_video(src)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InvalidMediaError, match="0 bytes"):
        load_video(empty)
    with pytest.raises(TypeError):
        load_video(12345)  # type: ignore[arg-type]


def test_limits_fail_before_decoding(small_clip):
    cases = [
        (Limits(max_bytes=100), {}, r"size in bytes \d+ exceeds Limits.max_bytes=100"),
        (Limits(max_pixels_per_frame=1000), {}, r"frame size 96x64 = 6144 exceeds Limits.max_pixels_per_frame=1000"),
        (Limits(max_frames=10), {}, r"frame count 90 exceeds Limits.max_frames=10"),
        (Limits(max_duration_s=1.0), {}, r"duration in seconds 3 exceeds Limits.max_duration_s=1"),
        (Limits(max_output_frames=10), {"num_frames": 50}, r"sampled frames 50 exceeds Limits.max_output_frames=10"),
    ]
    for limits, kwargs, msg in cases:
        with pytest.raises(MediaTooLargeError, match=msg):
            load_video(small_clip, limits=limits, **kwargs)
    # the positional shape: Limits(max_bytes, max_pixels_per_frame, max_frames, max_duration_s)
    assert Limits(1, 2, 3, 4.0) == Limits(max_bytes=1, max_pixels_per_frame=2, max_frames=3, max_duration_s=4.0)
    assert load_video(small_clip, num_frames=8, limits=Limits(None, None, None, None, None)).frames.shape[0] == 8


def test_errors_are_the_builtins_callers_catch():
    from trtllm_mmfast import BackendUnavailableError, DecodeError

    assert issubclass(InvalidMediaError, ValueError) and issubclass(InvalidMediaError, MMFastError)
    assert issubclass(MediaTooLargeError, InvalidMediaError)
    assert issubclass(DecodeError, RuntimeError) and issubclass(DecodeError, MMFastError)
    assert issubclass(BackendUnavailableError, ImportError) and issubclass(BackendUnavailableError, MMFastError)
    e = BackendUnavailableError("pyav", "pyav", "cannot import av")
    assert "pip install 'trtllm-mmfast[pyav]'" in str(e) and "cannot import av" in str(e)


def test_unknown_backend_lists_valid_names(small_clip):
    with pytest.raises(ValueError, match="opencv"):
        load_video(small_clip, backend="nope")


def test_bad_decoder_threads(small_clip):
    with pytest.raises(ValueError, match="decoder_threads"):
        load_video(small_clip, decoder_threads=0)
