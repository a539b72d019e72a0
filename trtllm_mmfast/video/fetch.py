"""Fetch ``http(s)://`` video URLs into memory, safely (used by ``load_video_async``).

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
- SSRF: an address that is not publicly routable (loopback, private, link-local, multicast,
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
``BlockedAddressError`` for the SSRF refusals; ``MediaTooLargeError`` for the byte cap.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Union
from urllib.parse import urljoin, urlsplit

from ..errors import InvalidMediaError, MediaTooLargeError

__all__ = [
    "DEFAULT_FETCH_POLICY",
    "FETCH_ALLOW_ENV",
    "FETCH_CA_FILE_ENV",
    "BlockedAddressError",
    "FetchError",
    "FetchPolicy",
    "address_problem",
    "close_sessions",
    "fetch",
    "is_http_url",
    "server_fetch_policy",
]

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

FETCH_ALLOW_ENV = "TRTLLM_MMFAST_FETCH_ALLOW"
FETCH_CA_FILE_ENV = "TRTLLM_MMFAST_FETCH_CA_FILE"
_REDIRECTS = (301, 302, 303, 307, 308)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NOT_VIDEO_TYPES = ("application/json", "application/xml", "application/javascript", "application/xhtml+xml")


class FetchError(InvalidMediaError):
    """An ``http(s)`` video URL could not be fetched; ``status`` is the HTTP status, if any."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BlockedAddressError(FetchError):
    """The URL (or a redirect) points at an address the fetch policy does not allow."""


# ---- policy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchPolicy:
    """What ``fetch`` may connect to, and how much it may read.

    ``allow_hosts``: host names or IP literals (``"media.internal"``, ``"10.1.2.3"``,
    ``"[::1]:8080"``; with ``:port``, only that port) exempt from the address check.
    ``allow_networks``: ``ipaddress`` networks (or strings) whose addresses are allowed.
    ``ca_file``: a PEM bundle of extra CA certificates trusted for ``https``, on top of the
    default trust store (e.g. a private CA for internal media hosts).
    """

    allow_hosts: tuple[str, ...] = ()
    allow_networks: tuple[IPNetwork, ...] = ()
    max_bytes: int | None = 200 * 1024 * 1024
    connect_timeout_s: float = 10.0
    total_timeout_s: float = 120.0
    max_redirects: int = 5
    ca_file: str | None = None

    def __post_init__(self) -> None:
        hosts = (self.allow_hosts,) if isinstance(self.allow_hosts, str) else self.allow_hosts
        object.__setattr__(self, "allow_hosts", tuple(_normalize_host_rule(h) for h in hosts))
        nets = tuple(ipaddress.ip_network(n, strict=False) for n in self.allow_networks)
        object.__setattr__(self, "allow_networks", nets)
        for name in ("connect_timeout_s", "total_timeout_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if self.max_bytes is not None and not (isinstance(self.max_bytes, int) and self.max_bytes > 0):
            raise ValueError(f"max_bytes must be a positive int or None, got {self.max_bytes!r}")
        if not (isinstance(self.max_redirects, int) and self.max_redirects >= 0):
            raise ValueError(f"max_redirects must be an int >= 0, got {self.max_redirects!r}")
        if self.ca_file is not None:
            object.__setattr__(self, "ca_file", os.fspath(self.ca_file))
            if not os.path.isfile(self.ca_file):
                raise ValueError(f"ca_file {self.ca_file!r} does not exist or is not a file (expected a PEM CA bundle)")

    def host_allowed(self, host: str, port: int | None) -> bool:
        host = _canonical_host(host.strip("[]"))
        return any(h == host and (p is None or p == port) for h, p in map(_split_rule, self.allow_hosts))

    def refusal(self, host: str, port: int | None, ip: IPAddress) -> str | None:
        """Why connecting to ``ip`` (for ``host:port``) is refused, or ``None`` if it is allowed."""
        if self.host_allowed(host, port) or any(ip in net for net in self.allow_networks):
            return None
        return address_problem(ip)


def _split_rule(rule: str) -> tuple[str, int | None]:
    if rule.startswith("["):  # [v6]:port or [v6]
        host, _, rest = rule[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if rule.count(":") == 1:
        host, port = rule.split(":")
        return host, int(port)
    return rule, None  # a name, an IPv4 literal or a bare IPv6 literal


def _canonical_host(host: str) -> str:
    """Lower-case name without the trailing dot; IP literals in their canonical form."""
    host = host.lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _normalize_host_rule(rule: str) -> str:
    rule = rule.strip().lower()
    try:
        host, port = _split_rule(rule)
    except ValueError:
        raise ValueError(f"bad allow_hosts entry {rule!r}: expected host, host:port or [ipv6]:port") from None
    if not host:
        raise ValueError(f"bad allow_hosts entry {rule!r}: empty host")
    host = _canonical_host(host)
    return host if port is None else (f"[{host}]:{port}" if ":" in host else f"{host}:{port}")


DEFAULT_FETCH_POLICY = FetchPolicy()


def server_fetch_policy(environ: Mapping[str, str] | None = None) -> FetchPolicy:
    """The fetch policy for server requests: the defaults, plus the comma-separated allowlist
    in ``TRTLLM_MMFAST_FETCH_ALLOW`` (entries: a network ``10.0.0.0/8``, an address, a host
    name, ``host:port``) and the extra CA bundle in ``TRTLLM_MMFAST_FETCH_CA_FILE``, read at
    each call."""
    env = os.environ if environ is None else environ
    hosts: list[str] = []
    nets: list[IPNetwork] = []
    for entry in (e.strip() for e in env.get(FETCH_ALLOW_ENV, "").split(",")):
        if not entry:
            continue
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.append(entry)
    ca_file = env.get(FETCH_CA_FILE_ENV, "").strip() or None
    return FetchPolicy(allow_hosts=tuple(hosts), allow_networks=tuple(nets), ca_file=ca_file)


# ---- address classification --------------------------------------------------------------------


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(ip: IPAddress | str) -> str | None:
    """Why ``ip`` is not a public unicast address (``"loopback"``, ``"private"``, ...), or ``None``."""
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip)
    if isinstance(ip, ipaddress.IPv6Address):
        v4 = _embedded_ipv4(ip)
        if v4 is not None:
            problem = address_problem(v4)
            return None if problem is None else f"{problem} (IPv4 {v4} inside IPv6)"
    for attr, name in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
        ("is_site_local", "site-local"),  # fec0::/10, deprecated, not "private" to ipaddress
    ):
        if getattr(ip, attr, False):
            return name
    return None if ip.is_global else "not globally routable"


def _blocked(label: str, host: str, port: int | None, ip: str, why: str) -> BlockedAddressError:
    return BlockedAddressError(
        f"{label}: refusing to connect to {host!r} at {ip} (not a public address: {why}); only public addresses "
        f"are allowed unless the fetch policy's allow_hosts / allow_networks permit them"
    )


# ---- one session per event loop ------------------------------------------------------------------


def _guarded_resolver(policy: FetchPolicy) -> Any:
    from aiohttp.abc import AbstractResolver
    from aiohttp.resolver import ThreadedResolver

    class GuardedResolver(AbstractResolver):
        """Resolves with the system resolver, then refuses the name if any address is refused."""

        def __init__(self) -> None:
            self._inner = ThreadedResolver()

        async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
            results = await self._inner.resolve(host, port, family)
            for r in results:
                try:
                    why = policy.refusal(host, port, ipaddress.ip_address(r["host"]))
                except ValueError:
                    why = "unparsable"
                if why is not None:
                    raise _blocked("", host, port, r["host"], why)
            return results

        async def close(self) -> None:
            await self._inner.close()

    return GuardedResolver()


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
    connector = aiohttp.TCPConnector(resolver=_guarded_resolver(policy), use_dns_cache=False, ssl=tls)
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


def _check_url(url: str, policy: FetchPolicy, label: str) -> None:
    """Scheme, host present, and (for IP literals, which aiohttp does not resolve) the address."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise FetchError(f"{label}: malformed URL ({e})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(f"{label}: only http and https URLs can be fetched, got scheme {parts.scheme!r}")
    host = parts.hostname
    if not host:
        raise FetchError(f"{label}: URL has no host")
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return  # a name: checked by the resolver, on the addresses actually used
    port = port or (443 if parts.scheme.lower() == "https" else 80)
    why = policy.refusal(host, port, ip)
    if why is not None:
        raise _blocked(label, host, port, str(ip), why)


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


def _too_large(label: str, what: str, limit: int) -> MediaTooLargeError:
    return MediaTooLargeError(f"{label}: {what} exceeds the fetch limit of {limit} bytes")


async def _get(url: str, policy: FetchPolicy, label: str) -> bytes:
    import aiohttp

    session = await _session(policy)
    timeout = aiohttp.ClientTimeout(total=None, connect=policy.connect_timeout_s)
    limit = policy.max_bytes
    for hop in range(policy.max_redirects + 1):
        where = label if hop == 0 else f"{label} (redirected to {_short(url)})"
        _check_url(url, policy, where)
        try:
            response = await session.get(url, allow_redirects=False, timeout=timeout)
        except BlockedAddressError as e:  # from the resolver, which does not know the URL
            raise BlockedAddressError(f"{where}{e}") from None
        except aiohttp.ClientSSLError as e:
            raise _tls_error(where, e) from None
        async with response as resp:
            if resp.status in _REDIRECTS and "Location" in resp.headers:
                url = urljoin(url, resp.headers["Location"])
                continue
            if not 200 <= resp.status < 300:
                raise FetchError(f"{where}: HTTP {resp.status} {resp.reason or ''}".rstrip(), status=resp.status)
            _check_content_type(resp, where)
            if limit is not None and resp.content_length is not None and resp.content_length > limit:
                raise _too_large(where, f"Content-Length {resp.content_length}", limit)
            buf = bytearray()
            async for chunk in resp.content.iter_chunked(1 << 16):
                buf += chunk
                if limit is not None and len(buf) > limit:
                    resp.close()  # drop the connection: do not read the rest
                    raise _too_large(where, f"the body (more than {len(buf)} bytes so far)", limit)
            return bytes(buf)
    raise FetchError(f"{label}: too many redirects (more than {policy.max_redirects})")


async def fetch(url: str, *, policy: FetchPolicy | None = None) -> bytes:
    """GET ``url`` (``http``/``https``) into memory under ``policy`` (default ``DEFAULT_FETCH_POLICY``).

    Raises ``BlockedAddressError`` / ``FetchError`` / ``MediaTooLargeError`` (see the module doc).
    """
    try:
        import aiohttp
    except ImportError as e:
        raise ImportError("fetching http(s) video URLs needs aiohttp: pip install aiohttp") from e

    policy = policy or DEFAULT_FETCH_POLICY
    label = _short(url)
    try:
        return await asyncio.wait_for(_get(url, policy, label), policy.total_timeout_s)
    except aiohttp.ClientError as e:  # before TimeoutError: aiohttp's timeouts are both
        raise FetchError(f"{label}: {type(e).__name__}: {e}") from None
    except asyncio.TimeoutError:
        raise FetchError(f"{label}: fetch timed out after {policy.total_timeout_s:g} s (the whole fetch)") from None

