"""STAND-IN for ``tensorrt_llm.inputs.multimodal`` (main): server config and frame hashing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import numpy as np
import torch


@dataclass
class MultimodalServerConfig:
    media_io_kwargs: Optional[dict] = None


def _serialize(obj: Any) -> bytes:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().contiguous().numpy().tobytes()
    if isinstance(obj, np.ndarray):
        return obj.tobytes()
    if hasattr(obj, "tobytes"):  # PIL
        return obj.tobytes()
    raise ValueError(f"Unsupported object type: {type(obj)}")


def apply_mm_hashes(mm_data: Dict[str, Any]) -> Dict[str, List[str]]:
    """Hash every frame of every item (what ``create_input_processor_with_hash`` does first)."""
    out: Dict[str, List[str]] = {}
    for modality, items in mm_data.items():
        hashes = []
        for item in items:
            h = hashlib.blake2b()
            for frame in getattr(item, "frames", [item]):
                h.update(b"<frame>")
                h.update(_serialize(frame))
            hashes.append(h.hexdigest())
        out[modality] = hashes
    return out
