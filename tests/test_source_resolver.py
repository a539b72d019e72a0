"""One source resolver, two entries: resolve_source (sync) and resolve_source_async (adds http(s))."""

from __future__ import annotations

import asyncio
import base64
import pathlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from trtllm_mmfast import InvalidMediaError, Limits, MediaTooLargeError, load_video
from trtllm_mmfast.errors import BlockedAddressError
from trtllm_mmfast.video.fetch import fetch_failures
from trtllm_mmfast.video.source import MediaSource, resolve_source, resolve_source_async, source_kind

pytest.importorskip("aiohttp.web")
# The loopback http server fixture and helpers of test_fetch (tests/ is on sys.path).
from test_fetch import local, run, server  # noqa: E402, F401


def _forms(small_clip: bytes, clip_file: pathlib.Path) -> dict[str, object]:
    return {
        "bytes": small_clip,
        "memoryview": memoryview(small_clip),
        "str path": str(clip_file),
        "Path": clip_file,
        "file URL": clip_file.as_uri(),
        "data URL": "data:video/mp4;base64," + base64.b64encode(small_clip).decode(),
    }


def test_kinds_are_dispatched_in_one_place(small_clip, clip_file):
    kinds = {name: source_kind(src) for name, src in _forms(small_clip, clip_file).items()}
    assert kinds == {
        "bytes": "bytes", "memoryview": "bytes", "str path": "path", "Path": "path", "file URL": "file", "data URL": "data",
    }
    assert source_kind("HTTPS://example.com/v.mp4") == "http"
    assert source_kind(r"C:\videos\v.mp4") == "path"  # one-letter scheme: a Windows drive
    assert source_kind(MediaSource(data=b"x")) == "resolved"
    with pytest.raises(InvalidMediaError, match="unsupported URL scheme 'ftp'"):
        source_kind("ftp://example.com/v.mp4")
    with pytest.raises(InvalidMediaError, match="empty source string"):
        source_kind("")
    with pytest.raises(TypeError, match="got int"):
        source_kind(3)


def test_async_entry_resolves_like_the_sync_one(small_clip, clip_file):
    class CountingExecutor(ThreadPoolExecutor):
        submitted = 0

        def submit(self, *args, **kwargs):
            CountingExecutor.submitted += 1
            return super().submit(*args, **kwargs)

    forms = _forms(small_clip, clip_file)
    with CountingExecutor(max_workers=1) as pool:

        async def go():
            return {name: await resolve_source_async(src, executor=pool) for name, src in forms.items()}

        got = asyncio.run(go())
    for name, src in forms.items():
        assert got[name] == resolve_source(src), name
    # paths, file: and data: URLs (filesystem checks, base64) ran off the loop; bytes inline
    assert CountingExecutor.submitted == 4


def test_sync_entry_refuses_http_and_points_at_the_async_one():
    with pytest.raises(InvalidMediaError, match="fetched by the server integration.*resolve_source_async"):
        resolve_source("https://example.com/v.mp4")


def test_http_source_is_labelled_with_its_url(server, small_clip):
    base, port = server
    url = f"{base}/clip.mp4"
    src = run(resolve_source_async(url, fetch_policy=local(port)))
    assert src == MediaSource(data=small_clip, label=url)
    want = load_video(small_clip, fps=4)
    got = load_video(src, fps=4)  # a resolved source passes through load_video as it is
    assert got.metadata == want.metadata
    np.testing.assert_array_equal(got.frames, want.frames)
    with pytest.raises(MediaTooLargeError, match=f"^{url}: size in bytes {len(small_clip)} exceeds Limits.max_bytes=1000"):
        run(resolve_source_async(url, fetch_policy=local(port), limits=Limits(max_bytes=1000)))


def test_http_fetch_errors_name_the_url_and_are_counted(server):
    base, port = server
    url = f"{base}/clip.mp4"
    before = fetch_failures()
    with pytest.raises(BlockedAddressError, match=f"{url}: refusing to connect"):
        run(resolve_source_async(url))  # the default policy: public addresses only
    with pytest.raises(MediaTooLargeError, match="Content-Length") as e:
        run(resolve_source_async(url, fetch_policy=local(port, max_bytes=1000)))
    assert (e.value.field, e.value.limit) == ("FetchPolicy.max_bytes", 1000) and e.value.value > 1000
    after = fetch_failures()
    assert after.get("BlockedAddressError", 0) - before.get("BlockedAddressError", 0) == 1
    assert after.get("MediaTooLargeError", 0) - before.get("MediaTooLargeError", 0) == 1


def test_a_cancelled_fetch_is_not_a_failure(server):
    base, port = server
    before = fetch_failures()

    async def go():
        task = asyncio.create_task(resolve_source_async(f"{base}/slow", fetch_policy=local(port)))
        await asyncio.sleep(0.2)  # the server holds /slow open for seconds: the fetch is in flight
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(go())
    assert fetch_failures() == before
