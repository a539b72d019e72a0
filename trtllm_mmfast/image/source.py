"""What a request gives for an image -> its encoded bytes and a label naming it.

Bytes, a local path, a ``file://`` URL or a ``data:image/...;base64,`` URL. ``http(s)://``
is not fetched here: ``video.fetch`` refuses ``image/*`` responses (it guards video
requests), and the TensorRT-LLM integration fetches image URLs with TensorRT-LLM's own
client. Local
files go through a ``SourcePolicy`` (``video.policy``: any file for library calls, the
allowed roots for a server). Everything is read into memory: an image is decoded from
bytes, so no file handle outlives the call.
"""

from __future__ import annotations

import os
from typing import Union

from ..errors import InvalidMediaError
from ..video.policy import LIBRARY_POLICY, SourcePolicy
from ..video.source import _short, data_url_payload, file_url_path, source_kind
from .limits import DEFAULT_IMAGE_LIMITS, ImageLimits

__all__ = ["ImageSourceLike", "data_url_bytes", "file_url_path", "image_bytes", "path_bytes"]  # file_url_path: video.source's

ImageSourceLike = Union[bytes, bytearray, memoryview, str, os.PathLike]

def data_url_bytes(url: str, limits: ImageLimits = DEFAULT_IMAGE_LIMITS, *, any_type: bool = False) -> tuple[bytes, str]:
    """(payload, label) of a ``data:image/<type>;base64,<payload>`` URL (also octet-stream;
    any media type with ``any_type``, as TensorRT-LLM, which ignores it)."""
    data, mime = data_url_payload(url, limits, "image", any_type=any_type)
    return data, f"data:{mime} ({len(data)} bytes)"


def path_bytes(path: str, *, limits: ImageLimits = DEFAULT_IMAGE_LIMITS, policy: SourcePolicy = LIBRARY_POLICY,
               label: str | None = None) -> tuple[bytes, str]:
    """(contents, label) of a local image file allowed by ``policy``."""
    label = label or path
    path = policy.check_path(path)  # first: a refusal must not tell what exists
    if not os.path.isfile(path):
        raise InvalidMediaError(f"image file not found: {path!r}" if not os.path.exists(path) else f"not a regular file: {path!r}")
    limits.check_bytes(os.path.getsize(path), label)
    with open(path, "rb") as f:
        return f.read(), label


def image_bytes(source: ImageSourceLike, *, limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
                policy: SourcePolicy | None = None) -> tuple[bytes, str]:
    """(encoded bytes, label) for bytes, a path, ``file://`` or ``data:``; ``InvalidMediaError``
    for what is not one (http(s) needs ``image_bytes_async``)."""
    kind = source_kind(source)
    if kind == "bytes":
        data = bytes(source)  # type: ignore[arg-type]
        return data, f"<{len(data)} bytes>"
    if kind == "resolved":  # a video.source.MediaSource (already resolved and policy-checked)
        if source.data is not None:  # type: ignore[union-attr]
            return source.data, source.label  # type: ignore[union-attr]
        return path_bytes(source.path, limits=limits, label=source.label)  # type: ignore[union-attr, arg-type]
    text = os.fspath(source)  # type: ignore[arg-type]
    if kind == "data":
        return data_url_bytes(text, limits)
    if kind == "http":
        raise InvalidMediaError(
            f"http(s) image URLs are not fetched by trtllm_mmfast.image: {_short(text)!r} (fetch the bytes and pass "
            "them; behind trtllm-serve, TensorRT-LLM's own client fetches them)"
        )
    path = file_url_path(text) if kind == "file" else text
    return path_bytes(path, limits=limits, policy=policy or LIBRARY_POLICY, label=text)
