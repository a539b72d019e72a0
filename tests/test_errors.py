"""The error tree of errors.py: builtins callers catch, MediaTooLargeError's details, the decode timeout."""

from __future__ import annotations

import asyncio
import base64
import pickle
import threading

import pytest

from trtllm_mmfast import DecodeError, InvalidMediaError, Limits, MediaTooLargeError, load_video
from trtllm_mmfast import errors
from trtllm_mmfast.runtime import executors
from trtllm_mmfast.runtime.pipeline import load_video_async
from trtllm_mmfast.video import fetch as fetch_mod
from trtllm_mmfast.video.reader import OpenedVideo


def test_every_error_lives_in_errors_and_old_imports_keep_working():
    assert fetch_mod.FetchError is errors.FetchError
    assert fetch_mod.BlockedAddressError is errors.BlockedAddressError
    assert issubclass(errors.BlockedAddressError, errors.FetchError)
    assert issubclass(errors.FetchError, InvalidMediaError)
    assert issubclass(errors.DecodeTimeoutError, DecodeError) and issubclass(errors.DecodeTimeoutError, TimeoutError)
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.MMFastError)
        assert name in errors.__doc__, f"{name} is missing from the tree drawn in errors.py's docstring"


@pytest.mark.parametrize(
    "limits, kwargs, field, limit, value",
    [
        (Limits(max_bytes=1000), {}, "Limits.max_bytes", 1000, None),  # value: the clip's size, below
        (Limits(max_pixels_per_frame=1000), {}, "Limits.max_pixels_per_frame", 1000, 96 * 64),
        (Limits(max_frames=50), {}, "Limits.max_frames", 50, 90),
        (Limits(max_duration_s=1.5), {}, "Limits.max_duration_s", 1.5, 3.0),
        (Limits(max_output_frames=10), {"num_frames": 50}, "Limits.max_output_frames", 10, 50),
    ],
)
def test_media_too_large_names_the_limit_and_the_value(small_clip, limits, kwargs, field, limit, value):
    with pytest.raises(MediaTooLargeError) as e:
        load_video(small_clip, limits=limits, **kwargs)
    assert (e.value.field, e.value.limit) == (field, limit)
    assert e.value.value == (len(small_clip) if value is None else value)
    assert f"{field}={limit:g}" in str(e.value)  # the message names the same knob


def test_data_url_over_the_byte_limit_is_refused_before_decoding(small_clip):
    url = "data:video/mp4;base64," + base64.b64encode(small_clip).decode()
    with pytest.raises(MediaTooLargeError, match="data URL payload") as e:
        load_video(url, limits=Limits(max_bytes=100))
    assert (e.value.field, e.value.limit, e.value.value) == ("Limits.max_bytes", 100, len(small_clip))


def test_details_survive_pickling_and_stay_optional():
    e = pickle.loads(pickle.dumps(MediaTooLargeError("too big", field="Limits.max_bytes", limit=1, value=2)))
    assert (str(e), e.field, e.limit, e.value) == ("too big", "Limits.max_bytes", 1, 2)
    old_style = MediaTooLargeError("too big")  # raised without details: still a valid error
    assert (old_style.field, old_style.limit, old_style.value) == (None, None, None)
    f = pickle.loads(pickle.dumps(errors.BlockedAddressError("refused", status=None)))
    assert type(f) is errors.BlockedAddressError and f.status is None
    assert pickle.loads(pickle.dumps(errors.FetchError("HTTP 404", status=404))).status == 404


def test_decode_timeout_is_a_decode_timeout_error(small_clip, monkeypatch):
    gate = threading.Event()
    original = OpenedVideo.decode

    def blocked_decode(self, indices, **kwargs):
        gate.wait(30)  # held until the caller has seen its timeout
        return original(self, indices, **kwargs)

    monkeypatch.setattr(OpenedVideo, "decode", blocked_decode)

    async def go():
        try:
            with pytest.raises(errors.DecodeTimeoutError, match="timed out after 0.2 s") as e:
                await load_video_async(small_clip, fps=2, backend="opencv", timeout=0.2)
        finally:
            gate.set()
        return e.value

    try:
        err = asyncio.run(go())
    finally:
        executors.shutdown()  # joins the worker, which finishes the released decode
    assert isinstance(err, DecodeError) and isinstance(err, TimeoutError)
