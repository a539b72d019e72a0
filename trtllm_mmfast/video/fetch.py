"""Fetch ``http(s)://`` video URLs into memory, safely (for ``resolve_source_async`` and ``load_video_async``).

- One aiohttp ``ClientSession`` per event loop (and allowlist and CA file), closed when the
  loop shuts down its async generators (``asyncio.run`` does) or by ``close_sessions()``.
- TLS: ``https`` certificates are always verified, host name included (against the URL's
  host, also sent as SNI), with the default trust store plus the policy's ``ca_file``, if
  any; a certificate that fails is a ``FetchError``. There is no way to turn verification off.
- Timeouts: ``connect_timeout_s`` per connection, ``total_timeout_s`` for the whole fetch
  (every redirect hop and the body included).
- Size: ``Content-Length`` checked up front, and the body capped while it streams in
  (``MediaTooLargeError``); ``max_bytes`` defaults to 200 MiB.
- Redirects are followed by hand (at most ``max_redirects``, default 5) so every hop is
  checked like the first; only ``http`` and ``https`` are followed.
- SSRF (``video.fetch_guard``): an address that is not publicly routable (loopback, private, link-local, multicast,
  reserved, unspecified, shared/CGNAT, ...; IPv4 and IPv6, including IPv4 embedded in
  IPv6 as mapped, 6to4 or NAT64) is refused unless ``allow_hosts`` / ``allow_networks``
  permit it. The check runs in the session's DNS resolver, on the addresses the connection
  then uses (no second lookup, so DNS rebinding cannot slip past it); IP-literal URLs, which
  aiohttp does not resolve, are checked before connecting. If any address a name resolves
  to is refused, the whole name is. Proxies from the environment are not used.
- Content type: ``text/*``, ``image/*`` and JSON / XML / JavaScript bodies are refused as
  clearly not video; anything else (``video/*``, ``application/octet-stream``, ``audio/*``,
  none at all, ...) is left to the decoder to judge.

Errors: ``FetchError`` (an ``InvalidMediaError``, so a ``ValueError``) for a URL that cannot
be fetched (HTTP status, network error, TLS, timeout, redirects, content type), with its subclass
``BlockedAddressError`` for the SSRF refusals; ``MediaTooLargeError`` for the byte cap (its
``field`` is ``"FetchPolicy.max_bytes"``). All live in ``errors``. Every failed fetch is
counted by error class: ``fetch_failures()``.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import weakref
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

# The policy, the address checks and the errors live next door; re-exported so that
# ``from trtllm_mmfast.video.fetch import FetchPolicy, FetchError, ...`` keeps working.
from ..errors import BlockedAddressError, FetchError, MediaTooLargeError
from .fetch_guard import (
    DEFAULT_FETCH_POLICY,
    FETCH_ALLOW_ENV,
    FETCH_CA_FILE_ENV,
    FetchPolicy,
    address_problem,
    check_url,
    guarded_resolver,
    server_fetch_policy,
)

__all__ = [
    "DEFAULT_FETCH_POLICY",
    "FETCH_ALLOW_ENV",
    "FETCH_CA_FILE_ENV",
    "BlockedAddressError",
    "FetchError",
    "FetchPolicy",
    "Fetched",
    "address_problem",
    "close_sessions",
    "fetch",
    "fetch_conditional",
    "fetch_failures",
    "is_http_url",
    "server_fetch_policy",
]

_REDIRECTS = (301, 302, 303, 307, 308)
_NOT_VIDEO_TYPES = ("application/json", "application/xml", "application/javascript", "application/xhtml+xml")


# ---- one session per event loop ------------------------------------------------------------------


def _ssl_context(ca_file: str) -> ssl.SSLContext:
    """The default verifying context (system trust store, host name check) plus ``ca_file``."""
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=ca_file)
    except (OSError, ssl.SSLError) as e:
        raise ValueError(f"ca_file {ca_file!r}: could not load it as a PEM CA bundle ({e})") from None
    context.set_alpn_protocols(("http/1.1",))  # as aiohttp's own default context
    return context


class _LoopSessions:
    """One loop's sessions (by allowlist and CA file) and the async generator that closes them at shutdown."""

    def __init__(self) -> None:
        self.sessions: dict[tuple[Any, ...], Any] = {}
        self.closer: AsyncIterator[None] | None = None  # held here: the loop only holds it weakly

    async def close(self) -> None:
        sessions, self.sessions = list(self.sessions.values()), {}
        for session in sessions:
            await session.close()


_per_loop: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSessions]" = weakref.WeakKeyDictionary()


async def _close_at_loop_shutdown(loop: asyncio.AbstractEventLoop, entry: _LoopSessions) -> AsyncIterator[None]:
    # The loop tracks this async generator once started: loop.shutdown_asyncgens() (which
    # asyncio.run calls) closes it, and so this loop's sessions, before the loop goes away.
    try:
        yield
    finally:
        if _per_loop.get(loop) is entry:
            del _per_loop[loop]
        await entry.close()


async def _session(policy: FetchPolicy) -> Any:
    import aiohttp

    loop = asyncio.get_running_loop()
    entry = _per_loop.get(loop)
    if entry is None:
        entry = _per_loop[loop] = _LoopSessions()
        entry.closer = _close_at_loop_shutdown(loop, entry)
        await entry.closer.__anext__()  # first iteration registers it with the loop
    key = (policy.allow_hosts, policy.allow_networks, policy.ca_file)
    session = entry.sessions.get(key)
    if session is not None and not session.closed:
        return session
    tls: ssl.SSLContext | bool = True  # aiohttp's default verifying context
    if policy.ca_file is not None:  # loading trust stores is blocking file I/O: off the loop
        tls = await asyncio.to_thread(_ssl_context, policy.ca_file)
        session = entry.sessions.get(key)  # another task may have made it meanwhile
        if session is not None and not session.closed:
            return session
    connector = aiohttp.TCPConnector(resolver=guarded_resolver(policy), use_dns_cache=False, ssl=tls)
    session = entry.sessions[key] = aiohttp.ClientSession(connector=connector, trust_env=False)
    return session


async def close_sessions() -> None:
    """Close the running loop's fetch sessions now (they are also closed at loop shutdown)."""
    entry = _per_loop.pop(asyncio.get_running_loop(), None)
    if entry is not None:
        await entry.close()



# ---- fetch --------------------------------------------------------------------------------------


def is_http_url(source: object) -> bool:
    return isinstance(source, str) and source[:8].lower().startswith(("http://", "https://"))


def _short(s: str, n: int = 80) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def _check_content_type(resp: Any, label: str) -> None:
    ctype = (resp.content_type or "").lower()
    if (
        ctype.startswith(("text/", "image/"))
        or ctype in _NOT_VIDEO_TYPES
        or ctype.endswith(("+json", "+xml"))
    ):
        raise FetchError(
            f"{label}: the server sent Content-Type {ctype!r}, which is not a video "
            f"(expected video/*, application/octet-stream or similar)",
            status=resp.status,
        )


def _tls_error(where: str, e: Any) -> FetchError:
    """A TLS failure (``aiohttp.ClientSSLError``) as a ``FetchError`` naming the host."""
    host = f"{e.host}:{e.port}" if e.port else e.host
    cert_error = getattr(e, "certificate_error", None)
    if cert_error is not None:  # untrusted issuer, host name mismatch, expired, ...
        reason = getattr(cert_error, "verify_message", None) or str(cert_error)
        return FetchError(
            f"{where}: the TLS certificate of {host} could not be verified ({reason}); "
            f"a private CA can be trusted with the fetch policy's ca_file"
        )
    return FetchError(f"{where}: TLS handshake with {host} failed ({e.os_error})")


def _too_large(label: str, what: str, limit: int, value: int) -> MediaTooLargeError:
    return MediaTooLargeError(
        f"{label}: {what} exceeds the fetch limit of {limit} bytes (FetchPolicy.max_bytes)",
        field="FetchPolicy.max_bytes",
        limit=limit,
        value=value,
    )


@dataclass(frozen=True)
class Fetched:
    """One GET: ``body`` (None on ``304 Not Modified``) and the response's validators."""

    body: bytes | None
    etag: str | None = None
    last_modified: str | None = None


async def _get(url: str, policy: FetchPolicy, label: str, conditional: dict[str, str] | None = None) -> Fetched:
    import aiohttp

    session = await _session(policy)
    timeout = aiohttp.ClientTimeout(total=None, connect=policy.connect_timeout_s)
    limit = policy.max_bytes
    for hop in range(policy.max_redirects + 1):
        where = label if hop == 0 else f"{label} (redirected to {_short(url)})"
        check_url(url, policy, where)
        try:
            response = await session.get(url, allow_redirects=False, timeout=timeout, headers=conditional)
        except BlockedAddressError as e:  # from the resolver, which does not know the URL
            raise BlockedAddressError(f"{where}{e}") from None
        except aiohttp.ClientSSLError as e:
            raise _tls_error(where, e) from None
        async with response as resp:
            if resp.status in _REDIRECTS and "Location" in resp.headers:
                url = urljoin(url, resp.headers["Location"])
                continue
            if resp.status == 304 and conditional:
                return Fetched(None, resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
            if not 200 <= resp.status < 300:
                raise FetchError(f"{where}: HTTP {resp.status} {resp.reason or ''}".rstrip(), status=resp.status)
            _check_content_type(resp, where)
            if limit is not None and resp.content_length is not None and resp.content_length > limit:
                raise _too_large(where, f"Content-Length {resp.content_length}", limit, resp.content_length)
            buf = bytearray()
            async for chunk in resp.content.iter_chunked(1 << 16):
                buf += chunk
                if limit is not None and len(buf) > limit:
                    resp.close()  # drop the connection: do not read the rest
                    raise _too_large(where, f"the body (more than {len(buf)} bytes so far)", limit, len(buf))
            return Fetched(bytes(buf), resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
    raise FetchError(f"{label}: too many redirects (more than {policy.max_redirects})")


# Failed fetches by error class, process-wide: fetches run on any thread's event loop.
_failures: Counter[str] = Counter()
_failures_lock = threading.Lock()


def fetch_failures() -> dict[str, int]:
    """How many ``fetch`` calls failed in this process, by error class name (``FetchError``,
    ``BlockedAddressError``, ``MediaTooLargeError``, ...); a cancelled fetch is not a failure."""
    with _failures_lock:
        return dict(_failures)


async def fetch(url: str, *, policy: FetchPolicy | None = None) -> bytes:
    """GET ``url`` (``http``/``https``) into memory under ``policy`` (default ``DEFAULT_FETCH_POLICY``).

    Raises ``BlockedAddressError`` / ``FetchError`` / ``MediaTooLargeError`` (see the module doc),
    each counted in ``fetch_failures()``.
    """
    got = await fetch_conditional(url, policy=policy)
    assert got.body is not None  # no validators were sent: a 304 is an error
    return got.body


async def fetch_conditional(
    url: str, *, policy: FetchPolicy | None = None, etag: str | None = None, last_modified: str | None = None
) -> Fetched:
    """``fetch``, sending ``If-None-Match`` / ``If-Modified-Since`` when given: a ``304 Not
    Modified`` answer comes back as ``Fetched(body=None)``, without downloading anything."""
    conditional = {k: v for k, v in (("If-None-Match", etag), ("If-Modified-Since", last_modified)) if v}
    try:
        return await _fetch(url, policy or DEFAULT_FETCH_POLICY, conditional or None)
    except Exception as e:  # not BaseException: a cancelled request did not fail
        with _failures_lock:
            _failures[type(e).__name__] += 1
        raise


async def _fetch(url: str, policy: FetchPolicy, conditional: dict[str, str] | None) -> Fetched:
    try:
        import aiohttp
    except ImportError as e:
        raise ImportError("fetching http(s) video URLs needs aiohttp: pip install aiohttp") from e

    label = _short(url)
    try:
        return await asyncio.wait_for(_get(url, policy, label, conditional), policy.total_timeout_s)
    except aiohttp.ClientError as e:  # before TimeoutError: aiohttp's timeouts are both
        raise FetchError(f"{label}: {type(e).__name__}: {e}") from None
    except asyncio.TimeoutError:
        raise FetchError(f"{label}: fetch timed out after {policy.total_timeout_s:g} s (the whole fetch)") from None
