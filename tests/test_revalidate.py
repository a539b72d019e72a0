"""Conditional GETs for cached http(s) videos (``load_video_async(url, cache=, revalidate=)``)
against a loopback server that honours ``If-None-Match`` / ``If-Modified-Since``."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from conftest import clip_bytes
from test_fetch import _free_port, serve_in_thread
from trtllm_mmfast import load_video, load_video_async
from trtllm_mmfast.cache import VideoCache
from trtllm_mmfast.synth import ClipSpec
from trtllm_mmfast.video.fetch import FetchPolicy
from trtllm_mmfast.video.revalidate import UrlValidators

web = pytest.importorskip("aiohttp.web")

A = ClipSpec(width=96, height=64, num_frames=60, fps=30, gop=30)
B = ClipSpec(width=96, height=64, num_frames=60, fps=30, gop=30, seed=3)


@pytest.fixture
def origin():
    """Serves ``state["body"]`` at /v.mp4 with an ETag (or only Last-Modified, or neither);
    counts full bodies sent and 304s."""
    state = {"body": clip_bytes(A), "etag": '"a"', "last_modified": None, "sent": 0, "not_modified": 0}

    async def video(request):
        if state["etag"] and request.headers.get("If-None-Match") == state["etag"]:
            state["not_modified"] += 1
            return web.Response(status=304, headers={"ETag": state["etag"]})
        lm = state["last_modified"]
        if lm and not state["etag"] and request.headers.get("If-Modified-Since") == lm:
            state["not_modified"] += 1
            return web.Response(status=304)
        state["sent"] += 1
        headers = {k: v for k, v in (("ETag", state["etag"]), ("Last-Modified", lm)) if v}
        return web.Response(body=state["body"], content_type="video/mp4", headers=headers)

    app = web.Application()
    app.router.add_get("/v.mp4", video)
    port = _free_port()
    with serve_in_thread(app, [(port, None)]):
        yield f"http://127.0.0.1:{port}/v.mp4", FetchPolicy(allow_hosts=(f"127.0.0.1:{port}",)), state


def _loads(url, policy, cache, validators, n):
    async def go():
        return [await load_video_async(url, fetch_policy=policy, cache=cache, revalidate=validators) for _ in range(n)]

    return asyncio.run(go())


def test_a_304_is_answered_from_the_cache(origin):
    url, policy, state = origin
    cache, validators = VideoCache(64 << 20), UrlValidators()
    first, second, third = _loads(url, policy, cache, validators, 3)
    assert state["sent"] == 1 and state["not_modified"] == 2  # one download, then two conditional GETs
    assert second is first and third is first
    assert np.array_equal(first.frames, load_video(clip_bytes(A)).frames)
    assert validators.counts["not_modified"] == 2


def test_changed_content_is_loaded_never_the_old_frames(origin):
    url, policy, state = origin
    cache, validators = VideoCache(64 << 20), UrlValidators()
    (old,) = _loads(url, policy, cache, validators, 1)
    state["body"], state["etag"] = clip_bytes(B), '"b"'  # the URL now names other bytes
    (new,) = _loads(url, policy, cache, validators, 1)
    assert state["sent"] == 2 and validators.counts["changed"] == 1
    assert np.array_equal(new.frames, load_video(clip_bytes(B)).frames)
    assert not np.array_equal(new.frames, old.frames)


def test_an_evicted_entry_is_fetched_again_in_full(origin):
    url, policy, state = origin
    cache, validators = VideoCache(64 << 20), UrlValidators()
    _loads(url, policy, cache, validators, 1)
    cache.clear()
    (again,) = _loads(url, policy, cache, validators, 1)
    assert state["not_modified"] == 1 and state["sent"] == 2 and validators.counts["refetched"] == 1
    assert np.array_equal(again.frames, load_video(clip_bytes(A)).frames)


def test_last_modified_only_and_servers_without_validators(origin):
    url, policy, state = origin
    state["etag"], state["last_modified"] = None, "Wed, 21 Oct 2026 07:28:00 GMT"
    cache, validators = VideoCache(64 << 20), UrlValidators()
    _loads(url, policy, cache, validators, 2)
    assert state["sent"] == 1 and state["not_modified"] == 1
    state["last_modified"] = None  # nothing to revalidate with: every request downloads
    validators = UrlValidators()
    _loads(url, policy, cache, validators, 2)
    assert state["sent"] == 3 and len(validators) == 0


def test_other_sampling_of_a_revalidated_url_is_decoded(origin):
    url, policy, state = origin
    cache, validators = VideoCache(64 << 20), UrlValidators()

    async def go():
        a = await load_video_async(url, fetch_policy=policy, cache=cache, revalidate=validators, fps=2)
        b = await load_video_async(url, fetch_policy=policy, cache=cache, revalidate=validators, num_frames=8)
        return a, b

    a, b = asyncio.run(go())
    assert len(a) != len(b) and state["not_modified"] == 1 and state["sent"] == 2  # 304, no num_frames=8 entry: refetched
    assert validators.counts["refetched"] == 1
