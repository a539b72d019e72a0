"""Resolve what a request gives us to encoded bytes or a local path: one dispatcher, two entries.

``resolve_source`` (sync) takes bytes, a path, a ``file://`` URL or a ``data:`` URL;
``resolve_source_async`` takes the same plus ``http(s)://`` URLs, fetched with the guarded
client of ``video.fetch`` (SSRF guard, byte cap, timeouts, checked redirects). Both return a
``MediaSource`` whose ``label`` names what was given (the path, the URL, ``data:video/mp4
(N bytes)``), so every later error names the request's source. Local paths go through a
``SourcePolicy`` (``video.policy``); sizes through ``Limits`` (``video.limits``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import os
import pathlib
import re
import urllib.parse
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Literal, Union

from ..errors import InvalidMediaError
from .fetch import FetchPolicy, fetch
from .limits import DEFAULT_LIMITS, Limits
from .policy import LIBRARY_POLICY, SourcePolicy

__all__ = [
    "MediaSource", "SourceKind", "SourceLike", "data_url_payload", "file_url_path", "resolve_source", "resolve_source_async",
    "source_kind",
]

SourceLike = Union[bytes, bytearray, memoryview, str, os.PathLike]
# What a source is, as far as resolving it goes; ``source_kind`` tells.
SourceKind = Literal["resolved", "bytes", "path", "file", "data", "http"]

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^;,]*)*?),", re.IGNORECASE)


@dataclass(frozen=True)
class MediaSource:
    """Exactly one of ``data`` (encoded bytes) or ``path`` (a local file) is set."""

    data: bytes | None = None
    path: str | None = None
    label: str = "<bytes>"

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else os.path.getsize(self.path)  # type: ignore[arg-type]


def _short(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def source_kind(source: object) -> SourceKind:
    """Which resolver ``source`` goes to; raises for what no resolver takes.

    ``TypeError`` for a type that is not a source, ``InvalidMediaError`` for an empty string
    or a URL scheme we do not read (one letter is a Windows drive: a path).
    """
    if isinstance(source, MediaSource):
        return "resolved"
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "bytes"
    if isinstance(source, pathlib.PurePath):
        return "path"
    if not isinstance(source, str):
        raise TypeError(f"source must be bytes, a path or a URL string, got {type(source).__name__}")
    if not source:
        raise InvalidMediaError("empty source string")
    scheme = urllib.parse.urlsplit(source).scheme.lower() if ":" in source[:12] else ""
    if scheme in ("http", "https"):
        return "http"
    if scheme == "data" or scheme == "file":
        return scheme
    if scheme and len(scheme) > 1:
        raise InvalidMediaError(f"unsupported URL scheme {scheme!r} in {_short(source)!r}")
    return "path"


def resolve_source(
    source: SourceLike, *, limits: Limits = DEFAULT_LIMITS, policy: SourcePolicy | None = None
) -> MediaSource:
    """Turn a user-given source into a ``MediaSource``; bad input raises ``InvalidMediaError``.

    ``policy``: which local paths / ``file://`` URLs are allowed (default: any file).
    ``http(s)`` URLs need a network fetch: ``resolve_source_async`` (or ``load_video_async``).
    An already resolved ``MediaSource`` is returned as it is.
    """
    kind = source_kind(source)
    if isinstance(source, MediaSource):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise InvalidMediaError("empty input: received 0 bytes")
        limits.check_bytes(len(data), "video bytes")
        return MediaSource(data=data, label=f"<{len(data)} bytes>")
    text = os.fspath(source)
    if kind == "data":
        return _from_data_url(text, limits)
    if kind == "http":
        raise InvalidMediaError(
            f"{text.split(':', 1)[0].lower()} URLs are fetched by the server integration, not by load_video: "
            f"{_short(text)!r} (use load_video_async or resolve_source_async, which fetch it under a FetchPolicy)"
        )
    path = file_url_path(text) if kind == "file" else text
    return _checked(_from_path(path, text, policy or LIBRARY_POLICY), limits)


async def resolve_source_async(
    source: SourceLike,
    *,
    limits: Limits = DEFAULT_LIMITS,
    policy: SourcePolicy | None = None,
    fetch_policy: FetchPolicy | None = None,
    executor: Executor | None = None,
) -> MediaSource:
    """``resolve_source`` for async callers, with ``http(s)`` URLs too.

    An ``http(s)`` URL is fetched into memory on the running loop under ``fetch_policy``
    (default ``DEFAULT_FETCH_POLICY``: public addresses only, 200 MiB, 5 redirects; a server
    passes ``server_fetch_policy()``), then checked against ``limits``; the ``MediaSource``
    is labelled with the URL. Fetch errors (``FetchError``, ``BlockedAddressError``,
    ``MediaTooLargeError``) propagate and are counted in ``video.fetch.fetch_failures()``.
    Paths and ``data:`` URLs are resolved in ``executor`` (default: the loop's), since a
    filesystem check or a base64 decode of a large payload would stall the loop; bytes and
    ``MediaSource`` inline (no I/O).
    """
    kind = source_kind(source)
    if kind == "http":
        url = os.fspath(source)
        data = await fetch(url, policy=fetch_policy)
        return _checked(MediaSource(data=data, label=_short(url, 80)), limits)
    if kind in ("resolved", "bytes"):
        return resolve_source(source, limits=limits, policy=policy)
    resolve = functools.partial(resolve_source, source, limits=limits, policy=policy)
    return await asyncio.get_running_loop().run_in_executor(executor, resolve)


def _checked(src: MediaSource, limits: Limits) -> MediaSource:
    """``src`` if it is neither empty nor over ``limits.max_bytes``."""
    size = src.size
    if size == 0:
        raise InvalidMediaError(f"empty input: {src.label} has 0 bytes")
    limits.check_bytes(size, src.label)
    return src


def file_url_path(url: str) -> str:
    """The local path a ``file://`` URL names (``InvalidMediaError`` for another host)."""
    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise InvalidMediaError(f"file URL must name a local file, got host {parts.netloc!r}")
    return urllib.parse.unquote(parts.path)


def data_url_payload(url: str, limits: Any, media: str = "video", *, any_type: bool = False) -> tuple[bytes, str]:
    """(decoded payload, media type) of a ``data:<media>/<type>;base64,<payload>`` URL (also
    ``application/octet-stream``; any type with ``any_type``). ``limits.check_bytes`` sees the
    decoded size before anything is decoded."""
    m = _DATA_URL.match(url)
    if not m:
        raise InvalidMediaError(f"malformed data URL {_short(url)!r}: expected 'data:{media}/<type>;base64,<payload>'")
    mime = (m.group("mime") or "").lower()
    params = [p.strip().lower() for p in m.group("params").split(";") if p.strip()]
    if not (any_type or mime.startswith(f"{media}/") or mime == "application/octet-stream"):
        article = "an" if media[0] in "aeiou" else "a"
        raise InvalidMediaError(f"data URL media type {mime or '(none)'!r} is not {article} {media} type (expected {media}/...)")
    if "base64" not in params:
        raise InvalidMediaError("data URL must be base64-encoded (';base64,')")
    payload = url[m.end():]
    if limits.max_bytes is not None:  # before decoding: 4 chars per 3 bytes, less the '=' padding
        padding = 2 if payload.endswith("==") else 1 if payload.endswith("=") else 0
        limits.check_bytes(len(payload) * 3 // 4 - padding, "data URL payload")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidMediaError(f"data URL payload is not valid base64: {e}") from None
    return data, mime


def _from_data_url(url: str, limits: Limits) -> MediaSource:
    data, mime = data_url_payload(url, limits)
    return MediaSource(data=data, label=f"data:{mime} ({len(data)} bytes)")


def _from_path(path: str, label: str, policy: SourcePolicy) -> MediaSource:
    path = policy.check_path(path)  # first: a refusal must not tell what exists
    if not os.path.exists(path):
        raise InvalidMediaError(f"video file not found: {path!r}")
    if not os.path.isfile(path):
        raise InvalidMediaError(f"not a regular file: {path!r}")
    return MediaSource(path=path, label=label)
