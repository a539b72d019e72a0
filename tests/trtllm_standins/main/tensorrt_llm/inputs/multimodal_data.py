"""STAND-IN for ``tensorrt_llm.inputs.multimodal_data`` (main): ``VideoData`` with audio and hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional


@dataclass
class BaseModalityData:
    pass


@dataclass
class VideoData(BaseModalityData):
    frames: List[Any]
    metadata: Dict[str, Any]
    audio: Optional[Any] = None
    raw_bytes_hash: Optional[str] = None

    def __post_init__(self) -> None:
        if not self.frames:
            raise ValueError("frames must not be empty")
        if not isinstance(self.metadata, dict):
            raise ValueError("metadata must be a dict")

    def update_hash(self, hasher: Any) -> None:
        for key in ("frames_indices", "fps", "duration", "total_num_frames"):
            hasher.update(repr(self.metadata.get(key)).encode())
        if self.raw_bytes_hash is not None:
            hasher.update(self.raw_bytes_hash.encode())
            return
        from .multimodal import _serialize

        for frame in self.frames:
            hasher.update(_serialize(frame))
