"""STAND-IN for ``tensorrt_llm.inputs.media_io`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/inputs/media_io.py @ c1d898bb5e905e35ffc2f06499c5e3415d0b9b34
(newest read; no ``hash_source``). Written from docs/facts/trtllm_media.md §1.

Mirrored: ``BaseMediaIO`` (global ``set_executor``, ``create`` / ``merge_kwargs``, URL-scheme
dispatch of ``async_load`` with the exact ``data:`` parsing, ``_run_in_executor``);
``VideoMediaIO`` (``load_bytes`` always sets ``raw_bytes_hash = blake3(data).hexdigest()``;
cv2 in memory via ``_select_cv2_stream_buffered_backend`` (OpenCV >= 4.13 + plugin ABI rule),
else a ``/dev/shm`` NamedTemporaryFile; ``load_file`` reads the bytes and calls ``load_bytes``);
``_load_video_by_cv2`` (errors, ``n`` formula, always ``linspace``, one sequential
``grab()``/``retrieve()`` pass into a preallocated (N,H,W,3) uint8 array, formats ``pt`` /
``np`` (ONE ndarray) / ``pil``); ``extract_audio_from_video`` (PyAV behind
``TRTLLM_ENABLE_PYAV=1``); the read-only ``MEDIA_IO_REGISTRY``.

Images (read at this commit; docs/facts/trtllm_images.md): ``rgba_to_rgb`` (white, ``paste`` with the
alpha mask; ValueError unless RGBA), ``convert_image_mode``, ``_load_and_convert_image`` (open, ``load()``,
RGB; no EXIF rotation), ``ImageMediaIO(format="pt"|"pil", device)`` (``"pt"`` = ``ToTensor``; ``load_base64``
decodes itself, not through ``load_bytes``).

Simplified: the HTTP client keeps the public-address check, manual redirects and the size cap
but not every header detail; ``_safe_request_get`` needs ``requests`` (imported lazily);
``AudioMediaIO`` needs ``soundfile`` (imported lazily); logging is plain ``logging``.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import ipaddress
import logging
import math
import os
import socket
import tempfile
from abc import ABC, abstractmethod
from concurrent.futures import Executor
from io import BytesIO
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Dict, Generic, Literal, Mapping, Optional, Tuple, Type, TypeVar, Union
from urllib.parse import unquote, urljoin, urlparse

import numpy as np
import torch
from blake3 import blake3
from packaging.version import Version
from PIL import Image

from .multimodal_data import AudioData, VideoData

logger = logging.getLogger("tensorrt_llm")

MediaModality = Literal["image", "video", "audio"]
_MediaT = TypeVar("_MediaT")

_SUPPORTED_IMAGE_FORMATS = ("pt", "pil")
_SUPPORTED_VIDEO_FORMATS = ("pt", "np", "pil")

_MAX_RESPONSE_BYTES = 200 * 1024 * 1024
_RESPONSE_CHUNK_BYTES = 1024 * 1024
_MAX_REDIRECTS = 5
_REDIRECT_STATUSES = (301, 302, 303, 307, 308)

_VIDEO_TEMPFILE_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None

# ---- HTTP ------------------------------------------------------------------------------------

_global_aiohttp_session = None


async def _get_aiohttp_session():
    global _global_aiohttp_session
    import aiohttp

    if _global_aiohttp_session is None or _global_aiohttp_session.closed:
        _global_aiohttp_session = aiohttp.ClientSession()
    return _global_aiohttp_session


def _validate_url(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        raise RuntimeError(f"Only http and https URLs are allowed, got: {parsed.scheme!r}")
    host = parsed.hostname
    if not host:
        raise RuntimeError(f"URL has no hostname: {url!r}")
    try:
        infos = socket.getaddrinfo(host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except socket.gaierror as e:
        raise RuntimeError(f"Could not resolve hostname {host!r}: {e}") from e
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise RuntimeError(f"URL resolves to a non-public address ({ip})")


async def _safe_aiohttp_get(url: str, timeout_sec: float = 30, session: Any = None) -> bytes:
    import aiohttp

    session = session or await _get_aiohttp_session()
    timeout = aiohttp.ClientTimeout(total=timeout_sec)
    for _ in range(_MAX_REDIRECTS + 1):
        await asyncio.to_thread(_validate_url, url)
        async with session.get(url, allow_redirects=False, timeout=timeout) as resp:
            if resp.status in _REDIRECT_STATUSES:
                url = urljoin(url, resp.headers.get("Location", ""))
                continue
            resp.raise_for_status()
            chunks, total = [], 0
            async for chunk in resp.content.iter_chunked(_RESPONSE_CHUNK_BYTES):
                total += len(chunk)
                if total > _MAX_RESPONSE_BYTES:
                    raise RuntimeError("Response exceeds maximum allowed size")
                chunks.append(chunk)
            return b"".join(chunks)
    raise RuntimeError("Too many redirects")


def _safe_request_get(url: str, *, stream: bool = False, timeout: float = 30):
    import requests  # stand-in: imported lazily (not installed on the test machines)

    for _ in range(_MAX_REDIRECTS + 1):
        _validate_url(url)
        resp = requests.get(url, stream=True, timeout=timeout, allow_redirects=False)
        if resp.status_code in _REDIRECT_STATUSES:
            url = urljoin(url, resp.headers.get("Location", ""))
            continue
        resp.raise_for_status()
        body = bytearray()
        for chunk in resp.iter_content(_RESPONSE_CHUNK_BYTES):
            body += chunk
            if len(body) > _MAX_RESPONSE_BYTES:
                raise RuntimeError("Response exceeds maximum allowed size")
        resp._content = bytes(body)
        resp.raw = BytesIO(resp._content)
        return resp
    raise RuntimeError("Too many redirects")


# ---- images ----------------------------------------------------------------------------------


# rgba_to_rgb, convert_image_mode, _load_and_convert_image: the shared stand-in rules (pil_rules.py)
from trtllm_standins.pil_rules import _load_and_convert_image, convert_image_mode, rgba_to_rgb  # noqa: E402,F401


def _normalize_file_uri(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


# ---- cv2 -------------------------------------------------------------------------------------


def _get_cv2():
    try:
        import cv2
    except ImportError as e:
        raise ImportError("OpenCV (cv2) is required for video decoding but is not installed. "
                          "Install it with `pip install opencv-python-headless`.") from e
    return cv2


def _select_cv2_stream_buffered_backend() -> Optional[int]:
    """First usable stream-buffered (in-memory) backend, or None. Not cached."""
    cv2 = _get_cv2()
    if Version(cv2.__version__) < Version("4.13.0"):
        return None
    registry = cv2.videoio_registry
    for backend in registry.getStreamBufferedBackends():
        if not registry.hasBackend(backend):
            continue
        if not registry.isBackendBuiltIn(backend):
            _, abi, api = registry.getStreamBufferedBackendPluginVersion(backend)
            if abi < 1 or (abi == 1 and api < 2):
                continue
        return backend
    return None


def extract_audio_from_video(source: Union[str, BytesIO], *, sr: Optional[float] = None,
                             mono: bool = True) -> Tuple[np.ndarray, int]:
    if os.environ.get("TRTLLM_ENABLE_PYAV", "0") != "1":
        raise RuntimeError("PyAV is required for audio extraction from video. "
                           "Set the environment variable TRTLLM_ENABLE_PYAV=1 to enable it.")
    try:
        import av
    except ImportError as e:
        raise ImportError("PyAV is required for audio extraction from video but is not installed.") from e
    try:
        with av.open(source) as container:
            if not container.streams.audio:
                raise ValueError("No audio stream found in the video.")
            stream = container.streams.audio[0]
            stream.thread_type = "AUTO"
            native_sr = stream.rate
            target_sr = int(sr) if sr is not None else native_sr
            target_layout = "mono" if mono else stream.layout.name
            resampler = None
            if (target_sr != native_sr or stream.format.name != "fltp"
                    or stream.layout.name != target_layout):
                resampler = av.AudioResampler(format="fltp", layout=target_layout, rate=target_sr)
            chunks = []
            for frame in container.decode(stream):
                for f in (resampler.resample(frame) if resampler else [frame]):
                    arr = f.to_ndarray()
                    if mono and arr.ndim > 1:
                        arr = arr.mean(axis=0)
                    chunks.append(arr)
            if resampler is not None:
                for f in resampler.resample(None):
                    arr = f.to_ndarray()
                    chunks.append(arr.mean(axis=0) if mono and arr.ndim > 1 else arr)
    except ValueError:
        raise
    except Exception as e:
        raise ValueError("Invalid or corrupted video data when extracting audio. "
                         "Ensure the input is a valid video file.") from e
    if not chunks:
        raise ValueError("No audio frames decoded from the video.")
    return np.concatenate(chunks, axis=-1).astype(np.float32, copy=False), target_sr


def _load_video_by_cv2(video: Union[str, bytes], num_frames: int = 10, fps: int = 30, format: str = "pt",
                       device: str = "cpu", extract_audio: bool = False, cv2_backend: Optional[int] = None,
                       raw_bytes_hash: Optional[str] = None) -> VideoData:
    assert format in _SUPPORTED_VIDEO_FORMATS, "format must be one of 'pt', 'np', 'pil'"
    cv2 = _get_cv2()
    is_bytes = isinstance(video, (bytes, bytearray, memoryview))
    if is_bytes:
        if cv2_backend is None:
            raise ValueError("cv2_backend must be provided when `video` is bytes; "
                             "use _select_cv2_stream_buffered_backend() or pass a file path.")
        video_buf = BytesIO(bytes(video))  # must stay referenced while the capture reads it
        vidcap = cv2.VideoCapture(video_buf, cv2_backend, [])
        src_repr = f"<{len(video)} bytes>"
    else:
        vidcap = cv2.VideoCapture(video)
        src_repr = repr(video)
    try:
        if not vidcap.isOpened():
            raise ValueError(f"Video {src_repr} could not be opened. Make sure opencv is installed with video support.")
        frame_count = int(vidcap.get(cv2.CAP_PROP_FRAME_COUNT))
        original_fps = vidcap.get(cv2.CAP_PROP_FPS)
        if frame_count <= 0 or original_fps <= 0:
            raise ValueError("Video has no frames or invalid FPS.")
        duration = frame_count / original_fps
        n = frame_count
        if num_frames > 0:
            n = min(num_frames, frame_count)
        if fps > 0:
            n = min(n, math.floor(duration * fps))
        n = max(1, n)
        indices = np.linspace(0, frame_count - 1, n, dtype=int).tolist()

        H = int(vidcap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        W = int(vidcap.get(cv2.CAP_PROP_FRAME_WIDTH))
        stacked_rgb = np.empty((n, H, W, 3), dtype=np.uint8)
        target_set, max_idx = set(indices), indices[-1]
        bgr_scratch, valid_indices, frame_idx = None, [], 0
        while frame_idx <= max_idx and vidcap.grab():
            if frame_idx in target_set:
                ok, bgr_scratch = vidcap.retrieve(bgr_scratch)
                if ok and bgr_scratch.shape[:2] == (H, W):
                    cv2.cvtColor(bgr_scratch, cv2.COLOR_BGR2RGB, dst=stacked_rgb[len(valid_indices)])
                    valid_indices.append(frame_idx)
            frame_idx += 1
        vidcap.release()
        if not valid_indices:
            raise ValueError("Video has no readable frames.")
        stacked_rgb = stacked_rgb[:len(valid_indices)]

        if format == "pt":
            t = torch.from_numpy(stacked_rgb.astype(np.float32) * (1 / 255)).permute(0, 3, 1, 2).contiguous()
            if device != "cpu":
                t = t.to(device)
            frames: Any = list(torch.unbind(t, 0))
        elif format == "np":
            frames = stacked_rgb
        else:
            frames = [Image.fromarray(f) for f in stacked_rgb]
        metadata = {"total_num_frames": frame_count, "fps": original_fps, "duration": duration,
                    "frames_indices": valid_indices}
    finally:
        vidcap.release()

    audio = None
    if extract_audio:
        src = BytesIO(bytes(video)) if is_bytes else video
        try:
            samples, sample_rate = extract_audio_from_video(src)
            audio = AudioData(samples, sample_rate)
        except ValueError as e:
            if "No audio stream found" not in str(e):
                raise
            logger.warning("Video has no audio track, skipping audio extraction.")
    return VideoData(frames=frames, metadata=metadata, audio=audio, raw_bytes_hash=raw_bytes_hash)


# ---- media IO classes ------------------------------------------------------------------------


class BaseMediaIO(ABC, Generic[_MediaT]):
    _executor: ClassVar[Optional[Executor]] = None

    @classmethod
    def set_executor(cls, executor: Optional[Executor]) -> None:
        BaseMediaIO._executor = executor  # global to every subclass; a later call replaces it

    @classmethod
    def merge_kwargs(cls, default_kwargs: Optional[Dict[str, Any]],
                     runtime_kwargs: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        merged = dict(default_kwargs or {})
        if runtime_kwargs:
            merged.update(runtime_kwargs)
        return merged

    @classmethod
    def create(cls, default_kwargs: Optional[Dict[str, Any]] = None,
               runtime_kwargs: Optional[Dict[str, Any]] = None) -> "BaseMediaIO":
        merged = cls.merge_kwargs(default_kwargs, runtime_kwargs)
        logger.debug("effective %s kwargs keys: %s", cls.__name__, sorted(merged))
        return cls(**merged)

    @abstractmethod
    def load_bytes(self, data: bytes) -> _MediaT: ...

    @abstractmethod
    def load_base64(self, media_type: str, data: str) -> _MediaT: ...

    @abstractmethod
    def load_file(self, url: str) -> _MediaT: ...

    @staticmethod
    async def _run_in_executor(fn, *args, **kwargs):
        if kwargs:
            fn = functools.partial(fn, **kwargs)
        return await asyncio.get_event_loop().run_in_executor(BaseMediaIO._executor, fn, *args)

    async def async_load(self, url: str) -> _MediaT:
        parsed = urlparse(url)
        scheme = parsed.scheme
        if scheme in ("http", "https"):
            session = await _get_aiohttp_session()
            data = await _safe_aiohttp_get(url, session=session)
            return await self._run_in_executor(self.load_bytes, data)
        if scheme == "data":
            data_spec, b64_data = parsed.path.split(",", 1)
            parts = data_spec.split(";", 1)
            media_type = parts[0]
            encoding = parts[1] if len(parts) > 1 else ""
            if encoding != "base64":
                raise NotImplementedError("Only base64 data URLs are supported for now.")
            return await self._run_in_executor(self.load_base64, media_type, b64_data)
        if scheme in ("", "file"):
            return await self._run_in_executor(self.load_file, url)
        raise ValueError(f"Unsupported URL scheme: {scheme!r}")


class ImageMediaIO(BaseMediaIO[Any]):
    def __init__(self, format: str = "pt", device: str = "cpu"):
        if format not in _SUPPORTED_IMAGE_FORMATS:
            raise ValueError(f"format must be one of {_SUPPORTED_IMAGE_FORMATS}, got {format!r}")
        self._format, self._device = format, device

    def _postprocess(self, img: Image.Image) -> Any:
        if self._format == "pt":
            from torchvision.transforms import ToTensor

            return ToTensor()(img).to(self._device)
        return img

    def load_bytes(self, data: bytes) -> Any:
        return self._postprocess(_load_and_convert_image(BytesIO(data)))

    def load_base64(self, media_type: str, data: str) -> Any:
        # as in the real file: decoded here, NOT through self.load_bytes (a subclass overriding
        # load_bytes alone does not change data: URLs); non-validating b64decode, media_type unused
        return self._postprocess(_load_and_convert_image(BytesIO(base64.b64decode(data))))

    def load_file(self, url: str) -> Any:
        return self._postprocess(_load_and_convert_image(Path(_normalize_file_uri(url))))


class AudioMediaIO(BaseMediaIO[Tuple[np.ndarray, int]]):
    def __init__(self, **kwargs: Any):
        if kwargs:
            logger.warning("AudioMediaIO received unexpected kwargs %s — they are ignored.", sorted(kwargs))

    def load_bytes(self, data: bytes):
        import soundfile  # stand-in: imported lazily

        return soundfile.read(BytesIO(data))

    def load_base64(self, media_type: str, data: str):
        return self.load_bytes(base64.b64decode(data))

    def load_file(self, url: str):
        import soundfile

        return soundfile.read(_normalize_file_uri(url) if url.startswith("file:") else url)


class VideoMediaIO(BaseMediaIO[VideoData]):
    def __init__(self, num_frames: int = 10, fps: int = 30, format: str = "pt", device: str = "cpu",
                 extract_audio: bool = False):
        if format not in _SUPPORTED_VIDEO_FORMATS:
            raise ValueError(f"format must be one of {_SUPPORTED_VIDEO_FORMATS}, got {format!r}")
        self._num_frames = num_frames
        self._fps = fps
        self._format = format
        self._device = device
        self._extract_audio = extract_audio

    @classmethod
    def merge_kwargs(cls, default_kwargs, runtime_kwargs):
        merged = super().merge_kwargs(default_kwargs, runtime_kwargs)
        if runtime_kwargs:
            if "num_frames" in runtime_kwargs and "fps" not in runtime_kwargs:
                merged.pop("fps", None)
            elif "fps" in runtime_kwargs and "num_frames" not in runtime_kwargs:
                merged.pop("num_frames", None)
        return merged

    def _decode(self, video: Union[str, bytes], cv2_backend: Optional[int], raw_bytes_hash: Optional[str]) -> VideoData:
        return _load_video_by_cv2(video, self._num_frames, self._fps, self._format, self._device,
                                  extract_audio=self._extract_audio, cv2_backend=cv2_backend,
                                  raw_bytes_hash=raw_bytes_hash)

    def load_bytes(self, data: bytes) -> VideoData:
        raw_bytes_hash = blake3(data).hexdigest()
        cv2_backend = _select_cv2_stream_buffered_backend()
        if cv2_backend is not None:
            return self._decode(data, cv2_backend, raw_bytes_hash)
        with tempfile.NamedTemporaryFile(suffix=".mp4", dir=_VIDEO_TEMPFILE_DIR) as tmp:
            tmp.write(data)
            tmp.flush()
            return self._decode(tmp.name, None, raw_bytes_hash)

    def load_base64(self, media_type: str, data: str) -> VideoData:
        return self.load_bytes(base64.b64decode(data))

    def load_file(self, url: str) -> VideoData:
        return self.load_bytes(Path(_normalize_file_uri(url)).read_bytes())


MEDIA_IO_REGISTRY: Mapping[MediaModality, Type[BaseMediaIO]] = MappingProxyType(
    {"image": ImageMediaIO, "video": VideoMediaIO, "audio": AudioMediaIO}
)
