"""Frames resized as they are decoded, for one processor (``load_video(..., resize_for=processor)``).

Transformers' Qwen3-VL video processor shrinks every frame of a video to one size, computed from
the number of frames T and the source size (``smart_resize``): both are known before the first
pixel is decoded. So each target frame is decoded into a per-thread full-size scratch buffer and
at once resized into its slot of a small (N, h', w', 3) output array; the full-size video never
exists. The resize is the processor's own: ``ResizePlan.size`` calls the processor's ``resize``
on a ``meta`` tensor of the stacked video's shape (1, T, 3, H, W) (so its settings, the per-frame
cap and any subclass logic are honoured, and nothing is computed), and ``resize_into`` calls the
method the processor's ``resize`` itself calls (its ``super().resize``: torchvision's antialiased
resize) on a (1, 3, H, W) uint8 channels-last view of the frame: the tensor layout and dtype the
processor resizes in our fast path, per frame. Resizing is per image, so the result is the
processor's, bit for bit (tests/test_resize_on_decode.py checks the processor outputs).

Exactness where the plan could change:

- **Damage** (fewer frames decoded than planned): the processor would plan with the count that
  came out. If that plan gives the same size, the frames stand; else exactly the frames that
  came out are decoded again, resized for their count (repeated while the count keeps dropping).
  With a ``BudgetAllocator`` the first attempt's bytes stay reserved until the result is
  released (over-counting, never under-counting, on damaged input only).
- **Rotation** (pyav learns a display rotation at the first frame): the plan is made again for
  the display size; ``smart_resize`` is symmetric, so a quarter turn transposes the output size
  in the same buffer. Should a processor plan otherwise, the video is decoded at full size and
  resized afterwards (same result, no memory saved).
- **No plan** (the processor's resize refuses the size, e.g. a single frame): full frames, as
  without ``resize_for``; the processor then fails (or not) exactly as stock transformers does.

A backend opts in with ``resize_on_decode = True`` on its opened video and a ``resize=`` keyword
on ``decode`` (pyav and opencv do); for any other backend the frames are decoded at full size and
resized afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .backend import Allocator, BackendVideo, Decoded, FrameSink, StreamInfo

__all__ = ["PlanChanged", "ResizePlan", "ResizingSink", "ShrinkingPlan", "decode_resized", "make_sink"]

# Processor kwargs that change the resize: a call passing any of them cannot use pre-resized frames.
RESIZE_KWARGS = ("do_resize", "size", "resample", "patch_size", "merge_size", "temporal_patch_size",
                 "cap_pixels_per_frame", "max_video_tokens")  # fmt: skip


class PlanChanged(Exception):
    """The display rotation changed the output size to one the buffer cannot hold."""


class ResizePlan:
    """The resize a Qwen3-VL(-like) video processor applies, as its defaults stand.

    ``ResizePlan.of(p)``: ``p`` is a ``FastQwen3VLProcessor``, an HF processor (its
    ``video_processor``), a video processor, or a ``ResizePlan``.
    """

    def __init__(self, video_processor: Any) -> None:
        vp = video_processor
        kw = {k: getattr(vp, k, None) for k in vp.valid_kwargs.__annotations__}
        kw = vp._standardize_kwargs(**kw)
        self.vp = vp
        self.size_dict, self.resample = kw["size"], kw["resample"]
        self.factor = int(kw["patch_size"]) * int(kw["merge_size"])
        self.temporal_factor = int(kw["temporal_patch_size"])
        self.cap = bool(kw.get("cap_pixels_per_frame"))  # None means False in ``_preprocess``
        owner = next(c for c in type(vp).__mro__ if "resize" in c.__dict__)
        self._base_resize = super(owner, vp).resize  # what the processor's ``resize`` calls
        self._key = (type(vp).__qualname__, repr(self.size_dict), repr(self.resample), self.factor,
                     self.temporal_factor, self.cap, repr(kw.get("max_video_tokens")))  # fmt: skip

    @classmethod
    def of(cls, processor: Any) -> ResizePlan:
        if isinstance(processor, ResizePlan):
            return processor
        p = getattr(processor, "hf", processor)
        vp = getattr(p, "video_processor", p)
        if not (hasattr(vp, "resize") and hasattr(vp, "valid_kwargs") and hasattr(vp, "temporal_patch_size")):
            raise TypeError(f"resize_for needs a Qwen3-VL processor or video processor, got {type(processor).__name__}")
        return cls(vp)

    def cache_key(self) -> tuple:
        return self._key

    def size(self, num_frames: int, height: int, width: int) -> tuple[int, int] | None:
        """(h', w') the processor resizes ``num_frames`` frames of height x width to, or None
        when its resize refuses them (then frames stay full size)."""
        import torch

        meta = torch.empty((1, int(num_frames), 3, int(height), int(width)), dtype=torch.uint8, device="meta")
        try:
            out = self.vp.resize(
                videos=meta, size=self.size_dict, resample=self.resample, factor=self.factor,
                temporal_factor=self.temporal_factor, cap_pixels_per_frame=self.cap,
            )  # fmt: skip
        except ValueError:
            return None
        return int(out.shape[-2]), int(out.shape[-1])

    def resize_into(self, src: np.ndarray, dst: np.ndarray) -> None:
        """Resize one (H, W, 3) uint8 frame into ``dst`` (h', w', 3), exactly as the processor does."""
        import torch
        from transformers.image_processing_utils import SizeDict

        h, w = dst.shape[:2]
        image = torch.from_numpy(src).permute(2, 0, 1).unsqueeze(0)  # (1, 3, H, W), channels-last memory
        out = self._base_resize(image=image, size=SizeDict(height=h, width=w), resample=self.resample)
        torch.from_numpy(dst).copy_(out[0].permute(1, 2, 0))


class ShrinkingPlan(ResizePlan):
    """``plan``, applied at decode time only where it makes frames smaller (a server holding
    frames): an upscale (small videos under the processor's pixel minimum) is left to the
    processor, which gives the same result from the full frames."""

    def __init__(self, plan: ResizePlan) -> None:
        self.__dict__.update(plan.__dict__)
        self._key = (*plan.cache_key(), "shrinking")

    def size(self, num_frames: int, height: int, width: int) -> tuple[int, int] | None:
        out = super().size(num_frames, height, width)
        return out if out is not None and out[0] * out[1] < int(height) * int(width) else None


class ResizingSink(FrameSink):
    """A ``FrameSink`` whose slots are a per-thread full-size scratch frame: ``filled(k)`` resizes
    it into the k-th output slot. ``slot`` and ``filled`` of one target run on one thread."""

    def __init__(self, indices: np.ndarray, height: int, width: int, allocator: Allocator, plan: ResizePlan, size: tuple[int, int]) -> None:
        super().__init__(indices, size[0], size[1], allocator)
        self.plan, self.src_size, self.frames_size = plan, (int(height), int(width)), size
        self._local = threading.local()

    def slot(self, k: int) -> Any:
        buf = getattr(self._local, "buf", None)
        if buf is None or buf.shape[:2] != self.src_size:
            buf = self._local.buf = np.empty((*self.src_size, 3), dtype=np.uint8)
        return buf

    def filled(self, k: int) -> None:
        self.filled_from(k, self._local.buf)

    def filled_from(self, k: int, src: np.ndarray, finish: Callable[[np.ndarray], None] | None = None) -> None:
        """The k-th target from ``src`` (H, W, 3), resized straight into its output slot, then
        ``finish(slot)`` in place (e.g. a channel swap: the resize filters each channel on its
        own, so swapping after it gives the same bytes), without the full-size scratch."""
        out = self.frames[self._starts[k]]
        self.plan.resize_into(src, out)
        if finish is not None:
            finish(out)
        super().filled(k)

    def transpose_size(self) -> None:
        h, w = self.src_size
        self.src_size = (w, h)
        size = self.plan.size(len(self.indices), w, h)
        if size != self.frames_size[::-1]:
            raise PlanChanged(f"a rotated {w}x{h} display plans {size}, not the transpose of {self.frames_size}")
        self.frames = self.frames.reshape(len(self.indices), size[0], size[1], 3)
        self.frames_size = size


def make_sink(indices: np.ndarray, info: StreamInfo, allocator: Allocator, resize: tuple[ResizePlan, tuple[int, int]] | None) -> FrameSink:
    """The sink of one backend decode: full frames, or resized ones (``resize``: plan, size)."""
    if resize is None:
        return FrameSink(indices, info.height, info.width, allocator)
    return ResizingSink(indices, info.height, info.width, allocator, *resize)


def _resize_after(decoded: Decoded, plan: ResizePlan, allocator: Allocator) -> Decoded:
    """A full-size decode resized afterwards (backends without ``resize_on_decode``, plan changes)."""
    n, info = len(decoded.indices), decoded.info
    size = plan.size(n, info.height, info.width) if n else None
    if size is None:
        return decoded
    out = allocator.empty(n, *size)
    for i in range(n):
        plan.resize_into(np.ascontiguousarray(decoded.frames[i]), out[i])
    return Decoded(out, decoded.indices, info, decoded.damage, frames_size=size)


def decode_resized(handle: BackendVideo, idx: np.ndarray, allocator: Allocator, plan: ResizePlan) -> Decoded:
    """``handle.decode(idx)`` with every frame resized as ``plan``'s processor would (see the module doc)."""
    while True:
        info = handle.info
        size = plan.size(len(idx), info.height, info.width)
        if size is None:
            return handle.decode(idx, allocator)
        if not getattr(handle, "resize_on_decode", False):
            return _resize_after(handle.decode(idx, allocator), plan, allocator)
        try:
            decoded = handle.decode(idx, allocator, resize=(plan, size))  # type: ignore[call-arg]
        except PlanChanged:
            return _resize_after(handle.decode(idx, allocator), plan, allocator)
        got, info = len(decoded.indices), decoded.info
        if got in (0, len(idx)) or plan.size(got, info.height, info.width) == decoded.frames_size:
            return decoded
        idx = decoded.indices  # damage changed the count and the plan: decode those frames again
