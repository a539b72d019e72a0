"""STAND-IN for ``tensorrt_llm.inputs.utils`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/inputs/utils.py @ 00a8667c4547f0e7362ffcabfc24868b9718c006 (facts_media §7),
plus the three names openai_server @3d23e51c6b0e40da415b957a5781fef9d5790f15 imports from a NEWER
utils.py that was not found (``MultimodalDataTooLargeError``, ``_cpu_storage_bytes``,
``_release_shared_cpu_tensors``: rebuilt from that server and its tests, commit not stored).

Mirrored: ``load_video`` (sync; http via ``_safe_request_get``, data: / http through a
``.mp4`` NamedTemporaryFile, "" / file: the raw string to cv2), ``async_load_video``
(``asyncio.to_thread``; asserts format pt/pil), ``load_base64_video`` (returns bytes),
``MultimodalDataTracker`` (``add_data`` -> placeholder, ``item_order`` entries
``{"modality", "index", "placeholder"}``, ``retrieve_all_async``), ``add_multimodal_placeholders``.

Images (same commit; docs/facts/trtllm_images.md): ``load_base64_image``, ``load_image`` (http via
``_safe_request_get(...).raw``, data:, "" / file the raw string to PIL, other schemes ValueError) and
``async_load_image`` (http via the shared session + ``_safe_aiohttp_get``; data: / "" / file
``Path(parsed.path)`` in ``asyncio.to_thread``), both asserting pt/pil, a PIL input -> ``convert('RGB')``,
``"pt"`` = ``ToTensor``. Not used by the chat server on main (``MEDIA_IO_REGISTRY["image"]`` is).

Simplified: no audio loaders; ``_cpu_storage_bytes`` counts each CPU tensor storage /
ndarray buffer once (by data pointer), PIL images as W*H*bands, walks VideoData/AudioData
fields, lists, tuples, dicts and objects with a ``multimodal_data`` attribute; no
shared-memory handles. ``_release_shared_cpu_tensors`` is a no-op. The tracker has no
``initial_cpu_bytes`` (as at 00a8667c). ``add_multimodal_placeholders`` (placeholders and the
text joined by the registry's separator, in placement order) is rebuilt, not read.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import tempfile
from collections import defaultdict
from io import BytesIO
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlparse

import numpy as np
import torch
from PIL import Image

from .media_io import (_get_aiohttp_session, _load_and_convert_image, _load_video_by_cv2,  # noqa: F401
                       _normalize_file_uri, _safe_aiohttp_get, _safe_request_get, convert_image_mode)
from .multimodal import MultimodalServerConfig
from .multimodal_data import AudioData, BaseModalityData, VideoData  # noqa: F401  (re-exported)


class MultimodalDataTooLargeError(ValueError):
    """A request's multimodal data needs more CPU bytes than allowed (HTTP 413).

    Stand-in: the base class is inferred (the server catches it before ValueError)."""


def load_base64_video(video: str) -> bytes:
    return base64.b64decode(video.split(",", 1)[1] if video.startswith("data:") else video)


def _load_video_via_tempfile(data: bytes, **kwargs: Any) -> VideoData:
    with tempfile.NamedTemporaryFile(suffix=".mp4") as tmp:
        tmp.write(data)
        tmp.flush()
        return _load_video_by_cv2(tmp.name, **kwargs)


def load_video(video: str, num_frames: int = 10, fps: int = 30, format: str = "pt", device: str = "cpu",
               extract_audio: bool = False) -> VideoData:
    kw = dict(num_frames=num_frames, fps=fps, format=format, device=device, extract_audio=extract_audio)
    scheme = urlparse(video).scheme
    if scheme in ("http", "https"):
        return _load_video_via_tempfile(_safe_request_get(video).content, **kw)
    if scheme in ("", "file"):
        return _load_video_by_cv2(video, **kw)
    if scheme == "data":
        return _load_video_via_tempfile(load_base64_video(video), **kw)
    raise ValueError(f"Unsupported video scheme: {scheme}")


async def async_load_video(video: str, num_frames: int = 10, fps: int = 30, format: str = "pt",
                           device: str = "cpu", extract_audio: bool = False) -> VideoData:
    assert format in ["pt", "pil"], "format must be either Pytorch or PIL"
    kw = dict(num_frames=num_frames, fps=fps, format=format, device=device, extract_audio=extract_audio)
    scheme = urlparse(video).scheme
    if scheme in ("http", "https"):
        data = await _safe_aiohttp_get(video, session=await _get_aiohttp_session())
        return await asyncio.to_thread(_load_video_via_tempfile, data, **kw)
    if scheme == "data":
        data = await asyncio.to_thread(load_base64_video, video)
        return await asyncio.to_thread(_load_video_via_tempfile, data, **kw)
    if scheme in ("", "file"):
        return await asyncio.to_thread(_load_video_by_cv2, video, **kw)
    raise ValueError(f"Unsupported video scheme: {scheme}")


# ---- images ----------------------------------------------------------------------------------


# load_base64_image, _image_postprocess: the shared stand-in rules (pil_rules.py), the same in 1.2
from trtllm_standins.pil_rules import _image_postprocess, load_base64_image  # noqa: E402,F401


def load_image(image: Any, format: str = "pt", device: str = "cpu") -> Any:
    assert format in ["pt", "pil"], "format must be either Pytorch or PIL"
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    parsed = urlparse(image)
    if parsed.scheme in ["http", "https"]:
        image = _load_and_convert_image(_safe_request_get(image, stream=True).raw)
    elif parsed.scheme == "data":
        image = load_base64_image(parsed)
    elif parsed.scheme in ("", "file"):
        image = _load_and_convert_image(image)
    else:
        raise ValueError(f"Unsupported URL scheme: {parsed.scheme!r}")
    return _image_postprocess(image, format, device)


async def async_load_image(image: Any, format: str = "pt", device: str = "cpu") -> Any:
    assert format in ["pt", "pil"], "format must be either Pytorch or PIL"
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    parsed = urlparse(image)
    if parsed.scheme in ["http", "https"]:
        content = await _safe_aiohttp_get(image, session=await _get_aiohttp_session())
        image = await asyncio.to_thread(_load_and_convert_image, BytesIO(content))
    elif parsed.scheme == "data":
        image = await asyncio.to_thread(load_base64_image, parsed)
    elif parsed.scheme in ("", "file"):
        image = await asyncio.to_thread(_load_and_convert_image, Path(parsed.path))
    else:
        raise ValueError(f"Unsupported URL scheme: {parsed.scheme!r}")
    return await asyncio.to_thread(_image_postprocess, image, format, device)


# ---- placeholders and the per-request tracker ------------------------------------------------


def retrieve_multimodal_placeholder(model_type: str, modality: str, current_count: int) -> Optional[str]:
    from .registry import MULTIMODAL_PLACEHOLDER_REGISTRY

    if MULTIMODAL_PLACEHOLDER_REGISTRY.is_valid(model_type, modality):
        return MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholder(model_type, modality)
    raise TypeError(f"Unknown modality: {modality}")


def add_multimodal_placeholders(model_type: str, text_prompt: str, mm_placeholder_counts: Dict[str, int]) -> str:
    from .registry import MULTIMODAL_PLACEHOLDER_REGISTRY, MultimodalPlaceholderPlacement

    placeholders: List[str] = []
    for placeholder, count in mm_placeholder_counts.items():
        placeholders.extend([placeholder] * count)
    placement = MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholder_placement(model_type)
    parts = placeholders + [text_prompt] if placement == MultimodalPlaceholderPlacement.BEFORE_TEXT else [text_prompt] + placeholders
    return MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholders_separator(model_type).join(parts)


class MultimodalDataTracker:
    def __init__(self, model_type: str, multimodal_server_config: Optional[MultimodalServerConfig] = None,
                 request_media_io_kwargs: Optional[Dict[str, Dict[str, Any]]] = None):
        self._model_type = model_type
        self._data: Dict[str, List[Any]] = defaultdict(list)
        self._embeddings: Dict[str, List[Any]] = defaultdict(list)
        self._placeholder_counts: Dict[str, int] = defaultdict(int)
        self._placeholder_to_modality: Dict[str, str] = {}
        self._item_order: List[Dict[str, Any]] = []
        self._multimodal_server_config = multimodal_server_config or MultimodalServerConfig()
        self._request_media_io_kwargs = request_media_io_kwargs

    @property
    def request_media_io_kwargs(self) -> Optional[Dict[str, Dict[str, Any]]]:
        return self._request_media_io_kwargs

    def add_data(self, media_type: str, data: Any, *, is_embedding: bool = False) -> Optional[str]:
        count = len(self._data[media_type]) + len(self._embeddings[media_type]) + 1
        placeholder = retrieve_multimodal_placeholder(self._model_type, media_type, count)
        if is_embedding:
            self._embeddings[media_type].append(data)
        else:
            self._item_order.append({"modality": media_type, "index": len(self._data[media_type]),
                                     "placeholder": placeholder})
            self._data[media_type].append(data)
        if placeholder:
            self._placeholder_counts[placeholder] += 1
            self._placeholder_to_modality[placeholder] = media_type
        return placeholder

    def placeholder_counts(self) -> Dict[str, int]:
        return dict(self._placeholder_counts)

    def item_order(self) -> List[Dict[str, Any]]:
        return list(self._item_order)

    async def retrieve_all_async(self) -> Tuple[Optional[Dict[str, List[Any]]], Optional[Dict[str, List[Any]]]]:
        async def gather(d: Dict[str, List[Any]]) -> Optional[Dict[str, List[Any]]]:
            if not d:
                return None
            pairs = [(m, item) for m, items in d.items() for item in items]
            results = await asyncio.gather(*(item if asyncio.iscoroutine(item) else _ready(item) for _, item in pairs))
            out: Dict[str, List[Any]] = defaultdict(list)
            for (m, _), r in zip(pairs, results):
                out[m].append(r)
            return dict(out)

        return tuple(await asyncio.gather(gather(self._data), gather(self._embeddings)))  # type: ignore[return-value]


async def _ready(x: Any) -> Any:
    return x


# ---- CPU-bytes accounting (newer utils, see the module docstring) ----------------------------


def _cpu_storage_bytes(obj: Any) -> int:
    """CPU bytes held by ``obj``: each tensor storage / ndarray buffer counted once."""
    seen: Dict[Any, int] = {}
    visited: set = set()

    def walk(x: Any) -> None:
        if x is None or isinstance(x, (str, bytes, int, float, bool)):
            return
        if id(x) in visited:
            return
        visited.add(id(x))
        if isinstance(x, torch.Tensor):
            if x.device.type == "cpu":
                st = x.untyped_storage()
                key = st.data_ptr()
                seen[key] = max(seen.get(key, 0), st.nbytes())
        elif isinstance(x, np.ndarray):
            root = x
            while isinstance(root.base, np.ndarray):
                root = root.base
            key = root.__array_interface__["data"][0]
            seen[key] = max(seen.get(key, 0), root.nbytes)
        elif isinstance(x, Image.Image):
            seen[("pil", id(x))] = x.width * x.height * len(x.getbands())
        elif isinstance(x, (VideoData, AudioData)):
            for f in dataclasses.fields(x):
                walk(getattr(x, f.name))
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif hasattr(x, "multimodal_data"):
            walk(x.multimodal_data)

    walk(obj)
    return sum(seen.values())


def _release_shared_cpu_tensors(multimodal_data: Any) -> None:
    """Stand-in: no shared-memory tensors exist here, so nothing to release."""
