"""https fetching: real TLS against a loopback aiohttp server with a trustme CA (extra CA,
untrusted and mismatched certificates, redirects, the SSRF guard before any handshake)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from types import SimpleNamespace

import numpy as np
import pytest

from trtllm_mmfast import load_video
from trtllm_mmfast.runtime.pipeline import load_video_async, release_frames
from trtllm_mmfast.video import fetch as fetch_mod
from trtllm_mmfast.video.fetch import (
    BlockedAddressError,
    FetchError,
    FetchPolicy,
    close_sessions,
    fetch,
    server_fetch_policy,
)

trustme = pytest.importorskip("trustme")
# The plain-http loopback server fixture and helpers of test_fetch (tests/ is on sys.path).
from test_fetch import _free_port, media_app, run, serve_in_thread, server  # noqa: E402, F401

OTHER_NAME = "media.example.test"


def _server_context(cert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


@pytest.fixture(scope="module")
def tls(small_clip, tmp_path_factory):
    """Loopback https server in a background thread, on two ports: ``port`` serves a cert for
    localhost / 127.0.0.1, ``other_port`` one for OTHER_NAME only; both issued by the CA in
    ``ca_file``."""
    ca = trustme.CA()
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    port, other_port = _free_port(), _free_port()
    sites = [
        (port, _server_context(ca.issue_cert("localhost", "127.0.0.1"))),
        (other_port, _server_context(ca.issue_cert(OTHER_NAME))),
    ]
    with serve_in_thread(media_app(small_clip), sites):
        yield SimpleNamespace(ca_file=str(ca_file), port=port, other_port=other_port, base=f"https://127.0.0.1:{port}")


def allow(*ports: int, ca_file: str | None = None, **kw) -> FetchPolicy:
    """Allow these loopback ports, trusting ``ca_file`` for https."""
    return FetchPolicy(allow_hosts=tuple(f"127.0.0.1:{p}" for p in ports), ca_file=ca_file, **kw)


# ---- success ------------------------------------------------------------------------------------


def test_https_with_ca_file_decodes_like_bytes(tls, small_clip):
    want = load_video(small_clip, fps=4)

    async def go():
        v = await load_video_async(f"{tls.base}/clip.mp4", fps=4, fetch_policy=allow(tls.port, ca_file=tls.ca_file))
        release_frames(v)
        await close_sessions()
        return v

    got = run(go())
    assert got.metadata == want.metadata
    np.testing.assert_array_equal(got.frames, want.frames)


def test_redirects_http_to_https_and_https_to_https(server, tls, small_clip):
    http_base, http_port = server
    policy = allow(http_port, tls.port, ca_file=tls.ca_file)
    assert run(fetch(f"{http_base}/to?url={tls.base}/clip.mp4", policy=policy)) == small_clip
    assert run(fetch(f"{tls.base}/redirect/3", policy=policy)) == small_clip


def test_tls_checks_the_url_host_on_the_checked_address(tls, small_clip, monkeypatch):
    """A name resolving to loopback: the resolver's (checked) address is the one connected to,
    and the certificate is verified against the URL's host name (sent as SNI), not the address."""
    from aiohttp.resolver import ThreadedResolver

    real = ThreadedResolver.resolve

    async def fake(self, host, port=0, family=socket.AF_INET):
        if host == OTHER_NAME:
            answer = {"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET}
            return [{**answer, "proto": 0, "flags": 0}]
        return await real(self, host, port, family)

    monkeypatch.setattr(ThreadedResolver, "resolve", fake)
    loopback = FetchPolicy(allow_networks=["127.0.0.1/32"], ca_file=tls.ca_file)
    assert run(fetch(f"https://{OTHER_NAME}:{tls.other_port}/clip.mp4", policy=loopback)) == small_clip
    mismatch = f"certificate of {OTHER_NAME}:{tls.port} could not be verified \\(Hostname mismatch"
    with pytest.raises(FetchError, match=mismatch):
        run(fetch(f"https://{OTHER_NAME}:{tls.port}/clip.mp4", policy=loopback))  # cert for localhost only
    with pytest.raises(BlockedAddressError, match=f"'{OTHER_NAME}' at 127.0.0.1 .*loopback"):
        run(fetch(f"https://{OTHER_NAME}:{tls.other_port}/clip.mp4", policy=FetchPolicy(ca_file=tls.ca_file)))


# ---- TLS failures -------------------------------------------------------------------------------


def _assert_plain_fetch_error(e: pytest.ExceptionInfo) -> None:
    assert type(e.value) is FetchError and e.value.__cause__ is None and e.value.__suppress_context__


def test_untrusted_certificate_is_a_fetch_error(tls):
    url = f"{tls.base}/clip.mp4"
    message = f"{url}: the TLS certificate of 127.0.0.1:{tls.port} could not be verified"
    with pytest.raises(FetchError, match=message) as e:
        run(fetch(url, policy=allow(tls.port)))
    _assert_plain_fetch_error(e)


def test_hostname_mismatch_is_a_fetch_error_even_with_the_ca(tls):
    url = f"https://127.0.0.1:{tls.other_port}/clip.mp4"  # cert for OTHER_NAME only
    with pytest.raises(FetchError, match=r"could not be verified \(IP address mismatch") as e:
        run(fetch(url, policy=allow(tls.other_port, ca_file=tls.ca_file)))
    _assert_plain_fetch_error(e)


def test_tls_failure_after_a_redirect_names_the_hop(server, tls):
    http_base, http_port = server
    target = f"https://127.0.0.1:{tls.other_port}/clip.mp4"
    with pytest.raises(FetchError, match=f"redirected to {target}\\): the TLS certificate .* could not be verified"):
        run(fetch(f"{http_base}/to?url={target}", policy=allow(http_port, tls.other_port, ca_file=tls.ca_file)))


def test_sessions_with_and_without_the_ca_are_not_shared(tls, small_clip):
    url = f"{tls.base}/clip.mp4"

    async def go():
        assert await fetch(url, policy=allow(tls.port, ca_file=tls.ca_file)) == small_clip
        with pytest.raises(FetchError, match="could not be verified"):
            await fetch(url, policy=allow(tls.port))
        sessions = list(fetch_mod._per_loop[asyncio.get_running_loop()].sessions.values())
        await close_sessions()
        return sessions

    sessions = run(go())
    assert len(sessions) == 2 and all(s.closed for s in sessions)


# ---- the SSRF guard applies to https as to http -------------------------------------------------


def test_https_to_loopback_refused_before_any_connection(tls):
    """Without the loopback allowlist: refused before connecting, so before any TLS handshake
    (a bare listening socket sees no connection)."""
    policy = FetchPolicy(ca_file=tls.ca_file)
    with socket.socket() as sentinel:
        sentinel.bind(("127.0.0.1", 0))
        sentinel.listen(8)
        sentinel.setblocking(False)
        sport = sentinel.getsockname()[1]
        for url in (f"https://127.0.0.1:{sport}/x.mp4", f"https://localhost:{sport}/x.mp4", f"{tls.base}/clip.mp4"):
            t0 = time.perf_counter()
            with pytest.raises(BlockedAddressError, match="not a public address: loopback"):
                run(fetch(url, policy=policy))
            assert time.perf_counter() - t0 < 2
        with pytest.raises(BlockingIOError):
            sentinel.accept()  # nothing ever connected


@pytest.mark.parametrize("start", ["http", "https"])
def test_redirect_to_blocked_https_is_refused(server, tls, start):
    http_base, http_port = server
    base, port = (http_base, http_port) if start == "http" else (tls.base, tls.port)
    for target in (f"https://127.0.0.1:{tls.other_port}/clip.mp4", f"https://localhost:{tls.other_port}/clip.mp4"):
        with pytest.raises(BlockedAddressError, match="redirected to .*not a public address: loopback"):
            run(fetch(f"{base}/to?url={target}", policy=allow(port, ca_file=tls.ca_file)))


# ---- policy -------------------------------------------------------------------------------------


def test_ca_file_must_exist_and_load(tmp_path, tls):
    with pytest.raises(ValueError, match="ca_file '/nonexistent' does not exist"):
        FetchPolicy(ca_file="/nonexistent")
    with pytest.raises(ValueError, match="is not a file"):
        FetchPolicy(ca_file=str(tmp_path))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    assert FetchPolicy(ca_file=garbage).ca_file == str(garbage)  # a path-like is kept as a str
    with pytest.raises(ValueError, match="could not load it as a PEM CA bundle"):
        run(fetch(f"{tls.base}/clip.mp4", policy=allow(tls.port, ca_file=str(garbage))))


def test_server_fetch_policy_reads_the_ca_file(tls, small_clip):
    assert server_fetch_policy({}).ca_file is None
    env = {"TRTLLM_MMFAST_FETCH_CA_FILE": f" {tls.ca_file} ", "TRTLLM_MMFAST_FETCH_ALLOW": f"127.0.0.1:{tls.port}"}
    policy = server_fetch_policy(env)
    assert policy == allow(tls.port, ca_file=tls.ca_file)
    assert run(fetch(f"{tls.base}/clip.mp4", policy=policy)) == small_clip
    with pytest.raises(ValueError, match="does not exist"):
        server_fetch_policy({"TRTLLM_MMFAST_FETCH_CA_FILE": "/nonexistent"})
