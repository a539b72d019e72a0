"""Versions of the libraries we depend on, for `trtllm-mmfast info` and benchmark JSON."""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
import sys
from typing import Any

__all__ = ["library_versions"]

_DISTS = {
    "numpy": "numpy",
    "cv2": "opencv-python-headless",
    "av": "av",
    "torch": "torch",
    "torchvision": "torchvision",
    "transformers": "transformers",
    "tokenizers": "tokenizers",
    "uvloop": "uvloop",
    "tensorrt_llm": "tensorrt_llm",
}


def _dist_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def library_versions(*, details: bool = True) -> dict[str, Any]:
    """name -> version (None when not installed); with details, cv2's stream backends and FFmpeg libs.

    Versions come from package metadata, so nothing heavy (torch, tensorrt_llm) is imported.
    """
    out: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform()}
    from . import __version__

    out["trtllm_mmfast"] = __version__
    for mod, dist in _DISTS.items():
        out[mod] = _dist_version(dist)
    if details and out["cv2"]:
        try:
            import cv2

            reg = cv2.videoio_registry
            get = getattr(reg, "getStreamBufferedBackends", None)
            out["cv2"] = cv2.__version__
            out["cv2_stream_backends"] = [reg.getBackendName(b) for b in get()] if get else []
        except ImportError as e:  # wheel present but broken
            out["cv2"] = f"broken: {e}"
    if details and out["av"]:
        try:
            import av

            out["ffmpeg"] = {k: ".".join(map(str, v)) for k, v in av.library_versions.items()}
        except ImportError as e:
            out["av"] = f"broken: {e}"
    return out
