"""http(s) fetching: a loopback aiohttp server, the SSRF guard, caps, timeouts, redirects."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import threading
import time
from typing import Iterator

import numpy as np
import pytest

from trtllm_mmfast import InvalidMediaError, MediaTooLargeError, load_video
from trtllm_mmfast.runtime.pipeline import load_video_async, release_frames
from trtllm_mmfast.video import fetch as fetch_mod
from trtllm_mmfast.video.fetch import (
    BlockedAddressError,
    FetchError,
    FetchPolicy,
    address_problem,
    fetch,
    server_fetch_policy,
)

web = pytest.importorskip("aiohttp.web")

SLOW_S = 3.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def media_app(small_clip: bytes) -> web.Application:
    """The routes every test server has: the clip, ``/redirect/{n}`` (n hops), ``/to?url=``."""

    async def clip(request):
        return web.Response(body=small_clip, content_type="video/mp4")

    async def redirect(request):
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/redirect/{n - 1}" if n > 1 else "/clip.mp4")  # n redirects

    async def to(request):
        raise web.HTTPFound(request.query["url"])

    app = web.Application()
    app.router.add_get("/clip.mp4", clip)
    app.router.add_get("/redirect/{n}", redirect)
    app.router.add_get("/to", to)
    return app


@contextlib.contextmanager
def serve_in_thread(app: web.Application, sites: list[tuple[int, ssl.SSLContext | None]]) -> Iterator[None]:
    """Serve ``app`` on 127.0.0.1 at each (port, TLS context or None) from a background loop."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
    loop.run_until_complete(runner.setup())
    for port, tls in sites:
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture(scope="module")
def server(small_clip):
    """Loopback http server in a background thread; yields (base URL, port)."""
    port = _free_port()

    async def slow(request):
        resp = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        await resp.prepare(request)
        await resp.write(small_clip[:100])
        await asyncio.sleep(SLOW_S)
        await resp.write(small_clip[100:])
        return resp

    async def chunked(request):  # no Content-Length: only the streaming cap can stop it
        resp = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for _ in range(64):
            await resp.write(b"\0" * 4096)
        return resp

    async def page(request):
        return web.Response(text="<html><body>not a video</body></html>", content_type="text/html")

    app = media_app(small_clip)
    app.router.add_get("/slow", slow)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/page.html", page)
    with serve_in_thread(app, [(port, None)]):
        yield f"http://127.0.0.1:{port}", port


def local(port: int | None = None, **kw) -> FetchPolicy:
    """Allow the loopback server (only its port, when given)."""
    return FetchPolicy(allow_hosts=(f"127.0.0.1:{port}" if port else "127.0.0.1",), **kw)


def run(coro):
    return asyncio.run(coro)


# ---- success ------------------------------------------------------------------------------------


def test_fetch_decodes_like_bytes(server, small_clip):
    base, port = server
    want = load_video(small_clip, fps=4)

    async def go():
        v = await load_video_async(f"{base}/clip.mp4", fps=4, fetch_policy=local(port))
        release_frames(v)
        return v

    got = run(go())
    assert got.metadata == want.metadata
    np.testing.assert_array_equal(got.frames, want.frames)


def test_redirects_within_the_limit_are_followed(server, small_clip):
    base, port = server
    assert run(fetch(f"{base}/redirect/5", policy=local(port))) == small_clip


def test_one_session_per_loop_closed_at_shutdown(server, small_clip):
    base, port = server
    sessions = []

    async def go():
        for _ in range(3):
            assert await fetch(f"{base}/clip.mp4", policy=local(port)) == small_clip
        entry = fetch_mod._per_loop[asyncio.get_running_loop()]
        sessions.extend(entry.sessions.values())

    run(go())
    assert len(sessions) == 1 and sessions[0].closed  # asyncio.run's shutdown closed it


def test_sync_load_video_still_refuses_http():
    with pytest.raises(InvalidMediaError, match="fetched by the server integration"):
        load_video("http://example.com/v.mp4")


# ---- failures -----------------------------------------------------------------------------------


def test_slow_body_times_out_fast(server):
    base, port = server
    t0 = time.perf_counter()
    with pytest.raises(FetchError, match="timed out after 0.5 s"):
        run(fetch(f"{base}/slow", policy=local(port, total_timeout_s=0.5)))
    assert time.perf_counter() - t0 < SLOW_S - 1


def test_content_length_over_the_cap(server, small_clip):
    base, port = server
    with pytest.raises(MediaTooLargeError, match=f"Content-Length {len(small_clip)} exceeds the fetch limit of 1000"):
        run(fetch(f"{base}/clip.mp4", policy=local(port, max_bytes=1000)))


def test_streamed_body_over_the_cap(server):
    base, port = server
    with pytest.raises(MediaTooLargeError, match="the body .* exceeds the fetch limit of 10000"):
        run(fetch(f"{base}/chunked", policy=local(port, max_bytes=10_000)))
    assert len(run(fetch(f"{base}/chunked", policy=local(port)))) == 64 * 4096


def test_too_many_redirects(server):
    base, port = server
    with pytest.raises(FetchError, match=r"too many redirects \(more than 5\)"):
        run(fetch(f"{base}/redirect/6", policy=local(port)))
    with pytest.raises(FetchError, match=r"more than 2"):
        run(fetch(f"{base}/redirect/3", policy=local(port, max_redirects=2)))


@pytest.mark.parametrize(
    "target, why",
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.0.0.1/x.mp4", "private"),
        ("http://[::ffff:127.0.0.1]:{port}/clip.mp4", "loopback"),
        ("http://127.0.0.1:{other}/clip.mp4", "loopback"),  # the allowlist names one port only
        ("http://localhost:{port}/clip.mp4", "loopback"),  # a name: refused by the resolver
    ],
)
def test_redirect_to_a_blocked_address_is_refused(server, target, why):
    base, port = server
    target = target.format(port=port, other=_free_port())
    t0 = time.perf_counter()
    with pytest.raises(BlockedAddressError, match=f"redirected to .*not a public address: {why}"):
        run(fetch(f"{base}/to?url={target}", policy=local(port)))
    assert time.perf_counter() - t0 < 2  # refused before any connection attempt (which would hang)


def test_loopback_refused_without_allowlist(server):
    base, port = server
    for url in (f"{base}/clip.mp4", f"http://localhost:{port}/clip.mp4"):
        with pytest.raises(BlockedAddressError, match="not a public address: loopback") as e:
            run(fetch(url))
        assert isinstance(e.value, InvalidMediaError) and isinstance(e.value, ValueError)

    async def via_pipeline():
        await load_video_async(f"{base}/clip.mp4")

    with pytest.raises(BlockedAddressError):
        run(via_pipeline())


def test_allow_networks_and_names(server, small_clip):
    base, port = server
    nets = FetchPolicy(allow_networks=[ipaddress.ip_network("127.0.0.0/8")])
    assert run(fetch(f"{base}/clip.mp4", policy=nets)) == small_clip
    by_name = FetchPolicy(allow_hosts=("LOCALHOST",))
    try:
        assert run(fetch(f"http://localhost:{port}/clip.mp4", policy=by_name)) == small_clip
    except FetchError as e:  # localhost resolving to ::1 first on a v4-only server
        assert "Connect" in str(e)


def test_resolver_checks_the_addresses_it_connects_to(server, small_clip, monkeypatch):
    """A public-looking name that resolves to loopback is refused; the connection uses the
    resolver's (checked) answer, never a second lookup."""
    from aiohttp.resolver import ThreadedResolver

    base, port = server
    real = ThreadedResolver.resolve

    async def fake(self, host, port=0, family=socket.AF_INET):
        if host == "media.example.com":
            answer = {"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET}
            return [{**answer, "proto": 0, "flags": 0}]
        return await real(self, host, port, family)

    monkeypatch.setattr(ThreadedResolver, "resolve", fake)
    url = f"http://media.example.com:{port}/clip.mp4"
    with pytest.raises(BlockedAddressError, match="'media.example.com' at 127.0.0.1 \\(not a public address: loopback"):
        run(fetch(url))
    nets = FetchPolicy(allow_networks=["127.0.0.1/32"])
    assert run(fetch(url, policy=nets)) == small_clip


def test_html_page_is_not_a_video(server):
    base, port = server
    with pytest.raises(FetchError, match="Content-Type 'text/html', which is not a video"):
        run(fetch(f"{base}/page.html", policy=local(port)))


def test_http_status_and_bad_urls(server):
    base, port = server
    with pytest.raises(FetchError, match="HTTP 404") as e:
        run(fetch(f"{base}/missing.mp4", policy=local(port)))
    assert e.value.status == 404
    with pytest.raises(FetchError, match="only http and https"):
        run(fetch(f"{base}/to?url=file:///etc/passwd", policy=local(port)))
    with pytest.raises(FetchError, match="no host"):
        run(fetch("http:///x.mp4"))
    for legacy in ("2130706433", "0x7f.1", "127.1"):  # numeric forms of 127.0.0.1
        with pytest.raises(FetchError):
            run(fetch(f"http://{legacy}:{port}/clip.mp4"))


# ---- policy and classifier ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "addr, why",
    [
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not globally routable"),  # shared address space (CGNAT)
        ("2606:4700:4700::1111", None),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "private"),
        ("::ffff:8.8.8.8", None),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("64:ff9b::808:808", None),
    ],
)
def test_address_classifier(addr, why):
    got = address_problem(addr)
    assert (got is None) if why is None else (got is not None and got.startswith(why)), got
    assert address_problem(ipaddress.ip_address(addr)) == got


def test_policy_allowlists():
    p = FetchPolicy(allow_hosts=("Media.Internal", "127.0.0.1:8080", "[::1]:9000"), allow_networks=["10.0.0.0/8"])
    lo, v6lo = ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")
    assert p.refusal("media.internal", 80, ipaddress.ip_address("192.168.0.1")) is None
    assert p.refusal("127.0.0.1", 8080, lo) is None
    assert p.refusal("127.0.0.1", 8081, lo) == "loopback"
    assert p.refusal("::1", 9000, v6lo) is None and p.refusal("::1", 9001, v6lo) == "loopback"
    assert p.refusal("[0:0::1]", 9000, v6lo) is None and p.refusal("media.internal.", 1, lo) is None
    assert p.refusal("x", 80, ipaddress.ip_address("10.9.9.9")) is None
    assert p.refusal("x", 80, ipaddress.ip_address("::ffff:10.9.9.9")) == "private (IPv4 10.9.9.9 inside IPv6)"
    assert p.refusal("x", 80, ipaddress.ip_address("8.8.8.8")) is None
    same = FetchPolicy(allow_hosts=("media.internal", "127.0.0.1:8080", "[::1]:9000"), allow_networks=["10.0.0.0/8"])
    assert hash(p) == hash(same) and p == same
    bads = ({"max_bytes": 0}, {"total_timeout_s": 0}, {"connect_timeout_s": -1}, {"max_redirects": -1}, {"allow_hosts": ("a:b",)})
    for bad in bads:
        with pytest.raises(ValueError):
            FetchPolicy(**bad)


def test_server_fetch_policy_from_env():
    assert server_fetch_policy({}) == FetchPolicy()
    p = server_fetch_policy({"TRTLLM_MMFAST_FETCH_ALLOW": "10.0.0.0/8, media.internal:8443,127.0.0.1"})
    assert p.allow_hosts == ("media.internal:8443",)
    assert p.allow_networks == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32"))


def test_trtllm_1_2_loader_uses_the_guarded_fetcher(server, monkeypatch):
    from trtllm_standins.standin import use_standin

    from trtllm_mmfast.integrations import tensorrt_llm as mmfast

    base, port = server
    monkeypatch.delenv("TRTLLM_MMFAST_FETCH_ALLOW", raising=False)
    with use_standin("v1_2"):
        mmfast.enable()
        import tensorrt_llm.serve.chat_utils as chat_utils

        with pytest.raises(BlockedAddressError, match="loopback"):
            run(chat_utils.async_load_video(f"{base}/clip.mp4", format="np"))
        monkeypatch.setenv("TRTLLM_MMFAST_FETCH_ALLOW", f"127.0.0.1:{port}")
        vd = run(chat_utils.async_load_video(f"{base}/clip.mp4", format="np"))
        assert len(vd.frames) == 10
    assert not fetch_mod._per_loop  # the uvloop loops' sessions were closed at their shutdown
