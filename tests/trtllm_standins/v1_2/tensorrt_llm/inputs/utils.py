"""STAND-IN for ``tensorrt_llm.inputs.utils`` (1.2.x): ``VideoData`` and the video loaders.

The stock decoders are not modelled (they raise); only their names and signatures matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Union


@dataclass
class BaseModalityData:
    pass


@dataclass
class VideoData(BaseModalityData):
    frames: Union[List[Any], List[Any]]
    metadata: Dict[str, Any]

    def __post_init__(self) -> None:
        if not self.frames:
            raise ValueError("frames must not be empty")
        if not isinstance(self.metadata, dict):
            raise ValueError("metadata must be a dict")


def _load_video_by_cv2(video: str, num_frames: int = 10, fps: int = 30, format: str = "pt", device: str = "cpu") -> VideoData:
    raise NotImplementedError("stand-in: the stock 1.2 cv2 decoder is not modelled")


def load_video(video: str, num_frames: int = 10, fps: int = 30, format: str = "pt", device: str = "cpu") -> VideoData:
    raise NotImplementedError("stand-in: the stock 1.2 load_video is not modelled")


async def async_load_video(video: str, num_frames: int = 10, fps: int = 30, format: str = "pt", device: str = "cpu") -> VideoData:
    raise NotImplementedError("stand-in: the stock 1.2 async_load_video is not modelled")


def load_base64_video(video: str) -> bytes:
    import base64

    return base64.b64decode(video.split(",", 1)[1])
