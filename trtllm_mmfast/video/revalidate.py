"""Conditional GETs for cached http(s) videos: ``load_video_async(url, cache=c, revalidate=v)``.

A URL alone is never trusted: the first fetch downloads the body, and the frames cached
for it are keyed by the body's digest, as always. What is remembered per URL is the
server's validators (``ETag``, ``Last-Modified``) with that digest. The next request for
the URL asks the server (``If-None-Match`` / ``If-Modified-Since``); only its ``304 Not
Modified`` lets the cached frames of that digest answer without a download. A ``200``
(the content changed, or the server does not revalidate) is loaded like any new body; a
``304`` whose frames were evicted since is fetched again in full.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from .fetch import FetchPolicy, fetch_conditional
from .source import MediaSource

__all__ = ["UrlValidators", "Validators", "load_revalidated"]

T = TypeVar("T")


@dataclass(frozen=True)
class Validators:
    """What the server said about the body whose BLAKE3 hex digest is ``digest``."""

    etag: str | None
    last_modified: str | None
    digest: str


class UrlValidators:
    """The validators of the URLs fetched so far (bounded LRU, thread-safe), and counts:
    ``not_modified`` (a 304 answered from the cache), ``refetched`` (a 304 whose entry was
    gone), ``changed`` (a 200 to a conditional GET)."""

    def __init__(self, max_urls: int = 4096) -> None:
        if not isinstance(max_urls, int) or max_urls < 1:
            raise ValueError(f"max_urls must be an int >= 1, got {max_urls!r}")
        self.max_urls = max_urls
        self._urls: OrderedDict[str, Validators] = OrderedDict()
        self._lock = threading.Lock()
        self.counts = {"not_modified": 0, "refetched": 0, "changed": 0}

    def get(self, url: str) -> Validators | None:
        with self._lock:
            v = self._urls.get(url)
            if v is not None:
                self._urls.move_to_end(url)
            return v

    def put(self, url: str, validators: Validators | None) -> None:
        """Remember ``validators`` for ``url`` (None forgets it)."""
        with self._lock:
            self._urls.pop(url, None)
            if validators is not None:
                self._urls[url] = validators
                while len(self._urls) > self.max_urls:
                    self._urls.popitem(last=False)

    def count(self, name: str) -> None:
        with self._lock:
            self.counts[name] += 1

    def __len__(self) -> int:
        return len(self._urls)


async def load_revalidated(
    url: str,
    *,
    policy: FetchPolicy | None,
    validators: UrlValidators,
    lookup: Callable[[str], T | None],
    load: Callable[[MediaSource], Awaitable[T]],
    digest_of: Callable[[T], str | None],
    label: str,
) -> T:
    """``load`` the body of ``url``, or ``lookup(digest)`` when the server says it has not
    changed since the body of that digest was fetched."""
    known = validators.get(url)
    got = await fetch_conditional(
        url, policy=policy, etag=known.etag if known else None, last_modified=known.last_modified if known else None
    )
    if got.body is None and known is not None:
        hit = lookup(known.digest)
        if hit is not None:
            validators.count("not_modified")
            return hit
        validators.count("refetched")
        got = await fetch_conditional(url, policy=policy)
    elif known is not None:
        validators.count("changed")
    assert got.body is not None
    result = await load(MediaSource(data=got.body, label=label))
    digest = digest_of(result)
    keep = (got.etag or got.last_modified) and digest
    validators.put(url, Validators(got.etag, got.last_modified, digest) if keep else None)  # type: ignore[arg-type]
    return result
