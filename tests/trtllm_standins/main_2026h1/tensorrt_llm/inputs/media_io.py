"""STAND-IN for ``tensorrt_llm.inputs.media_io`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/inputs/media_io.py @ 0142b193cc0252aeca5d69eacd619d03276e9dcf (the 2026
window with ``hash_source``). Written from docs/facts/trtllm_media.md §2 (differences from @c1d898bb;
everything else is main's stand-in file, run here by ``_run_main_module``).

Differences from the newest main (c1d898bb) mirrored here: no top-level blake3 import
(``_blake3_hex_stream`` imports it lazily and streams a path in 64 KiB chunks);
``VideoMediaIO(..., extract_audio=False, hash_source=False)``; ``load_bytes`` hashes only when
``hash_source``; ``load_file`` passes the PATH to cv2 (no byte read, no tempfile) and hashes the
file's content only when ``hash_source``; the decode loop keeps a dict of retrieved frames (no
preallocation, no H/W check); ``"np"`` is a LIST of (H,W,3) uint8 arrays.

Images (read at this commit; docs/facts/trtllm_images.md): ``rgba_to_rgb`` (white, ``paste`` with the
alpha mask; ValueError unless RGBA), ``convert_image_mode``, ``_load_and_convert_image`` (open, ``load()``,
RGB; no EXIF rotation), ``ImageMediaIO(format="pt"|"pil", device)`` (``"pt"`` = ``ToTensor``; ``load_base64``
decodes itself, not through ``load_bytes``).

Simplified: as main's stand-in (HTTP details, lazy ``requests`` / ``soundfile``).
"""

# ruff: noqa: F821  (names defined by main's file, run into this module)
from __future__ import annotations

import base64
import math
import tempfile
from io import BytesIO
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Type, Union

import numpy as np
import torch
from PIL import Image

from .. import _run_main_module
from .multimodal_data import VideoData

_run_main_module(globals(), "inputs/media_io.py")  # BaseMediaIO, the HTTP client, images, audio, cv2 helpers
# Below: what differs at 0142b193 (these names replace main's in this module); the names they use
# without importing (BaseMediaIO, _get_cv2, _normalize_file_uri, ...) are main's, defined just now.


def _blake3_hex_stream(source: Union[str, bytes, bytearray, memoryview]) -> str:
    from blake3 import blake3

    hasher = blake3()
    if isinstance(source, (bytes, bytearray, memoryview)):
        hasher.update(source)
    else:
        with open(source, "rb") as f:
            for chunk in iter(lambda: f.read(65536), b""):
                hasher.update(chunk)
    return hasher.hexdigest()


# ---- cv2 -------------------------------------------------------------------------------------


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

        target_set, max_idx = set(indices), indices[-1]
        raw_frames: Dict[int, np.ndarray] = {}
        frame_idx = 0
        while frame_idx <= max_idx:
            if not vidcap.grab():
                break
            if frame_idx in target_set:
                ok, bgr = vidcap.retrieve()
                if ok:
                    raw_frames[frame_idx] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            frame_idx += 1
        vidcap.release()
        valid_indices = [i for i in indices if i in raw_frames]
        if not valid_indices:
            raise ValueError("Video has no readable frames.")

        if format == "pt":
            stacked = np.stack([raw_frames[i] for i in valid_indices])
            t = torch.from_numpy(stacked.astype(np.float32) * (1 / 255)).permute(0, 3, 1, 2).contiguous()
            if device != "cpu":
                t = t.to(device)
            frames: Any = list(torch.unbind(t, 0))
        elif format == "np":
            frames = [raw_frames[i] for i in valid_indices]
        else:
            frames = [Image.fromarray(raw_frames[i]) for i in valid_indices]
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


class VideoMediaIO(BaseMediaIO[VideoData]):
    def __init__(self, num_frames: int = 10, fps: int = 30, format: str = "pt", device: str = "cpu",
                 extract_audio: bool = False, hash_source: bool = False):
        if format not in _SUPPORTED_VIDEO_FORMATS:
            raise ValueError(f"format must be one of {_SUPPORTED_VIDEO_FORMATS}, got {format!r}")
        self._num_frames = num_frames
        self._fps = fps
        self._format = format
        self._device = device
        self._extract_audio = extract_audio
        self._hash_source = hash_source

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
        raw_bytes_hash = _blake3_hex_stream(data) if self._hash_source else None
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
        path = _normalize_file_uri(url)
        raw_bytes_hash = _blake3_hex_stream(path) if self._hash_source else None
        return self._decode(path, None, raw_bytes_hash)


MEDIA_IO_REGISTRY: Mapping[MediaModality, Type[BaseMediaIO]] = MappingProxyType(
    {"image": ImageMediaIO, "video": VideoMediaIO, "audio": AudioMediaIO}
)
