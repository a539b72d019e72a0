"""STAND-IN for ``tensorrt_llm.inputs.multimodal_data`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/inputs/multimodal_data.py, newest version in the facts (stored index
id 57453121193, commit not stored; it matches media_io.py @c1d898bb5e905e35ffc2f06499c5e3415d0b9b34).

Mirrored: ``serialize_item`` (the canonical tagged encoding), ``BaseModalityData.update_hash``,
``AudioData`` and ``VideoData`` (frames may be a list or ONE (N,H,W,3) ndarray; the empty
check is ``len(frames) == 0``) and ``VideoData.update_hash`` in its exact order: ``<video>``,
the sampling metadata, then ``<raw_bytes>`` + ``raw_bytes_hash`` if set, else every frame,
then the audio.

Simplified: ``serialize_item`` builds ``bytes`` instead of streaming into the hasher (same byte
sequence); length prefixes inside the PIL / array encodings are u64 (the facts say
"len-prefixed").
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
    frames: Union[List[Image.Image], List[torch.Tensor], np.ndarray]
    metadata: Dict[str, Any]
    audio: Optional[AudioData] = None
    raw_bytes_hash: Optional[str] = None

    def __post_init__(self) -> None:
        if len(self.frames) == 0:
            raise ValueError("frames cannot be empty")
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
