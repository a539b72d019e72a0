"""A cheaper, bit-identical video tail for the Qwen-VL video processors of transformers.

Stock ``Qwen2VLVideoProcessor._preprocess`` / ``Qwen3VLVideoProcessor._preprocess`` (same body):
group by shape, ``resize`` (uint8 in, uint8 out: torchvision's native uint8 antialiased bicubic),
regroup, then per group ``rescale_and_normalize`` (``x.to(float32)``, ``sub_(mean)``, ``div_(std)``,
mean and std already multiplied by ``1 / rescale_factor``), ``patchify`` (a float ``torch.cat`` to
pad the frames to a multiple of ``temporal_patch_size`` with the last one, a float permute copy)
and a final float ``torch.cat`` of all videos: about six passes over float32 data.

Here, after the very same ``resize`` call, each video goes straight into its rows of one
preallocated output: ``rows.copy_(uint8 view in patch order)``, ``rows.sub_(mean)``,
``rows.div_(std)``. uint8 -> float32 is exact and ``sub`` / ``div`` are correctly rounded IEEE
float32 ops on the same operands (the same mean / std tensors, from the processor's own
``_fuse_mean_std_and_rescale_factor``), elementwise, so every value is bit-identical; the
temporal padding happens in uint8 and the patch permutation rides on the conversion, so there
are three passes over the output instead of about six, the last two contiguous. (A 3x256
lookup table gathered by index was measured too: on CPU, the uint8 -> int index pass plus a
scalar gather cost more than these vectorised passes; so did ``torch.sub(u8, mean, out=)``.)
The table still serves as a guard: per normalisation config, all 256 values of each channel go
once through the processor's own ``rescale_and_normalize`` and through the ops here; any
difference turns the fused path off for that config.

Only audited code is replaced: the processor class's ``_preprocess``, ``patchify``,
``rescale_and_normalize``, ``normalize``, ``_fuse_mean_std_and_rescale_factor`` and torchvision's
``normalize_image`` must be the installed stock functions whose source this module was written
against (digests below), not overridden on the instance. Anything else runs the stock path and
says why once (INFO): another transformers / torchvision version, a subclass overriding one of
them, ``do_normalize=False``, frames that are not CPU uint8 tensors (float frames with
``do_rescale=False``, CUDA frames), a channel count other than the mean's, frames whose size is
not a multiple of ``patch_size * merge_size`` without a resize (stock raises its own error).
The first call of a class with ``cap_pixels_per_frame`` unset also runs stock, so that
transformers' own one-time warning about it is still shown.

Hook: ``install(hf)`` puts ``FusedVideoProcessing`` in front of ``hf._process_videos`` (under the
processed-video cache, if any). It does nothing unless the call runs inside ``active(True)``
(``FastProcessor.__call__``), so the HF processor called directly stays stock. When active, the
stock ``_process_videos`` runs on a shallow copy of the processor whose ``video_processor`` is a
shallow copy with the fused ``_preprocess``: validation, defaults, replacement text, timestamps
and ``second_per_grid_ts`` stay transformers' own, and the user's objects are never mutated.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import hashlib
import inspect
import logging
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

__all__ = ["FusedVideoProcessing", "active", "install", "stats"]

log = logging.getLogger(__name__)

# sha256[:16] of inspect.getsource of the stock functions this module reproduces
# (transformers 5.24.0, torchvision 0.29.1). Another source: the stock path, said once.
_AUDITED: dict[str, str] = {
    "Qwen2VLVideoProcessor._preprocess": "7c5217d845b02b59",
    "Qwen3VLVideoProcessor._preprocess": "feb35dd7aa49ab7e",
    "Qwen2VLVideoProcessor.patchify": "406e18d794761284",
    "Qwen3VLVideoProcessor.patchify": "406e18d794761284",
    "TorchvisionBackend.rescale_and_normalize": "7cb9eac8671b238a",
    "TorchvisionBackend.normalize": "6f290e948aec6add",
    "TorchvisionBackend._fuse_mean_std_and_rescale_factor": "cb8b40e36c66f57f",
    "normalize_image": "2835f4c11eb148a1",  # torchvision.transforms.v2.functional._misc
}
_METHODS = ("_preprocess", "patchify", "rescale_and_normalize", "normalize", "_fuse_mean_std_and_rescale_factor")

_active: contextvars.ContextVar[bool] = contextvars.ContextVar("trtllm_mmfast_fused_video", default=False)
_lock = threading.Lock()
_counts: Counter[str] = Counter()  # "fused", "stock", "stock: <reason>"
_logged: set[str] = set()
_class_reasons: dict[type, str | None] = {}
_warned: set[type] = set()  # classes whose stock cap_pixels_per_frame warning has been shown
_checked: dict[Any, bool] = {}  # normalisation config -> fused ops equal stock on all 256 values


@contextlib.contextmanager
def active(on: bool = True) -> Iterator[None]:
    """Processor calls made inside use the fused video tail (where it applies)."""
    token = _active.set(on)
    try:
        yield
    finally:
        _active.reset(token)


def stats() -> dict[str, int]:
    """Calls of the video tail so far: ``fused``, ``stock`` and ``stock: <reason>`` per reason."""
    with _lock:
        return dict(_counts)


def _stock(reason: str, level: int = logging.INFO) -> None:
    with _lock:
        _counts["stock"] += 1
        _counts[f"stock: {reason}"] += 1
        first = reason not in _logged
        _logged.add(reason)
    if first:
        log.log(level, "fused video processing not used (stock transformers path instead): %s", reason)


def _digest(fn: Any) -> str | None:
    try:
        return hashlib.sha256(inspect.getsource(inspect.unwrap(fn)).encode()).hexdigest()[:16]
    except (OSError, TypeError):
        return None


def _class_reason(cls: type) -> str | None:
    """Why ``cls`` cannot take the fused tail (None: it can); computed once per class."""
    if cls in _class_reasons:
        return _class_reasons[cls]
    reason = None
    for name in _METHODS:
        fn = getattr(cls, name, None)
        qualname = getattr(inspect.unwrap(fn), "__qualname__", "?") if fn is not None else "?"
        want = _AUDITED.get(qualname)
        if want is None:
            reason = f"{cls.__name__}.{name} is {qualname}, not an audited stock function"
            break
        if _digest(fn) != want:
            reason = f"{qualname} differs from the audited stock source (another transformers version?)"
            break
    if reason is None:
        from torchvision.transforms.v2.functional import _misc

        if _digest(_misc.normalize_image) != _AUDITED["normalize_image"]:
            reason = "torchvision's normalize_image differs from the audited source (another torchvision version?)"
    with _lock:
        _class_reasons[cls] = reason
    return reason


class FusedVideoProcessing:
    """Stands in for one HF processor instance's ``_process_videos`` (inert outside ``active``)."""

    def __init__(self, original: Any) -> None:
        self.original = original

    def __call__(self, videos: Any, **kwargs: Any) -> Any:
        if not _active.get():
            return self.original(videos, **kwargs)
        hf, func = getattr(self.original, "__self__", None), getattr(self.original, "__func__", None)
        vp = getattr(hf, "video_processor", None)
        if func is None or vp is None:
            _stock("the processor's _process_videos is not a plain method")
            return self.original(videos, **kwargs)
        reason = _class_reason(type(vp)) or next(
            (f"{type(vp).__name__}.{n} is overridden on the instance" for n in _METHODS if n in vp.__dict__), None
        )
        if reason is not None:
            _stock(reason)
            return self.original(videos, **kwargs)
        fused_vp = copy.copy(vp)
        fused_vp._preprocess = functools.partial(_fused_preprocess, fused_vp, vp)
        shadow = copy.copy(hf)
        shadow.video_processor = fused_vp
        return func(shadow, videos, **kwargs)  # the stock _process_videos, on the copies

    def __reduce__(self) -> tuple[Any, ...]:
        # transformers deep-copies a processor's __dict__ (repr, to_dict, save_pretrained)
        return (FusedVideoProcessing, (self.original,))


def install(hf: Any) -> FusedVideoProcessing:
    """Put the fused hook in front of ``hf._process_videos``, under the processed-video cache
    when there is one (idempotent)."""
    from ._video_cache import CachedVideoProcessing

    existing = hf.__dict__.get("_process_videos")
    if isinstance(existing, FusedVideoProcessing):
        return existing
    if isinstance(existing, CachedVideoProcessing):
        if not isinstance(existing.original, FusedVideoProcessing):
            existing.original = FusedVideoProcessing(existing.original)
        return existing.original
    hook = FusedVideoProcessing(hf._process_videos)
    hf._process_videos = hook  # instance attribute shadows the class method
    return hook


def _normalize_into(out: Any, u8: Any, mean: Any, std: Any) -> None:
    """``out = (float32(u8) - mean) / std`` with stock's ops: the exact uint8 -> float32
    conversion (here also the permutation into patch order), ``sub_(mean)``, ``div_(std)``."""
    out.copy_(u8)
    out.sub_(mean)
    out.div_(std)


def _norm_tensors(origin: Any, do_rescale: bool, rescale_factor: float, image_mean: Any, image_std: Any, channels: int) -> Any:
    """(mean, std) shaped (C, 1, 1, 1) as stock's normalize uses them, or a reason string."""
    import torch

    mean, std, _ = origin._fuse_mean_std_and_rescale_factor(
        do_normalize=True, image_mean=image_mean, image_std=image_std, do_rescale=do_rescale,
        rescale_factor=rescale_factor, device=torch.device("cpu"),
    )
    if isinstance(std, (tuple, list)) and not all(std):
        return "image_std has a zero (stock raises its error)"
    mean = torch.as_tensor(mean, dtype=torch.float32)
    std = torch.as_tensor(std, dtype=torch.float32)
    if mean.ndim != 1 or std.ndim != 1 or mean.numel() != channels or std.numel() != channels:
        return f"image_mean / image_std do not hold one value per channel ({channels})"
    key = (do_rescale, float(rescale_factor), tuple(mean.tolist()), tuple(std.tolist()), channels)
    ok = _checked.get(key)
    if ok is None:
        # every value of every channel through the processor's own rescale_and_normalize, and here
        probe = torch.arange(256, dtype=torch.uint8).expand(1, channels, 1, 256).contiguous()
        want = origin.rescale_and_normalize(probe, do_rescale, rescale_factor, True, image_mean, image_std)
        got = torch.empty((channels, 1, 1, 256), dtype=torch.float32)
        _normalize_into(got, probe.view(channels, 1, 1, 256), mean.view(-1, 1, 1, 1), std.view(-1, 1, 1, 1))
        ok = want.dtype == torch.float32 and torch.equal(want.view(channels, 1, 1, 256), got)
        with _lock:
            if len(_checked) > 64:
                _checked.clear()
            _checked[key] = ok
    if not ok:
        return "the fused float ops differ from rescale_and_normalize for this normalisation"
    return mean.view(-1, 1, 1, 1), std.view(-1, 1, 1, 1)


def _video_reason(videos: list[Any], do_resize: bool, factor: int) -> str | None:
    import torch

    if not videos:
        return "no videos"
    for v in videos:
        if not isinstance(v, torch.Tensor) or v.dtype != torch.uint8 or v.device.type != "cpu" or v.ndim != 4:
            kind = f"{v.dtype} on {v.device}" if isinstance(v, torch.Tensor) else type(v).__name__
            return f"frames are not CPU uint8 (T, C, H, W) tensors ({kind})"
        if v.shape[0] == 0:
            return "a video with no frames"
        if v.shape[1] != videos[0].shape[1]:
            return "videos with different channel counts"
        if not do_resize and (v.shape[-2] % factor or v.shape[-1] % factor):
            return "frames not resized and not a multiple of patch_size * merge_size (stock raises its error)"
    return None


def _fused_preprocess(
    self: Any,
    origin: Any,
    videos: list[Any],
    do_resize: bool,
    size: Any,
    resample: Any,
    do_rescale: bool,
    rescale_factor: float,
    do_normalize: bool,
    image_mean: Any,
    image_std: Any,
    patch_size: int | None = None,
    temporal_patch_size: int | None = None,
    merge_size: int | None = None,
    cap_pixels_per_frame: bool | None = None,
    return_tensors: Any = None,
    **kwargs: Any,
) -> Any:
    """The stock ``_preprocess`` of ``type(self)``, its rescale / normalize / patchify / cat fused."""
    import torch

    cls = type(self)
    level = logging.INFO
    norm: Any  # (mean, std) for the fused path, or why not
    if cap_pixels_per_frame is None and cls not in _warned:
        with _lock:
            _warned.add(cls)
        norm, level = "first call with cap_pixels_per_frame unset: stock shows transformers' warning about it", logging.DEBUG
    elif not do_normalize:
        norm = "do_normalize=False"
    elif not (patch_size and merge_size and temporal_patch_size):
        norm = "patch_size, merge_size or temporal_patch_size unset"
    else:
        norm = _video_reason(videos, do_resize, patch_size * merge_size) or _norm_tensors(
            origin, do_rescale, rescale_factor, image_mean, image_std, videos[0].shape[1]
        )
    if isinstance(norm, str):
        _stock(norm, level)
        return cls._preprocess(
            self, videos=videos, do_resize=do_resize, size=size, resample=resample, do_rescale=do_rescale,
            rescale_factor=rescale_factor, do_normalize=do_normalize, image_mean=image_mean, image_std=image_std,
            patch_size=patch_size, temporal_patch_size=temporal_patch_size, merge_size=merge_size,
            cap_pixels_per_frame=cap_pixels_per_frame, return_tensors=return_tensors, **kwargs,
        )
    # resize exactly as stock: the same groups, the same call (uint8 stays uint8)
    stock_module = sys.modules[cls._preprocess.__module__]
    grouped, index = stock_module.group_videos_by_shape(videos)
    resized_grouped = {}
    for shape, stacked in grouped.items():
        if do_resize:
            stacked = self.resize(
                videos=stacked, size=size, resample=resample, factor=patch_size * merge_size,
                temporal_factor=temporal_patch_size,
                cap_pixels_per_frame=False if cap_pixels_per_frame is None else cap_pixels_per_frame,
            )
        resized_grouped[shape] = stacked
    resized = stock_module.reorder_videos(resized_grouped, index)
    out, grids = _patchify_into(resized, *norm, patch_size, merge_size, temporal_patch_size)
    with _lock:
        _counts["fused"] += 1
    return stock_module.BatchFeature(
        data={"pixel_values_videos": out, "video_grid_thw": torch.tensor(grids)}, tensor_type=return_tensors
    )


def _patchify_into(resized: list[Any], mean: Any, std: Any, ps: int, ms: int, tps: int) -> tuple[Any, list[list[int]]]:
    """All videos' patches, normalised, in stock's order in one (rows, C * tps * ps * ps) float32
    tensor, and their [grid_t, grid_h, grid_w]."""
    import torch

    channels = mean.shape[0]
    grids, rows = [], []
    for v in resized:
        t, c, h, w = v.shape
        if c != channels or v.dtype != torch.uint8:
            raise RuntimeError(f"resize returned {tuple(v.shape)} {v.dtype} frames; expected {channels} uint8 channels")
        grid_t, grid_h, grid_w = (t + -t % tps) // tps, h // ps, w // ps
        grids.append([grid_t, grid_h, grid_w])
        rows.append(grid_t * grid_h * grid_w)
    out = torch.empty((sum(rows), channels * tps * ps * ps), dtype=torch.float32)
    start = 0
    for v, (grid_t, grid_h, grid_w), n in zip(resized, grids, rows):
        if pad := -v.shape[0] % tps:  # repeat the last frame, as stock's patchify does (in uint8 here)
            v = torch.cat((v, v[-1:].expand(pad, -1, -1, -1)), dim=0)
        # (t, tps, C, gh/m, m, ps, gw/m, m, ps) -> (t, gh/m, gw/m, m, m, C, tps, ps, ps): stock's patch order
        patches = v.view(grid_t, tps, channels, grid_h // ms, ms, ps, grid_w // ms, ms, ps).permute(0, 3, 6, 4, 7, 2, 1, 5, 8)
        _normalize_into(out[start : start + n].view(patches.shape), patches, mean, std)
        start += n
    return out, grids
