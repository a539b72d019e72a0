"""What every fast processor family shares: frames picked once, handed over exactly.

- ``FastProcessor``: callable like the HF processor; videos (``VideoFrames``, one or a list)
  go in as zero-copy channels-last uint8 tensor views with ``do_sample_frames=False`` and
  their ``video_metadata`` (source fps, ``frames_indices``); the request's sampling kwargs
  are dropped (sampling happened at load time); frames resized at decode time skip the
  processor's resize; with a cache, the processed videos are keyed by their identity; the
  video processor's rescale / normalize / patchify run fused (``_fused_video``, bit-identical).
  Images: uint8 (H, W, 3) arrays go in as zero-copy (3, H, W) views (``_images``).
- ``MergeKwargsMemo``: a bounded LRU in front of ``ProcessorMixin._merge_kwargs``.

A family module subclasses ``FastProcessor`` (naming its family and sampler class) and
exposes its ``wrap`` and ``sampler_for`` classmethods and ``FAMILY``.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..types import VideoFrames
from ._families import FAMILIES, Family, family_name_of

__all__ = ["FastProcessor", "MergeKwargsMemo", "install_memo", "video_input"]

# Request kwargs that only steer sampling: sampling happened at load time, so they are
# dropped here (and with them any way to turn the processor's own sampling back on).
SAMPLING_KWARGS = ("do_sample_frames", "fps", "num_frames")  # a call's frame sampling

# Kwargs whose value changes every request but is only placed, untouched, into the merged
# output: left out of the memo key and put back into a copy of the cached result.
_PLACED_KWARGS = ("video_metadata",)


def _freeze(value: Any) -> Any:
    """A hashable, order-insensitive stand-in for ``value``; raises TypeError if impossible."""
    if isinstance(value, Mapping):
        return ("__map__", tuple(sorted(((k, _freeze(v)) for k, v in value.items()), key=lambda kv: repr(kv[0]))))
    if isinstance(value, (list, tuple)):
        return ("__seq__", type(value).__name__, tuple(_freeze(v) for v in value))
    if hasattr(value, "__dataclass_fields__"):
        return ("__dc__", type(value).__name__, tuple((f, _freeze(getattr(value, f))) for f in value.__dataclass_fields__))
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy arrays / scalars
        return ("__arr__", str(value.dtype), _freeze(value.tolist()))
    hash(value)  # TypeError for anything else unhashable
    return (type(value).__name__, value)  # keeps True, 1 and 1.0 apart


class MergeKwargsMemo:
    """A bounded LRU in front of one processor's ``_merge_kwargs``.

    The key is built from the call's arguments when they are hashable after normalisation
    (mappings, lists, dataclasses and arrays made into tuples); ``video_metadata`` is left
    out of the key and placed into the result afterwards, so requests with different
    videos share one entry. Every call returns a deep copy, so callers may mutate it.
    Unhashable arguments (``TypeError``) go straight to the original method.
    """

    def __init__(self, original: Any, maxsize: int = 256) -> None:
        self.original = original
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self.bypassed = 0
        self._cache: OrderedDict[Any, tuple[dict, list[tuple[str, ...]]]] = OrderedDict()
        self._lock = threading.Lock()
        # tokenizer.init_kwargs is the same dict on every call; freeze it once per object.
        self._frozen_by_id: dict[int, tuple[Any, Any]] = {}

    def _freeze_cached(self, value: Any) -> Any:
        if isinstance(value, dict):
            hit = self._frozen_by_id.get(id(value))
            if hit is not None and hit[0] is value:
                return hit[1]
            frozen = _freeze(value)
            self._frozen_by_id[id(value)] = (value, frozen)
            return frozen
        return _freeze(value)

    def __call__(self, *args: Any, **kwargs: Any) -> dict:
        placed = {k: kwargs.pop(k) for k in _PLACED_KWARGS if k in kwargs}
        try:
            key = (
                tuple(_freeze(a) for a in args),
                tuple(sorted((k, self._freeze_cached(v)) for k, v in kwargs.items())),
                tuple(sorted(placed)),
            )
            hash(key)
        except TypeError:
            with self._lock:
                self.bypassed += 1
            return self.original(*args, **kwargs, **placed)
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                self._cache.move_to_end(key)
                self.hits += 1
        if entry is None:
            merged = self.original(*args, **kwargs, **placed)
            paths = [(sub, k) for sub, d in merged.items() if isinstance(d, dict) for k in placed if k in d]
            template = copy.deepcopy(merged)
            for sub, k in paths:
                template[sub][k] = None  # never keep a request's metadata in the cache
            with self._lock:
                self.misses += 1
                self._cache[key] = (template, paths)
                while len(self._cache) > self.maxsize:
                    self._cache.popitem(last=False)
            return merged
        template, paths = entry
        out = copy.deepcopy(template)
        for sub, k in paths:
            out[sub][k] = copy.deepcopy(placed[k])
        return out

    def __reduce__(self) -> tuple[Any, tuple[Any, int]]:
        # transformers deep-copies a processor's __dict__ (repr, to_dict, save_pretrained):
        # a copy gets an empty memo in front of the copied processor's own method.
        return (MergeKwargsMemo, (self.original, self.maxsize))

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self.hits = self.misses = self.bypassed = 0


def install_memo(hf_processor: Any, maxsize: int) -> MergeKwargsMemo:
    existing = hf_processor.__dict__.get("_merge_kwargs")
    if isinstance(existing, MergeKwargsMemo):
        return existing
    memo = MergeKwargsMemo(hf_processor._merge_kwargs, maxsize=maxsize)
    hf_processor._merge_kwargs = memo  # instance attribute shadows the class method
    return memo


def video_input(video: Any) -> tuple[Any, dict | None]:
    """(frames as a zero-copy channels-last uint8 tensor view, HF metadata dict or None)."""
    import torch

    if isinstance(video, VideoFrames):
        frames, meta = video.frames, video.metadata.to_hf()
    else:
        frames, meta = video, None
    if isinstance(frames, torch.Tensor):
        tensor = frames
    else:
        tensor = torch.from_numpy(frames)  # numpy (N,H,W,3): shares memory
    if tensor.ndim == 4 and tensor.shape[-1] == 3 and tensor.shape[1] != 3:
        tensor = tensor.permute(0, 3, 1, 2)  # a view: NCHW shape, channels-last memory
    return tensor, meta


@dataclass
class FastProcessor:
    """Callable like the HF processor, taking videos as ``VideoFrames`` (one or a list).

    ``hf`` is the wrapped HF processor; ``memo`` its ``_merge_kwargs`` memo (or None);
    ``cache`` the ``VideoCache`` for processed videos (``wrap(..., cache=)``), or None;
    ``fused``: the video processor's tail runs fused (``_fused_video``; False: stock).
    """

    FAMILY: ClassVar[Family]
    SAMPLER: ClassVar[Any]  # the family's sampler class (``from_processor(hf)``)

    hf: Any
    memo: MergeKwargsMemo | None
    cache: Any = None
    fused: bool = True

    def __init_subclass__(cls, *, family: str | None = None, sampler: Any = None, **kwargs: Any) -> None:
        """``class FastX(FastProcessor, family="qwen2_vl", sampler=Qwen2VLSampler)``; a subclass
        of a family's class keeps its family and sampler."""
        super().__init_subclass__(**kwargs)
        if family is not None:
            cls.FAMILY = FAMILIES[family]
        if sampler is not None:
            cls.SAMPLER = sampler

    def __call__(
        self,
        text: Any = None,
        images: Any = None,
        videos: VideoFrames | Sequence[VideoFrames] | None = None,
        return_tensors: str | None = "pt",
        **kwargs: Any,
    ) -> Any:
        for k in SAMPLING_KWARGS:
            kwargs.pop(k, None)
        images = _image_inputs(images)
        if videos is None:
            return self.hf(text=text, images=images, videos=videos, return_tensors=return_tensors, **kwargs)
        items = [videos] if isinstance(videos, VideoFrames) or _is_single_array(videos) else list(videos)
        tensors = _video_kwargs(self.hf, items, kwargs)
        with contextlib.ExitStack() as stack:
            if self.fused:
                from ._fused_video import active

                stack.enter_context(active())
            if self.cache is not None and all(isinstance(v, VideoFrames) for v in items):
                from ._video_cache import frames_identity, video_identity

                ident = tuple(frames_identity(v.metadata.source_digest, v.metadata.frames_indices, "uint8") for v in items)
                stack.enter_context(video_identity(ident))
            return self.hf(text=text, images=images, videos=tensors, return_tensors=return_tensors, **kwargs)

    @property
    def sampler(self) -> Any:
        """This family's sampler with the wrapped processor's own settings."""
        return self.SAMPLER.from_processor(self.hf)

    @classmethod
    def wrap(
        cls, hf_processor: Any, *, memo: bool = True, memo_size: int = 256, cache: Any = None, fused: bool | None = None
    ) -> Any:
        """Wrap an HF processor of this family (e.g. ``AutoProcessor.from_pretrained(model_dir)``).

        Installs the ``_merge_kwargs`` memo on that processor instance (idempotent);
        ``memo=False`` leaves the processor untouched (benchmarks use it as an ablation).
        ``cache``: a ``VideoCache``: a video seen before (same source digest — ``load_video(...,
        cache=)`` sets it — same frames, same processor settings) skips the HF video processing;
        the text side still runs, so ``input_ids`` follow the new prompt. ``fused`` (default True):
        the video processor's rescale / normalize / patchify / concatenation run as one fused,
        bit-identical step (``_fused_video``; it falls back to stock where it does not apply);
        False leaves that stock (an ablation). A wrapper is returned as is, or re-wrapped around
        its HF processor when given another cache or ``fused`` or when it is another family's
        (keeping its ``fused`` unless given); a processor of another family raises TypeError.
        """
        if isinstance(hf_processor, FastProcessor):
            same_fused = fused is None or fused == hf_processor.fused
            if type(hf_processor) is cls and (cache is None or cache is hf_processor.cache) and same_fused:
                return hf_processor
            return cls.wrap(
                hf_processor.hf, memo=hf_processor.memo is not None, memo_size=memo_size, cache=cache,
                fused=hf_processor.fused if fused is None else fused,
            )
        if not hasattr(hf_processor, "video_processor"):
            raise TypeError(f"expected a {cls.FAMILY.name} processor with a video_processor, got {type(hf_processor).__name__}")
        found = family_name_of(hf_processor)
        if found is not None and found != cls.FAMILY.name:
            raise TypeError(
                f"{type(hf_processor).__name__} belongs to the {found} family, not {cls.FAMILY.name}: "
                "wrap it with trtllm_mmfast.processors.registry.get(family_of(p).name).wrap"
            )
        fused = True if fused is None else fused
        if fused:
            from ._fused_video import install as install_fused

            install_fused(hf_processor)  # inert unless called from a fused wrapper; under the cache
        if cache is not None:
            from ._video_cache import install

            install(hf_processor, cache)
        return cls(hf=hf_processor, memo=install_memo(hf_processor, memo_size) if memo else None, cache=cache, fused=fused)

    @classmethod
    def sampler_for(cls, processor: Any) -> Any:
        """This family's sampler built from a processor (HF or fast) and its own settings."""
        return cls.SAMPLER.from_processor(processor.hf if isinstance(processor, FastProcessor) else processor)


def _video_kwargs(hf: Any, items: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """The videos as tensor views; sets ``video_metadata``, ``do_sample_frames`` (and
    ``do_resize`` for frames resized at decode time) in ``kwargs``."""
    converted = [video_input(v) for v in items]
    metas = [m for _, m in converted]
    if all(m is not None for m in metas):
        kwargs["video_metadata"] = metas
    elif any(m is not None for m in metas):
        raise ValueError("mix of VideoFrames and raw arrays: pass all videos as VideoFrames")
    elif "video_metadata" not in kwargs:
        raise ValueError(
            "raw frame arrays need `video_metadata` (fps and frames_indices) for exact timestamps; "
            "pass VideoFrames from load_video instead"
        )
    kwargs["do_sample_frames"] = False
    if _pre_resized(hf, items, kwargs):
        # resized as decoded, exactly as this processor would; videos only: images still resize
        kwargs["videos_kwargs"] = {**(kwargs.get("videos_kwargs") or {}), "do_resize": False}
    return [t for t, _ in converted]


def _image_inputs(images: Any) -> Any:
    """Decoded uint8 (H, W, 3) images as zero-copy (3, H, W) views (``_images``); the rest as is."""
    if images is None:
        return None
    from ._images import image_inputs, is_uint8_hwc

    if is_uint8_hwc(images):
        return image_inputs([images])
    if isinstance(images, (list, tuple)):
        return image_inputs(images)
    return images


def resize_kwargs_given(kwargs: dict[str, Any]) -> set[str]:
    """The resize settings a processor call gives, at its top level or in ``videos_kwargs``."""
    from ..video.resize import RESIZE_KWARGS

    return (set(kwargs) | set(kwargs.get("videos_kwargs") or ())) & set(RESIZE_KWARGS)


def _pre_resized(hf: Any, items: list[Any], kwargs: dict[str, Any]) -> bool:
    """True when every video was resized at decode time for this processor (``load_video(...,
    resize_for=)``), False when none was; a mix, other resize settings or a call overriding them
    raise ValueError (the processor would resize again, or differently)."""
    sizes = [v.metadata.frames_size if isinstance(v, VideoFrames) else None for v in items]
    if all(s is None for s in sizes):
        return False
    if any(s is None for s in sizes):
        raise ValueError("some videos were resized at decode time (resize_for=) and some not: load all of a call's videos the same way")
    from ..video.resize import ResizePlan

    given = resize_kwargs_given(kwargs)
    if given:
        raise ValueError(f"videos resized at decode time cannot take resize settings at call time ({sorted(given)})")
    plan = ResizePlan.of(hf)
    for v, size in zip(items, sizes):
        m = v.metadata
        if plan.size(len(v), m.height, m.width) != size:
            raise ValueError(f"frames resized to {size} at decode time, but this processor resizes {m.width}x{m.height} differently")
    return True


def _is_single_array(v: Any) -> bool:
    return hasattr(v, "ndim") and v.ndim == 4
