"""Resolve what a request gives us (bytes, path, file:// or data: URL) to bytes or a local path.

``http(s)://`` URLs are not resolved here (fetching is async: ``video.fetch`` and
``load_video_async``); local paths go through a ``SourcePolicy`` (``video.policy``).
"""

from __future__ import annotations

import base64
import binascii
import os
import pathlib
import re
import urllib.parse
from dataclasses import dataclass
from typing import Union

from ..errors import InvalidMediaError
from .limits import DEFAULT_LIMITS, Limits
from .policy import LIBRARY_POLICY, SourcePolicy

__all__ = ["MediaSource", "SourceLike", "resolve_source"]

SourceLike = Union[bytes, bytearray, memoryview, str, os.PathLike]

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

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        with open(self.path, "rb") as f:  # type: ignore[arg-type]
            return f.read()


def _short(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def _from_data_url(url: str, limits: Limits) -> MediaSource:
    m = _DATA_URL.match(url)
    if not m:
        raise InvalidMediaError(f"malformed data URL {_short(url)!r}: expected 'data:video/<type>;base64,<payload>'")
    mime = (m.group("mime") or "").lower()
    params = [p.strip().lower() for p in m.group("params").split(";") if p.strip()]
    if not (mime.startswith("video/") or mime == "application/octet-stream"):
        raise InvalidMediaError(f"data URL media type {mime or '(none)'!r} is not a video type (expected video/...)")
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
    return MediaSource(data=data, label=f"data:{mime} ({len(data)} bytes)")


def _from_path(path: str, label: str, policy: SourcePolicy) -> MediaSource:
    path = policy.check_path(path)  # first: a refusal must not tell what exists
    if not os.path.exists(path):
        raise InvalidMediaError(f"video file not found: {path!r}")
    if not os.path.isfile(path):
        raise InvalidMediaError(f"not a regular file: {path!r}")
    return MediaSource(path=path, label=label)


def resolve_source(
    source: SourceLike, *, limits: Limits = DEFAULT_LIMITS, policy: SourcePolicy | None = None
) -> MediaSource:
    """Turn a user-given source into a ``MediaSource``; bad input raises ``InvalidMediaError``.

    ``policy``: which local paths / ``file://`` URLs are allowed (default: any file).
    """
    policy = policy or LIBRARY_POLICY
    if isinstance(source, MediaSource):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if not data:
            raise InvalidMediaError("empty input: received 0 bytes")
        limits.check_bytes(len(data), "video bytes")
        return MediaSource(data=data, label=f"<{len(data)} bytes>")
    if isinstance(source, pathlib.PurePath):
        src = _from_path(os.fspath(source), os.fspath(source), policy)
    elif isinstance(source, str):
        if not source:
            raise InvalidMediaError("empty source string")
        scheme = urllib.parse.urlsplit(source).scheme.lower() if ":" in source[:12] else ""
        if scheme == "data":
            return _from_data_url(source, limits)
        if scheme == "file":
            parts = urllib.parse.urlsplit(source)
            if parts.netloc not in ("", "localhost"):
                raise InvalidMediaError(f"file URL must name a local file, got host {parts.netloc!r}")
            path = urllib.parse.unquote(parts.path)
            src = _from_path(path, source, policy)
        elif scheme in ("http", "https"):
            raise InvalidMediaError(
                f"{scheme} URLs are fetched by the server integration, not by load_video: {_short(source)!r}"
            )
        elif scheme and len(scheme) > 1:  # one letter: a Windows drive, treat as a path
            raise InvalidMediaError(f"unsupported URL scheme {scheme!r} in {_short(source)!r}")
        else:
            src = _from_path(source, source, policy)
    else:
        raise TypeError(f"source must be bytes, a path or a URL string, got {type(source).__name__}")
    if src.size == 0:
        raise InvalidMediaError(f"empty input: {src.label} has 0 bytes")
    limits.check_bytes(src.size, src.label)
    return src
