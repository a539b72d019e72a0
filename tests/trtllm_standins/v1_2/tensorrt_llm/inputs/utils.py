"""STAND-IN for ``tensorrt_llm.inputs.utils`` (a test fixture, not TensorRT-LLM code), TensorRT-LLM 1.2.x.

Real file: tensorrt_llm/inputs/utils.py — 1.2.x inferred from pre-release/1.2 main
@ bab0f2e6eea19bcce16c805101420ef7d9d62d75 (docs/facts/trtllm_models.md §7; /work/shared/TRTLLM_HOOKS.md
§1.1; the byte-exact file at the v1.2.1 tag is not stored).

Mirrored: ``VideoData(frames, metadata)`` (rejects empty frames / non-dict metadata);
``_load_video_by_cv2(video: str, ...)``: format pt/pil only; frame-count walk-back (seek to the
last frame, ``grab()``, decrement until it succeeds); ``n`` formula; ``range(n)`` if
``n == frame_count`` else ``np.linspace(0, frame_count-1, n, dtype=int)``; per-index
``set(CAP_PROP_POS_FRAMES)`` + ``read()``, BGR->RGB, PIL; asserts ``len(frames) == n``; "pt" =
``ToTensor()`` float CHW in [0, 1] on ``device``; metadata ``total_num_frames`` (corrected),
``fps``, ``duration``, ``frames_indices``. ``load_video`` (sync: http(s) and plain paths straight to
cv2, ``data:`` via ``NamedTemporaryFile(delete=True, suffix='.mp4')``, other schemes incl.
``file://`` -> ValueError); ``async_load_video`` (http(s) via aiohttp into the tempfile, ``data:``
via the tempfile, anything else raw to cv2) decodes SYNCHRONOUSLY inside the coroutine (it
blocks the event loop, as in 1.2.x).

Images (same commit; docs/facts/trtllm_images.md): ``rgba_to_rgb`` / ``convert_image_mode`` /
``_load_and_convert_image`` (open, ``load()``, RGB; RGBA on white; no EXIF rotation), ``load_base64_image``,
``load_image`` (http via ``requests.get(...).raw``; other schemes the raw string to PIL) and
``async_load_image`` (http via aiohttp; ``data:``; else ``Path(parsed.path)``), both ``assert format in
["pt", "pil"]``, a PIL input -> ``convert('RGB')``, ``"pt"`` = ``ToTensor``; the async one decodes
SYNCHRONOUSLY inside the coroutine (on the event loop, as in 1.2.x).

Simplified: a plain ``aiohttp.ClientSession`` per call (no safety checks are recorded for 1.2);
no audio loaders, no ``MultimodalDataTracker``.
"""

from __future__ import annotations

import base64
import math
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, Dict, List, Union
from urllib.parse import urlparse

import numpy as np
import torch
from PIL import Image


@dataclass
class BaseModalityData:
    pass


@dataclass
class VideoData(BaseModalityData):
    frames: Union[List[Image.Image], List[torch.Tensor]]
    metadata: Dict[str, Any]

    def __post_init__(self) -> None:
        if not self.frames:
            raise ValueError("frames list cannot be empty")
        if not isinstance(self.metadata, dict):
            raise ValueError("metadata must be a dictionary")


def _load_video_by_cv2(video: str, num_frames: int = 10, fps: int = 30, format: str = "pt",
                       device: str = "cpu") -> VideoData:
    assert format in ["pt", "pil"], "format must be either Pytorch or PIL"
    import cv2

    vidcap = cv2.VideoCapture(video)
    if not vidcap.isOpened():
        raise ValueError(f"Video '{video}' could not be opened. Make sure opencv is installed with video support.")
    frame_count = int(vidcap.get(cv2.CAP_PROP_FRAME_COUNT))
    original_fps = vidcap.get(cv2.CAP_PROP_FPS)
    # The container's count can overshoot: walk back from the end to the last frame that grabs.
    while frame_count > 0:
        vidcap.set(cv2.CAP_PROP_POS_FRAMES, frame_count - 1)
        if vidcap.grab():
            break
        frame_count -= 1
    if frame_count <= 0:
        raise ValueError(f"Video '{video}' has no frames.")
    duration = frame_count / original_fps if original_fps > 0 else 0
    n = frame_count
    if num_frames > 0:
        n = min(num_frames, frame_count)
    if fps > 0:
        n = min(n, math.floor(duration * fps))
    n = max(1, n)
    indices = range(n) if n == frame_count else np.linspace(0, frame_count - 1, n, dtype=int).tolist()
    frames = []
    for idx in indices:
        vidcap.set(cv2.CAP_PROP_POS_FRAMES, idx)
        ok, frame = vidcap.read()
        if ok:
            frames.append(Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
    vidcap.release()
    assert len(frames) == n, f"Expected {n} frames, decoded {len(frames)}"
    if format == "pt":
        from torchvision.transforms import ToTensor

        frames = [ToTensor()(f).to(device) for f in frames]
    metadata = {"total_num_frames": frame_count, "fps": original_fps, "duration": duration,
                "frames_indices": list(indices)}
    return VideoData(frames=frames, metadata=metadata)


def load_base64_video(video: str) -> bytes:
    """The decoded bytes of a ``data:`` URL (annotated BytesIO upstream, returns bytes)."""
    return base64.b64decode(video.split(",", 1)[1])


def _load_via_tempfile(data: bytes, **kwargs: Any) -> VideoData:
    with tempfile.NamedTemporaryFile(delete=True, suffix=".mp4") as tmp:
        tmp.write(data)
        tmp.flush()
        return _load_video_by_cv2(tmp.name, **kwargs)


def load_video(video: str, num_frames: int = 10, fps: int = 30, format: str = "pt", device: str = "cpu") -> VideoData:
    kw = dict(num_frames=num_frames, fps=fps, format=format, device=device)
    parsed = urlparse(video)
    if parsed.scheme in ("http", "https", ""):
        return _load_video_by_cv2(video, **kw)
    if parsed.scheme == "data":
        return _load_via_tempfile(load_base64_video(video), **kw)
    raise ValueError(f"Unsupported video scheme: {parsed.scheme}")


async def async_load_video(video: str, num_frames: int = 10, fps: int = 30, format: str = "pt",
                           device: str = "cpu") -> VideoData:
    kw = dict(num_frames=num_frames, fps=fps, format=format, device=device)
    parsed = urlparse(video)
    if parsed.scheme in ("http", "https"):
        import aiohttp

        async with aiohttp.ClientSession() as session:
            async with session.get(video) as response:
                response.raise_for_status()
                data = await response.read()
        return _load_via_tempfile(data, **kw)  # synchronous: blocks the loop, as in 1.2.x
    if parsed.scheme == "data":
        return _load_via_tempfile(load_base64_video(video), **kw)
    return _load_video_by_cv2(video, **kw)


# ---- images ----------------------------------------------------------------------------------


# rgba_to_rgb, convert_image_mode, _load_and_convert_image: the shared stand-in rules (pil_rules.py)
# and load_base64_image, _image_postprocess (the same in main)
from trtllm_standins.pil_rules import (_image_postprocess, _load_and_convert_image, convert_image_mode,  # noqa: E402,F401
                                       load_base64_image, rgba_to_rgb)


def load_image(image: Union[str, Image.Image], format: str = "pt", device: str = "cpu") -> Any:
    assert format in ["pt", "pil"], "format must be either Pytorch or PIL"
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    parsed = urlparse(image)
    if parsed.scheme in ["http", "https"]:
        import requests

        image = _load_and_convert_image(requests.get(image, stream=True, timeout=10).raw)
    elif parsed.scheme == "data":
        image = load_base64_image(parsed)
    else:
        image = _load_and_convert_image(image)
    return _image_postprocess(image, format, device)


async def async_load_image(image: Union[str, Image.Image], format: str = "pt", device: str = "cpu") -> Any:
    assert format in ["pt", "pil"], "format must be either Pytorch or PIL"
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    parsed = urlparse(image)
    if parsed.scheme in ["http", "https"]:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            async with session.get(image) as response:
                content = await response.read()
                image = _load_and_convert_image(BytesIO(content))
    elif parsed.scheme == "data":
        image = load_base64_image(parsed)
    else:
        image = _load_and_convert_image(Path(parsed.path))
    return _image_postprocess(image, format, device)  # synchronous: on the event loop, as in 1.2.x
