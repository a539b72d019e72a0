"""The in-process request paths the sweep compares: two baselines, ours, and ablations.

A mode is a set of switches. Baselines: ``stock`` (all off) is TensorRT-LLM 1.2.x's path
as reimplemented in ``stock.py``; ``trtllm-main`` is current TensorRT-LLM main's, as
reimplemented in ``trtllm_main.py`` (uvloop and sized pools, in-memory cv2, one sequential
grab pass, uint8 "np" frames, ``_decide_do_sample_frames``; no memo). Ours: ``fast`` (all
on; policy ``hf``: the frames transformers picks from the whole clip); ``fast-trtllm``
(policy ``trtllm``: exactly the model inputs ``trtllm-main`` gives, decoding only the frames
that reach the model); each ``fast-no-X`` turns one optimisation off so its share of the
speed-up can be read off the sweep.

The sweep's fps is the request's sampling: for ``trtllm-main`` / ``fast-trtllm`` it is the
request's ``media_io_kwargs["video"]["fps"]`` (see ``trtllm_main.py``), with no
``mm_processor_kwargs``.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Literal, Mapping

import numpy as np

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
    path: Literal["ours", "stock", "trtllm-main"] = "ours"  # which implementation runs the request
    policy: Literal["hf", "trtllm"] = "hf"  # ours: which frames reach the model (integrations _policy)

    @property
    def is_stock(self) -> bool:
        return self.path == "stock"

    @property
    def is_main(self) -> bool:
        return self.path == "trtllm-main"


_SWITCHES = ["uvloop", "pools", "in_memory", "uint8", "exact_sampling", "memo", "sparse"]
_FAST = Mode("fast")
_STOCK = Mode("stock", path="stock", **{k: False for k in _SWITCHES})
_MAIN = Mode("trtllm-main", path="trtllm-main", exact_sampling=False, memo=False, sparse=False)

MODES: dict[str, Mode] = {
    "stock": _STOCK,
    "trtllm-main": _MAIN,
    "fast": _FAST,
    "fast-trtllm": dataclasses.replace(_FAST, name="fast-trtllm", policy="trtllm"),
    **{f"fast-no-{k.replace('_', '-')}": dataclasses.replace(_FAST, name=f"fast-no-{k.replace('_', '-')}", **{k: False})
       for k in _SWITCHES},
}


def get_mode(name: str) -> Mode:
    try:
        return MODES[name]
    except KeyError:
        raise ValueError(f"unknown sweep mode {name!r}; valid: {', '.join(MODES)}") from None


class PolicyTrtllmPlan:
    """Policy ``trtllm`` for one request: the frames stock main feeds the model (``_policy``:
    main's loader pick ``L``, ``stock_samples``, then ``trtllm_frames`` with the live HF video
    processor), usable as our decoder's sampler so only those frames are decoded."""

    name = "trtllm"

    def __init__(self, video_processor: Any, media: Mapping[str, Any], mm: Mapping[str, Any], family: str = "qwen3_vl") -> None:
        self.video_processor, self.media, self.mm, self.family = video_processor, dict(media), dict(mm), family

    def plan(self, total: int, source_fps: float) -> Any:
        from ..integrations.tensorrt_llm import _policy

        n = len(_policy.stock_loader_indices(total, source_fps, self.media))
        sample = _policy.stock_samples("main", self.video_processor, [(n, total / source_fps)], self.mm, family=self.family)
        return _policy.trtllm_frames("main", self.video_processor, total, source_fps, self.media, self.mm, sample,
                                     family=self.family)

    def __call__(self, total_num_frames: int, source_fps: float, *, fps: float | None = None,
                 num_frames: int | None = None) -> np.ndarray:
        return self.plan(total_num_frames, source_fps).indices


class RequestPath:
    """The two stages of one request in a given mode: ``load(data, fps)`` and ``process(loaded, fps)``.

    Both are plain blocking functions; the sweep decides where they run (pools or not).
    ``mm_processor_kwargs``: the request's, for ``trtllm-main`` / ``fast-trtllm`` (the sweep
    sends none; tests send some). ``fps`` None: the request gives none (the defaults apply).
    """

    def __init__(self, mode: Mode, processor_factory: Any, *, mm_processor_kwargs: Mapping[str, Any] | None = None) -> None:
        from ..processors import registry

        self.mode = mode
        self.mm = dict(mm_processor_kwargs or {})
        self.hf = processor_factory()  # one instance per mode: a memo never leaks across modes
        self.family = registry.family_of(self.hf).name  # which fast processor and which stock paths
        family = registry.get(self.family)
        self.fast = family.wrap(self.hf, memo=mode.memo) if not mode.is_main else None  # main has no memo
        self.sampler = family.sampler_for(self.hf)
        if mode.path != "ours" or not mode.sparse:
            self.backend = "opencv"
        else:
            from ..video.registry import resolve

            self.backend = resolve("auto").name  # pyav when installed

    # -- load -------------------------------------------------------------------------
    def load(self, data: bytes, fps: float | None) -> Any:
        if self.mode.is_stock:
            from .stock import stock_load_video

            return stock_load_video(data, fps=fps, num_frames=STOCK_NUM_FRAMES_CAP)
        if self.mode.is_main:
            from .trtllm_main import load_bytes, request_media_io_kwargs

            return load_bytes(data, **request_media_io_kwargs(fps=fps, family=self.family))
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
        """Ours, pooled and in memory, goes through ``runtime.pipeline`` exactly as the server does."""
        return self.mode.pools and self.mode.in_memory and self.mode.path == "ours"

    def trtllm_plan(self, fps: float | None) -> PolicyTrtllmPlan:
        from .trtllm_main import request_media_io_kwargs

        return PolicyTrtllmPlan(self.hf.video_processor, request_media_io_kwargs(fps=fps, family=self.family), self.mm, self.family)

    def load_kwargs(self, fps: float | None) -> dict[str, Any]:
        if self.mode.policy == "trtllm":
            return {"sampler": self.trtllm_plan(fps), "backend": self.backend}
        if self.mode.exact_sampling:
            return {"fps": fps, "sampler": self.sampler, "backend": self.backend}
        return {"fps": fps, "num_frames": STOCK_NUM_FRAMES_CAP, "sampler": "uniform", "backend": self.backend}

    def _load_ours(self, source: Any, fps: float | None) -> VideoFrames:
        from ..video.api import load_video

        return load_video(source, **self.load_kwargs(fps))

    # -- process ----------------------------------------------------------------------
    def process(self, loaded: Any, fps: float | None = None) -> Any:
        from .stock import stock_preprocess

        if self.mode.is_stock:
            frames, _meta = loaded
            return stock_preprocess(self.hf, PROMPT, [frames])
        if self.mode.is_main:
            from .trtllm_main import preprocess

            return preprocess(self.hf, PROMPT, [loaded], self.mm, family=self.family)
        video: VideoFrames = loaded
        if self.mode.policy == "trtllm":
            return self._process_trtllm(video, fps)
        if self.mode.exact_sampling and self.mode.uint8:
            return self.fast(text=[PROMPT], videos=video, padding=True)
        frames = _float_chw(video) if not self.mode.uint8 else _uint8_view(video)
        extra: dict[str, Any] = {"do_rescale": self.mode.uint8}  # float frames are already in [0, 1]
        if self.mode.exact_sampling:
            extra.update(video_metadata=[video.metadata.to_hf()], do_sample_frames=False)
        return stock_preprocess(self.hf, PROMPT, [frames], **extra)

    def _process_trtllm(self, video: VideoFrames, fps: float | None) -> Any:
        """Policy ``trtllm`` (as ``integrations/tensorrt_llm/_processor.py`` calls ``wrap(hf)``):
        the decoded ``L[S]`` as a uint8 view (main's "pt" format: its float frames), stock
        main's metadata, ``do_sample_frames=False``."""
        m = video.metadata
        plan = self.trtllm_plan(fps).plan(m.total_num_frames, m.fps)
        rest = {k: v for k, v in self.mm.items() if k not in ("fps", "num_frames", "do_sample_frames")}
        frames = _uint8_view(video)
        if plan.float_frames:
            from .trtllm_main import pt_tensor

            frames, rest["do_rescale"] = pt_tensor(video.frames), False
        return self.fast(text=[PROMPT], videos=[frames], video_metadata=[plan.hf_metadata], padding=True, **rest)

    @staticmethod
    def frames_out(processed: Any) -> int:
        """Frames the model receives (temporal patches x 2)."""
        return int(processed["video_grid_thw"][0, 0]) * 2

    @staticmethod
    def tokens_out(processed: Any) -> int:
        """Tokens the model receives: ``len(input_ids)``."""
        return int(processed["input_ids"].shape[-1])

    def run_once(self, data: bytes, fps: float | None) -> Any:
        """Load and process one request here, blocking (for checks, not timing)."""
        return self.process(self.load(data, fps), fps)


def _uint8_view(video: VideoFrames) -> Any:
    import torch

    return torch.from_numpy(video.frames).permute(0, 3, 1, 2)


def _float_chw(video: VideoFrames) -> list[Any]:
    import torch

    return [torch.from_numpy(f).permute(2, 0, 1).float().div(255) for f in video.frames]
