"""STAND-IN for ``tensorrt_llm.inputs.multimodal_data`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/inputs/multimodal_data.py @ 0142b193cc0252aeca5d69eacd619d03276e9dcf
(docs/facts/trtllm_media.md §3). Same as main's stand-in (duplicated on purpose) except: ``frames`` is
a LIST (``if not self.frames`` -> ``ValueError("frames list cannot be empty")``, which is
ambiguous for an N>1 ndarray — as in the real file). ``update_hash`` is identical to the newer
version: ``<video>``, metadata, ``<raw_bytes>`` + hash if set else every frame, then audio.

Simplified: ``serialize_item`` returns bytes (same byte sequence); u64 length prefixes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Protocol, Union

import numpy as np
import torch
from PIL import Image

_VIDEO_HASH_METADATA_FIELDS = ("frames_indices", "fps", "duration", "total_num_frames")


class ContentHasher(Protocol):
    def update(self, data: bytes, /) -> Any: ...


def _u64(n: int) -> bytes:
    return struct.pack(">Q", n)


def _lp(b: bytes) -> bytes:
    return _u64(len(b)) + b


def serialize_item(obj: Any) -> bytes:
    """Canonical, type-tagged bytes for hashing (big-endian integers)."""
    if isinstance(obj, np.generic):
        return serialize_item(obj.item())
    if isinstance(obj, str):
        return b"\x01" + _lp(obj.encode("utf-8"))
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return b"\x02" + _lp(bytes(obj))
    if isinstance(obj, bool):
        return b"\x05" + struct.pack(">B", int(obj))
    if isinstance(obj, int):
        nbytes = (obj.bit_length() + 8) // 8
        return b"\x03" + struct.pack(">B", nbytes) + obj.to_bytes(nbytes, "big", signed=True)
    if isinstance(obj, float):
        return b"\x04" + struct.pack(">d", obj)
    if isinstance(obj, Image.Image):
        rgba = np.array(obj.convert("RGBA"))
        return (b"\x10" + _lp(obj.mode.encode("utf-8")) + struct.pack(">II", obj.width, obj.height)
                + _lp(rgba.tobytes()))
    if isinstance(obj, (torch.Tensor, np.ndarray)):
        arr = obj.detach().cpu().contiguous().numpy() if isinstance(obj, torch.Tensor) else np.ascontiguousarray(obj)
        out = [b"\x11", _lp(arr.dtype.str.encode("ascii")), struct.pack(">B", arr.ndim)]
        out += [_u64(d) for d in arr.shape]
        out.append(_lp(arr.tobytes()))
        return b"".join(out)
    if isinstance(obj, (list, tuple)):
        return b"\x20" + _u64(len(obj)) + b"".join(serialize_item(x) for x in obj)
    if isinstance(obj, dict):
        return b"\x22" + _u64(len(obj)) + b"".join(serialize_item(k) + serialize_item(obj[k]) for k in sorted(obj))
    raise ValueError(f"Unsupported object type: {type(obj)}")


@dataclass
class BaseModalityData:
    def update_hash(self, hasher: ContentHasher) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update_hash()")


@dataclass
class AudioData(BaseModalityData):
    samples: Union[np.ndarray, torch.Tensor]
    sample_rate: int

    def __post_init__(self) -> None:
        if not isinstance(self.samples, (np.ndarray, torch.Tensor)):
            raise TypeError("samples must be a numpy array or torch tensor")
        self.sample_rate = int(self.sample_rate)

    def update_hash(self, hasher: ContentHasher) -> None:
        hasher.update(b"<audio>")
        hasher.update(serialize_item((self.samples, self.sample_rate)))


@dataclass
class VideoData(BaseModalityData):
    frames: Union[List[Image.Image], List[torch.Tensor], List[np.ndarray]]
    metadata: Dict[str, Any]
    audio: Optional[AudioData] = None
    raw_bytes_hash: Optional[str] = None

    def __post_init__(self) -> None:
        if not self.frames:
            raise ValueError("frames list cannot be empty")
        if not isinstance(self.metadata, dict):
            raise TypeError("metadata must be a dictionary")

    def update_hash(self, hasher: ContentHasher) -> None:
        hasher.update(b"<video>")
        meta = {k: self.metadata[k] for k in _VIDEO_HASH_METADATA_FIELDS if k in self.metadata}
        hasher.update(serialize_item(meta))
        if self.raw_bytes_hash is not None:
            hasher.update(b"<raw_bytes>")
            hasher.update(self.raw_bytes_hash.encode("utf-8"))
        else:
            for frame in self.frames:
                hasher.update(b"<frame>")
                hasher.update(serialize_item(frame))
        if self.audio is not None:
            self.audio.update_hash(hasher)
