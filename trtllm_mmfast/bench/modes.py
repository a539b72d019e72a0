"""The in-process request paths the sweep compares: ``stock``, ``fast`` and ablations.

A mode is a set of switches. ``stock`` (all off) is TensorRT-LLM 1.2.x's path as
reimplemented in ``stock.py``; ``fast`` (all on) is ours; each ``fast-no-X`` turns one
optimisation off so its share of the speed-up can be read off the sweep.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass
from typing import Any

from ..types import VideoFrames

__all__ = ["MODES", "Mode", "RequestPath", "get_mode"]

PROMPT = "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>Describe the video.<|im_end|>\n"

# What the stock loader is given: the sweep's fps, and a frame cap that never binds
# (TensorRT-LLM's default num_frames=10 would cap every point at 10 frames).
STOCK_NUM_FRAMES_CAP = 768


@dataclass(frozen=True)
class Mode:
    name: str
    uvloop: bool = True  # event loop: uvloop vs asyncio's default
    pools: bool = True  # dedicated sized pools vs the loop's default executor
    in_memory: bool = True  # decode from bytes in memory vs a tempfile first
    uint8: bool = True  # uint8 channels-last view vs float32 CHW tensors
    exact_sampling: bool = True  # sample once at load (qwen3_vl) vs uniform load + HF re-sampling
    memo: bool = True  # memoized _merge_kwargs
    sparse: bool = True  # pyav exact sparse decode vs opencv sequential decode

    @property
    def is_stock(self) -> bool:
        return self.name == "stock"


_SWITCHES = ["uvloop", "pools", "in_memory", "uint8", "exact_sampling", "memo", "sparse"]
_FAST = Mode("fast")
_STOCK = Mode("stock", **{k: False for k in _SWITCHES})

MODES: dict[str, Mode] = {
    "stock": _STOCK,
    "fast": _FAST,
    **{f"fast-no-{k.replace('_', '-')}": dataclasses.replace(_FAST, name=f"fast-no-{k.replace('_', '-')}", **{k: False})
       for k in _SWITCHES},
}


def get_mode(name: str) -> Mode:
    try:
        return MODES[name]
    except KeyError:
        raise ValueError(f"unknown sweep mode {name!r}; valid: {', '.join(MODES)}") from None


class RequestPath:
    """The two stages of one request in a given mode: ``load(data, fps)`` and ``process(loaded)``.

    Both are plain blocking functions; the sweep decides where they run (pools or not).
    """

    def __init__(self, mode: Mode, processor_factory: Any) -> None:
        from ..processors.qwen3_vl import sampler_for, wrap

        self.mode = mode
        self.hf = processor_factory()  # one instance per mode: a memo never leaks across modes
        self.fast = wrap(self.hf, memo=mode.memo)
        self.sampler = sampler_for(self.hf)
        if mode.is_stock or not mode.sparse:
            self.backend = "opencv"
        else:
            from ..video.registry import resolve

            self.backend = resolve("auto").name  # pyav when installed

    # -- load -------------------------------------------------------------------------
    def load(self, data: bytes, fps: float) -> Any:
        if self.mode.is_stock:
            from .stock import stock_load_video

            return stock_load_video(data, fps=fps, num_frames=STOCK_NUM_FRAMES_CAP)
        if self.mode.in_memory:
            return self._load_ours(data, fps)
        with tempfile.NamedTemporaryFile(prefix="mmfast-sweep-", suffix=".mp4", delete=False) as f:
            f.write(data)
        try:
            return self._load_ours(f.name, fps)
        finally:
            os.unlink(f.name)

    @property
    def uses_pipeline(self) -> bool:
        """Pooled, in-memory modes go through ``runtime.pipeline`` exactly as the server does."""
        return self.mode.pools and self.mode.in_memory and not self.mode.is_stock

    def load_kwargs(self, fps: float) -> dict[str, Any]:
        if self.mode.exact_sampling:
            return {"fps": fps, "sampler": self.sampler, "backend": self.backend}
        return {"fps": fps, "num_frames": STOCK_NUM_FRAMES_CAP, "sampler": "uniform", "backend": self.backend}

    def _load_ours(self, source: Any, fps: float) -> VideoFrames:
        from ..video.api import load_video

        return load_video(source, **self.load_kwargs(fps))

    # -- process ----------------------------------------------------------------------
    def process(self, loaded: Any) -> Any:
        from .stock import stock_preprocess

        if self.mode.is_stock:
            frames, _meta = loaded
            return stock_preprocess(self.hf, PROMPT, [frames])
        video: VideoFrames = loaded
        if self.mode.exact_sampling and self.mode.uint8:
            return self.fast(text=[PROMPT], videos=video, padding=True)
        frames = _float_chw(video) if not self.mode.uint8 else _uint8_view(video)
        extra: dict[str, Any] = {"do_rescale": self.mode.uint8}  # float frames are already in [0, 1]
        if self.mode.exact_sampling:
            extra.update(video_metadata=[video.metadata.to_hf()], do_sample_frames=False)
        return stock_preprocess(self.hf, PROMPT, [frames], **extra)

    @staticmethod
    def frames_out(processed: Any) -> int:
        """Frames the model receives (temporal patches x 2)."""
        return int(processed["video_grid_thw"][0, 0]) * 2


def _uint8_view(video: VideoFrames) -> Any:
    import torch

    return torch.from_numpy(video.frames).permute(0, 3, 1, 2)


def _float_chw(video: VideoFrames) -> list[Any]:
    import torch

    return [torch.from_numpy(f).permute(2, 0, 1).float().div(255) for f in video.frames]
