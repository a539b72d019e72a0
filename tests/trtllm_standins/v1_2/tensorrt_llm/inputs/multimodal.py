"""STAND-IN for ``tensorrt_llm.inputs.multimodal`` (a test fixture, not TensorRT-LLM code), 1.2.x.

Real file: tensorrt_llm/inputs/multimodal.py (rebuilt from tests/docs, commit not stored).
``MultimodalServerConfig(media_io_kwargs)`` and ``apply_mm_hashes`` as the indexed versions
describe it for this generation: one BLAKE3 digest per item; a VideoData item is hashed by its
FRAMES only (``<frame>`` + the frame's bytes), a tensor by its CPU bytes. Simplified: frames
are hashed as raw bytes (tensor / ndarray / PIL ``tobytes``), not ``serialize_item``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from blake3 import blake3


@dataclass
class MultimodalServerConfig:
    media_io_kwargs: Optional[dict] = None


def default_hasher() -> Any:
    return blake3()


def _frame_bytes(obj: Any) -> bytes:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().contiguous().numpy().tobytes()
    if isinstance(obj, np.ndarray):
        return np.ascontiguousarray(obj).tobytes()
    if hasattr(obj, "tobytes"):  # PIL
        return obj.tobytes()
    raise ValueError(f"Unsupported object type: {type(obj)}")


def apply_mm_hashes(mm_data: Dict[str, Any], hash_lib: Any = default_hasher) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for modality, items in mm_data.items():
        digests = []
        for item in items:
            h = hash_lib()
            frames = getattr(item, "frames", None)
            if frames is None and isinstance(item, list):
                frames = item
            if frames is not None:
                for frame in frames:
                    h.update(b"<frame>")
                    h.update(_frame_bytes(frame))
            else:
                h.update(_frame_bytes(item))
            digests.append(h.hexdigest())
        out[modality] = digests
    return out
