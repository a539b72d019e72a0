"""STAND-IN for ``tensorrt_llm.inputs.media_io`` (main): media IO classes and their registry.

``BaseMediaIO.async_load`` dispatches on the URL scheme and runs the synchronous
``load_*`` methods in ``BaseMediaIO._executor`` (the loop's default pool when unset).
The stock decoders and the safe HTTP client are not modelled (they raise).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import urllib.parse
from abc import ABC, abstractmethod
from concurrent.futures import Executor
from types import MappingProxyType
from typing import Any, ClassVar, Dict, Generic, Mapping, Optional, Type, TypeVar

from .multimodal_data import VideoData

_MediaT = TypeVar("_MediaT")


async def _safe_aiohttp_get(url: str) -> bytes:
    raise NotImplementedError("stand-in: no network (tests patch this)")


class BaseMediaIO(ABC, Generic[_MediaT]):
    _executor: ClassVar[Optional[Executor]] = None

    @classmethod
    def set_executor(cls, executor: Executor) -> None:
        BaseMediaIO._executor = executor

    @classmethod
    def merge_kwargs(cls, default_kwargs: Optional[Dict[str, Any]], runtime_kwargs: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        return {**(default_kwargs or {}), **(runtime_kwargs or {})}

    @classmethod
    def create(cls, default_kwargs: Optional[Dict[str, Any]] = None, runtime_kwargs: Optional[Dict[str, Any]] = None):
        return cls(**cls.merge_kwargs(default_kwargs, runtime_kwargs))

    @abstractmethod
    def load_bytes(self, data: bytes) -> _MediaT: ...

    @abstractmethod
    def load_base64(self, media_type: str, data: str) -> _MediaT: ...

    @abstractmethod
    def load_file(self, url: str) -> _MediaT: ...

    @staticmethod
    async def _run_in_executor(fn, *args, **kwargs):
        return await asyncio.get_event_loop().run_in_executor(BaseMediaIO._executor, functools.partial(fn, *args, **kwargs))

    async def async_load(self, url: str) -> _MediaT:
        scheme = urllib.parse.urlparse(url).scheme
        if scheme in ("http", "https"):
            data = await _safe_aiohttp_get(url)
            return await self._run_in_executor(self.load_bytes, data)
        if scheme == "data":
            header, payload = url[len("data:"):].split(",", 1)
            media_type, _, encoding = header.partition(";")
            if encoding != "base64":
                raise ValueError("only base64 data URLs are supported")
            return await self._run_in_executor(self.load_base64, media_type, payload)
        if scheme in ("", "file"):
            return await self._run_in_executor(self.load_file, url)
        raise ValueError(f"unsupported URL scheme {scheme!r}")


class VideoMediaIO(BaseMediaIO[VideoData]):
    def __init__(self, num_frames: int = 10, fps: int = 30, format: str = "pt", device: str = "cpu",
                 extract_audio: bool = False, hash_source: bool = False):
        if format not in ("pt", "np", "pil"):
            raise ValueError(f"format must be one of pt, np, pil; got {format!r}")
        self.num_frames = num_frames
        self.fps = fps
        self.format = format
        self.device = device
        self.extract_audio = extract_audio
        self.hash_source = hash_source

    @classmethod
    def merge_kwargs(cls, default_kwargs, runtime_kwargs):
        default_kwargs = dict(default_kwargs or {})
        runtime_kwargs = dict(runtime_kwargs or {})
        # A request that sets only one of num_frames / fps drops the server default of the other.
        if ("num_frames" in runtime_kwargs) != ("fps" in runtime_kwargs):
            default_kwargs.pop("fps" if "num_frames" in runtime_kwargs else "num_frames", None)
        return {**default_kwargs, **runtime_kwargs}

    def load_bytes(self, data: bytes) -> VideoData:
        raise NotImplementedError("stand-in: the stock VideoMediaIO decoder is not modelled")

    def load_base64(self, media_type: str, data: str) -> VideoData:
        return self.load_bytes(base64.b64decode(data))

    def load_file(self, url: str) -> VideoData:
        raise NotImplementedError("stand-in: the stock VideoMediaIO decoder is not modelled")


class ImageMediaIO(BaseMediaIO[Any]):
    def __init__(self, format: str = "pt", device: str = "cpu"):
        self.format, self.device = format, device

    def load_bytes(self, data):
        raise NotImplementedError

    def load_base64(self, media_type, data):
        raise NotImplementedError

    def load_file(self, url):
        raise NotImplementedError


class AudioMediaIO(ImageMediaIO):
    def __init__(self, **ignored: Any):
        pass


MEDIA_IO_REGISTRY: Mapping[str, Type[BaseMediaIO]] = MappingProxyType(
    {"image": ImageMediaIO, "video": VideoMediaIO, "audio": AudioMediaIO}
)


def _load_video_by_cv2(video, num_frames=10, fps=30, format="pt", device="cpu", extract_audio=False,
                       cv2_backend=None, raw_bytes_hash=None) -> VideoData:
    raise NotImplementedError("stand-in: the stock cv2 decoder is not modelled")
