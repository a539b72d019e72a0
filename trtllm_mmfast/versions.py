"""Versions of the libraries we depend on, for `trtllm-mmfast info` and benchmark JSON."""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
import sys
from typing import Any

__all__ = ["library_versions"]

# The decoder backends' native modules (cv2, av, ...) come from the registry: ``_backend_dists``.
_DISTS = {
    "numpy": "numpy",
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


def _backend_dists() -> dict[str, str]:
    """module -> distribution for the native modules the registered video backends need."""
    from .video import registry

    modules: dict[str, None] = {}
    for name in registry.names()[:-1]:  # without "auto"
        try:
            modules.update(dict.fromkeys(getattr(registry.get(name), "modules", ())))
        except ImportError:  # a plug-in backend whose module is missing: `info` lists it as unavailable
            continue
    if not modules:
        return {}
    dists = importlib.metadata.packages_distributions()  # cv2 -> opencv-python-headless, ...
    return {m: (dists.get(m) or [m])[0] for m in modules}


def library_versions(*, details: bool = True) -> dict[str, Any]:
    """name -> version (None when not installed); with details, cv2's stream backends and FFmpeg libs.

    Versions come from package metadata, so nothing heavy (torch, tensorrt_llm) is imported.
    """
    out: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform()}
    from ._version import __version__

    out["trtllm_mmfast"] = __version__
    backends = _backend_dists()
    for mod, dist in {"numpy": _DISTS["numpy"], **backends, **_DISTS}.items():
        out[mod] = _dist_version(dist)
    if details and out.get("cv2"):
        try:
            import cv2

            reg = cv2.videoio_registry
            get = getattr(reg, "getStreamBufferedBackends", None)
            out["cv2"] = cv2.__version__
            out["cv2_stream_backends"] = [reg.getBackendName(b) for b in get()] if get else []
        except ImportError as e:  # wheel present but broken
            out["cv2"] = f"broken: {e}"
    if details and out.get("av"):
        try:
            import av

            out["ffmpeg"] = {k: ".".join(map(str, v)) for k, v in av.library_versions.items()}
        except ImportError as e:
            out["av"] = f"broken: {e}"
    return out


def system_info() -> dict[str, Any]:
    """Machine facts for benchmark JSON: CPU model, cores, memory, GPU (if any), git sha, versions."""
    import os
    import subprocess

    info: dict[str, Any] = {"cpu_count": os.cpu_count()}
    try:
        info["affinity_cores"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu_model"] = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), None)
        with open("/proc/meminfo") as f:
            info["mem_total_gib"] = round(int(f.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        gpu = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10,
        )
        info["gpu"] = gpu.stdout.strip() or None if gpu.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        info["gpu"] = None
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        sha = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        info["git_sha"] = sha.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["git_sha"] = None
    info["versions"] = library_versions()
    return info
