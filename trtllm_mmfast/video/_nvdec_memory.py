"""Where frames live besides plain host memory: CUDA tensors and page-locked (pinned) host memory.

``device=`` of ``load_video`` / ``open_video`` names the memory (``DeviceSpec``): ``"cpu"``
(numpy, the default for CPU backends), ``"pinned"`` (numpy over page-locked host memory, for
consumers that need host memory and copy to a GPU later: those copies run asynchronously),
``"cuda"`` / ``"cuda:N"`` (a uint8 (N, H, W, 3) CUDA ``torch.Tensor``). The nvdec backend writes
its frames straight into these; a CPU backend decodes into host memory and the frames are copied
over once (``to_device``). torch is imported only when one of these is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..runtime.vram import cuda_index

__all__ = ["CudaAllocator", "DeviceSpec", "PinnedAllocator", "copy_into", "to_device"]


@dataclass(frozen=True)
class DeviceSpec:
    """A parsed ``device=``: ``kind`` is "cpu", "pinned" or "cuda"; ``index`` the GPU (cuda only)."""

    kind: str
    index: int | None = None

    @classmethod
    def parse(cls, device: str | None) -> DeviceSpec:
        if device is None or device == "cpu":
            return cls("cpu")
        if device == "pinned":
            return cls("pinned")
        try:
            return cls("cuda", cuda_index(device))
        except ValueError:
            raise ValueError(f"device must be 'cpu', 'pinned', 'cuda' or 'cuda:N', got {device!r}") from None

    def check(self) -> None:
        """Raise ``ValueError`` when this memory cannot be had here (pinned and CUDA memory need
        a CUDA device torch can see; ``"cuda:N"`` one with that index)."""
        if self.kind == "cpu":
            return
        try:
            import torch
        except ImportError as e:
            raise ValueError(f"device={self.name!r} needs torch: {e}") from None
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device={self.name!r} needs a CUDA device, and torch sees none here")
        if self.kind == "cuda" and self.index >= count:  # type: ignore[operator]
            raise ValueError(f"device={self.name!r}: torch sees {count} CUDA device(s) (cuda:0..cuda:{count - 1})")

    @property
    def name(self) -> str:
        return f"cuda:{self.index}" if self.kind == "cuda" else self.kind


class CudaAllocator:
    """Frames in GPU memory: one uint8 (n, h, w, 3) CUDA tensor per decode."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.device = f"cuda:{index}"

    def empty(self, n: int, height: int, width: int) -> Any:
        import torch

        return torch.empty((n, height, width, 3), dtype=torch.uint8, device=self.device)


class PinnedAllocator:
    """Frames in page-locked host memory, as numpy (a view of a pinned torch buffer, kept alive
    by the array's ``base``): host-side consumers see plain numpy, GPU copies are asynchronous."""

    device = "cpu"

    def empty(self, n: int, height: int, width: int) -> np.ndarray:
        import torch

        return torch.empty((n, height, width, 3), dtype=torch.uint8, pin_memory=True).numpy()


def to_device(frames: Any, allocator: Any) -> Any:
    """``frames`` (numpy or a tensor, (n, h, w, 3) uint8) copied once into ``allocator``'s memory."""
    n, h, w, _ = tuple(frames.shape)
    out = allocator.empty(n, h, w)
    copy_into(out, frames)
    return out


def copy_into(dst: Any, src: Any) -> None:
    """Copy uint8 frames ``src`` into ``dst`` (each numpy or a torch tensor, on any device)."""
    if isinstance(dst, np.ndarray) and isinstance(src, np.ndarray):
        np.copyto(dst, src)
        return
    import torch

    d = torch.from_numpy(dst) if isinstance(dst, np.ndarray) else dst
    s = torch.from_numpy(np.ascontiguousarray(src)) if isinstance(src, np.ndarray) else src
    d.copy_(s, non_blocking=False)
