"""The fetch's address guard: ``FetchPolicy`` (what a fetch may connect to and read) and the
SSRF checks, kept apart from the HTTP client in ``video.fetch``.

An address that is not publicly routable (loopback, private, link-local, multicast,
reserved, unspecified, shared/CGNAT, ...; IPv4 and IPv6, including IPv4 embedded in IPv6
as mapped, 6to4 or NAT64) is refused unless ``allow_hosts`` / ``allow_networks`` permit it.
``guarded_resolver`` applies the check in the HTTP session's DNS resolver, on the addresses
the connection then uses (no second lookup, so DNS rebinding cannot slip past it);
``check_url`` checks IP-literal URLs, which aiohttp does not resolve, before connecting.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union
from urllib.parse import urlsplit

from ..errors import BlockedAddressError, FetchError

__all__ = [
    "DEFAULT_FETCH_POLICY",
    "FETCH_ALLOW_ENV",
    "FETCH_CA_FILE_ENV",
    "FetchPolicy",
    "address_problem",
    "check_url",
    "guarded_resolver",
    "server_fetch_policy",
]

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

FETCH_ALLOW_ENV = "TRTLLM_MMFAST_FETCH_ALLOW"
FETCH_CA_FILE_ENV = "TRTLLM_MMFAST_FETCH_CA_FILE"
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


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



# ---- where the checks run ----------------------------------------------------------------------


def guarded_resolver(policy: FetchPolicy) -> Any:
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



def check_url(url: str, policy: FetchPolicy, label: str) -> None:
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

