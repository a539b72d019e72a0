"""STAND-IN for ``tensorrt_llm.inputs.multimodal`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/inputs/multimodal.py (rebuilt from tests/docs, commit not stored;
``apply_mm_hashes`` from stored index ids 59672682682 / 59715558071, the server-config rules
from tests/unittest/llmapi/apps/test_openai_server_multimodal_admission.py @
3d23e51c6b0e40da415b957a5781fef9d5790f15).

Mirrored: ``MultimodalServerConfig(media_io_kwargs, max_cpu_bytes, max_cpu_bytes_per_request)``
(per-request defaults to the total; a per-request value above the total raises ValueError
"... cannot exceed ..."); ``default_hasher`` is BLAKE3; ``apply_mm_hashes`` gives one hex
digest per item.

Simplified / inferred: ``apply_mm_hashes`` dispatches ``BaseModalityData`` items to
``item.update_hash(hasher)`` — that dispatch is INFERRED (no indexed version shows it; the
facts say the newest very probably does). Tensors hash their CPU bytes, frame lists use
``<frame>`` framing, anything else ``serialize_item``; a UUID is framed as
``<uuid>..</uuid><content>..</content>``. No ``hexdigest_to_int32`` / ``MultimodalInput``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

import torch
from blake3 import blake3

from .multimodal_data import BaseModalityData, serialize_item


@dataclass
class MultimodalServerConfig:
    media_io_kwargs: Optional[Dict[str, Dict[str, Any]]] = None
    max_cpu_bytes: Optional[int] = None
    max_cpu_bytes_per_request: Optional[int] = None

    def __post_init__(self) -> None:
        if self.max_cpu_bytes_per_request is None:
            self.max_cpu_bytes_per_request = self.max_cpu_bytes
        if (self.max_cpu_bytes is not None and self.max_cpu_bytes_per_request is not None
                and self.max_cpu_bytes_per_request > self.max_cpu_bytes):
            raise ValueError(f"max_cpu_bytes_per_request ({self.max_cpu_bytes_per_request}) cannot exceed "
                             f"max_cpu_bytes ({self.max_cpu_bytes})")


def default_hasher() -> Any:
    return blake3()


def _hash_item(item: Any, hasher: Any) -> None:
    if isinstance(item, BaseModalityData):
        item.update_hash(hasher)  # inferred dispatch (see the module docstring)
    elif isinstance(item, torch.Tensor):
        hasher.update(item.detach().cpu().contiguous().numpy().tobytes())
    elif isinstance(item, list):
        for frame in item:
            hasher.update(b"<frame>")
            hasher.update(serialize_item(frame))
    else:
        hasher.update(serialize_item(item))


def apply_mm_hashes(mm_data: Dict[str, Any], mm_uuids: Optional[Dict[str, List[Optional[str]]]] = None,
                    hash_lib: Callable[[], Any] = default_hasher) -> Dict[str, List[str]]:
    """modality -> one hex digest per item."""
    out: Dict[str, List[str]] = {}
    for modality, items in mm_data.items():
        items = items if isinstance(items, list) else [items]
        uuids = (mm_uuids or {}).get(modality) or [None] * len(items)
        digests = []
        for item, uuid in zip(items, uuids):
            h = hash_lib()
            if uuid is not None:
                h.update(b"<uuid>" + uuid.encode("utf-8") + b"</uuid><content>")
            _hash_item(item, h)
            if uuid is not None:
                h.update(b"</content>")
            digests.append(h.hexdigest())
        out[modality] = digests
    return out
