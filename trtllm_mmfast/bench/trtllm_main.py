"""TensorRT-LLM main's video path, reimplemented as the sweep's ``trtllm-main`` baseline.

Our own code, written from the facts read from TensorRT-LLM's public source (not copied):
``/work/shared/TRTLLM_HOOKS.md`` §0b (authoritative) and §2, read at
``tensorrt_llm/inputs/media_io.py`` @ c1d898bb (``VideoMediaIO``, ``_load_video_by_cv2``),
``tensorrt_llm/_torch/models/modeling_qwen3vl.py`` @ 002f3cc3 (``_decide_do_sample_frames``,
``Qwen3VLInputProcessorBase._preprocess`` and ``get_preferred_media_io_kwargs``),
``serve/openai_server.py`` @ 3d23e51c and ``commands/serve.py`` (uvloop; 8-worker
``trtllm_media_load`` / ``trtllm_inputproc`` pools, which the sweep's pools stand for).

- **kwargs**: the server's ``media_io_kwargs["video"]`` starts from the model's preferred
  ``{"format": "np"}``; a request's own ``media_io_kwargs["video"]`` is merged over it by
  ``VideoMediaIO.merge_kwargs``: a request giving only ``fps`` drops ``num_frames`` (back to
  the ``__init__`` default 10), one giving only ``num_frames`` drops ``fps`` (back to 30).
  **The sweep's fps goes in the request's ``media_io_kwargs["video"]["fps"]``** (the chat
  request field), not in ``mm_processor_kwargs``: the loader's count is then capped by
  ``num_frames=10`` and ``floor(duration * fps)``, and the input processor, given no target,
  lets the HF processor re-sample the loaded frames at its own fps.
- **load** (``VideoMediaIO.load_bytes``): BLAKE3 hex of the source bytes (``raw_bytes_hash``);
  with OpenCV >= 4.13 and a stream-buffered backend, ``cv2.VideoCapture(BytesIO, backend, [])``
  (the BytesIO stays referenced until after ``release()``), else a ``NamedTemporaryFile`` in
  ``/dev/shm`` (named ``mmfast-*`` here so leak checks see it; always removed).
- **decode** (``_load_video_by_cv2``): frame count and fps from the container (no correction;
  ``<= 0`` raises), ``n`` by main's rule, indices ``np.linspace(0, frame_count - 1, n,
  dtype=int)``; ONE sequential ``grab()`` pass up to the last target, ``retrieve()`` only at
  targets, BGR->RGB straight into a preallocated (N, H, W, 3) uint8 array; format ``"np"``
  returns that one array; metadata ``total_num_frames`` (source count), ``fps`` (source),
  ``duration``, ``frames_indices`` (the frames actually decoded).
- **input processing** (``_preprocess``): ``do_sample_frames`` from ``_decide_do_sample_frames``;
  ``video_metadata`` = the loader's with ``total_num_frames`` = the loaded count; when
  sampling, the request's ``num_frames`` / ``fps`` (``fps=None`` when only ``num_frames``);
  ``do_rescale`` True for uint8 frames, ``padding=True``, ``return_tensors="pt"``; no
  ``_merge_kwargs`` memo (main has none).

Qwen2-VL / Qwen2.5-VL (``family="qwen2_vl"``, ``modeling_qwen2vl.py`` of the 002f3cc3
generation): no preferred media kwargs, so the loader's default format ``"pt"`` (the uint8
frames as one float32 NCHW tensor times ``1/255``, unbound into CHW tensors), and
``_preprocess`` passes the request's ``mm_processor_kwargs`` verbatim (no metadata, no
``do_sample_frames`` decision; the HF processor keeps every loaded frame unless told to
sample) with ``do_rescale=False`` for those float frames.

Not used in serving: it exists so the sweep measures main's work side by side with ours.
Formats ``"np"`` (Qwen3-VL) and ``"pt"`` (Qwen2-VL) are reimplemented.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..video.sampling import uniform_indices

__all__ = [
    "DEFAULT_FPS",
    "DEFAULT_NUM_FRAMES",
    "PREFERRED_BY_FAMILY",
    "PREFERRED_VIDEO_KWARGS",
    "MainVideo",
    "decide_do_sample_frames",
    "decode_indices",
    "load_bytes",
    "load_video_by_cv2",
    "loader_indices",
    "merge_media_io_kwargs",
    "preprocess",
    "pt_frames",
    "request_media_io_kwargs",
    "scan_frames",
    "stream_buffered_backend",
]

DEFAULT_NUM_FRAMES = 10  # VideoMediaIO.__init__ defaults
DEFAULT_FPS = 30
PREFERRED_VIDEO_KWARGS: dict[str, Any] = {"format": "np"}  # Qwen3VLInputProcessorBase.get_preferred_media_io_kwargs()["video"]
# Per processor family: Qwen2VLInputProcessorBase keeps the base default (no preference: "pt").
PREFERRED_BY_FAMILY: dict[str, dict[str, Any]] = {"qwen3_vl": PREFERRED_VIDEO_KWARGS, "qwen2_vl": {}}
_TEMPFILE_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
_SAMPLING_KEYS = ("num_frames", "fps", "do_sample_frames")


@dataclass
class MainVideo:
    """What main's ``VideoMediaIO`` returns (``VideoData``): one (N, H, W, 3) uint8 array for "np"."""

    frames: np.ndarray
    metadata: dict[str, Any]
    raw_bytes_hash: str | None = None


# -- media_io_kwargs -------------------------------------------------------------------


def merge_media_io_kwargs(default: Mapping[str, Any] | None, runtime: Mapping[str, Any] | None) -> dict[str, Any]:
    """``VideoMediaIO.merge_kwargs``: runtime wins per key; a request giving only one of
    ``num_frames`` / ``fps`` drops the other (it falls back to the ``__init__`` default)."""
    merged = dict(default or {})
    if runtime:
        merged.update(runtime)
        if "num_frames" in runtime and "fps" not in runtime:
            merged.pop("fps", None)
        elif "fps" in runtime and "num_frames" not in runtime:
            merged.pop("num_frames", None)
    return merged


def request_media_io_kwargs(fps: float | None = None, num_frames: int | None = None, *, family: str = "qwen3_vl") -> dict[str, Any]:
    """The ``VideoMediaIO`` kwargs for a request whose ``media_io_kwargs["video"]`` gives
    ``fps`` / ``num_frames`` (None: not given), over the server's preferred ones for the
    model's processor ``family`` (Qwen3-VL: ``{"format": "np"}``; Qwen2-VL: none)."""
    runtime = {k: v for k, v in (("fps", fps), ("num_frames", num_frames)) if v is not None}
    return merge_media_io_kwargs(PREFERRED_BY_FAMILY[family], runtime)


# -- the loader ------------------------------------------------------------------------


def loader_indices(frame_count: int, source_fps: float, *, num_frames: int = DEFAULT_NUM_FRAMES,
                   fps: float = DEFAULT_FPS) -> list[int]:
    """The frames main's ``_load_video_by_cv2`` targets (TRTLLM_HOOKS §0b)."""
    if frame_count <= 0 or source_fps <= 0:
        raise ValueError("Video has no frames or invalid FPS.")
    # The rule is 1.2's, which our ``uniform`` sampler reproduces (1.2's ``range(n)`` when n is
    # the frame count is the same list as main's ``linspace``).
    return uniform_indices(frame_count, source_fps, num_frames=num_frames, fps=fps).tolist()


def scan_frames(cap: Any, indices: Sequence[int], height: int, width: int) -> tuple[np.ndarray, list[int]]:
    """One forward ``grab()`` pass up to the last target, ``retrieve()`` at targets, BGR->RGB
    into a preallocated array. Returns (frames of the targets decoded, their indices)."""
    import cv2

    out = np.empty((len(indices), height, width, 3), np.uint8)
    targets, last = set(indices), indices[-1]
    scratch, valid, i = None, [], 0
    while i <= last and cap.grab():
        if i in targets:
            ok, scratch = cap.retrieve(scratch)
            if ok and scratch.shape[:2] == (height, width):  # a failed or odd-sized frame is skipped
                cv2.cvtColor(scratch, cv2.COLOR_BGR2RGB, dst=out[len(valid)])
                valid.append(i)
        i += 1
    return out[: len(valid)], valid


def stream_buffered_backend() -> int | None:
    """main's ``_select_cv2_stream_buffered_backend``: OpenCV >= 4.13 and a usable
    stream-buffered backend (a plugin needs ABI/API >= 1.2), else None. Not cached (main's isn't)."""
    import cv2
    from packaging.version import Version

    if Version(cv2.__version__.split("-")[0]) < Version("4.13.0"):
        return None
    reg = cv2.videoio_registry
    for backend in reg.getStreamBufferedBackends():
        if not reg.hasBackend(backend):
            continue
        if not reg.isBackendBuiltIn(backend):
            _, abi, api = reg.getStreamBufferedBackendPluginVersion(backend)
            if abi < 1 or (abi == 1 and api < 2):
                continue
        return int(backend)
    return None


def load_video_by_cv2(video: str | bytes, *, num_frames: int = DEFAULT_NUM_FRAMES, fps: float = DEFAULT_FPS,
                      cv2_backend: int | None = None, raw_bytes_hash: str | None = None) -> MainVideo:
    """main's ``_load_video_by_cv2`` for format "np": a path, or bytes read from a BytesIO."""
    import cv2

    buf = None
    if isinstance(video, (bytes, bytearray, memoryview)):
        if cv2_backend is None:
            raise ValueError("cv2_backend must be provided when `video` is bytes")
        buf = io.BytesIO(bytes(video))  # OpenCV reads from it until release(): keep it referenced
        cap = cv2.VideoCapture(buf, cv2_backend, [])
    else:
        cap = cv2.VideoCapture(video)
    try:
        if not cap.isOpened():
            raise ValueError("Video could not be opened. Make sure opencv is installed with video support.")
        frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        source_fps = cap.get(cv2.CAP_PROP_FPS)
        indices = loader_indices(frame_count, source_fps, num_frames=num_frames, fps=fps)
        height, width = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        frames, valid = scan_frames(cap, indices, height, width)
    finally:
        cap.release()
        del buf  # only now may the BytesIO go
    if not valid:
        raise ValueError("Video has no readable frames.")
    meta = {"total_num_frames": frame_count, "fps": source_fps, "duration": frame_count / source_fps, "frames_indices": valid}
    return MainVideo(frames=frames, metadata=meta, raw_bytes_hash=raw_bytes_hash)


def load_bytes(data: bytes, *, num_frames: int = DEFAULT_NUM_FRAMES, fps: float = DEFAULT_FPS, format: str = "pt",
               in_memory: bool | None = None) -> MainVideo:
    """``VideoMediaIO(num_frames, fps, format).load_bytes(data)`` (its default format "pt"). ``in_memory``: None as main
    (in memory when OpenCV has a stream-buffered backend), False forces the tempfile path,
    True requires the in-memory one."""
    from blake3 import blake3

    if format not in ("np", "pt"):
        raise ValueError(f"only formats 'np' (Qwen3-VL's) and 'pt' (the default) are reimplemented, got {format!r}")
    digest = blake3(data).hexdigest()  # main always hashes the source bytes
    backend = None if in_memory is False else stream_buffered_backend()
    if in_memory and backend is None:
        raise RuntimeError(f"OpenCV {__import__('cv2').__version__} has no stream-buffered backend for in-memory decode")
    if backend is not None:
        video = load_video_by_cv2(data, num_frames=num_frames, fps=fps, cv2_backend=backend, raw_bytes_hash=digest)
    else:
        with tempfile.NamedTemporaryFile(prefix="mmfast-", suffix=".mp4", dir=_TEMPFILE_DIR) as tmp:  # removed on close
            tmp.write(data)
            tmp.flush()
            video = load_video_by_cv2(tmp.name, num_frames=num_frames, fps=fps, raw_bytes_hash=digest)
    if format == "pt":
        video.frames = pt_frames(video.frames)
    return video


def pt_tensor(frames: np.ndarray) -> Any:
    """main's "pt" format before it is unbound: one float32 NCHW tensor of the uint8 frames times 1/255."""
    import torch

    t = torch.from_numpy(frames).permute(0, 3, 1, 2).to(torch.float32, memory_format=torch.contiguous_format)
    return t.mul_(1 / 255)


def pt_frames(frames: np.ndarray) -> list[Any]:
    """main's "pt" format: ``pt_tensor``, unbound into one CHW tensor per frame."""
    return list(pt_tensor(frames).unbind(0))


def decode_indices(data: bytes, indices: Sequence[int]) -> np.ndarray:
    """main's decode loop (in memory, OpenCV's default threads) on given ``indices``: for
    benchmarks that compare decoders on the same frames."""
    import cv2

    backend = stream_buffered_backend()
    if backend is None:
        raise RuntimeError("OpenCV has no stream-buffered backend for in-memory decode")
    buf = io.BytesIO(data)
    cap = cv2.VideoCapture(buf, backend, [])
    try:
        h, w = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        frames, _ = scan_frames(cap, [int(i) for i in indices], h, w)
    finally:
        cap.release()
        del buf
    return frames


# -- the input processor ---------------------------------------------------------------


def _given(value: Any) -> bool:
    return value is not None and value != -1


def decide_do_sample_frames(videos: Sequence[MainVideo] | None, mm_processor_kwargs: Mapping[str, Any]) -> bool:
    """main's ``_decide_do_sample_frames``: an explicit flag wins; no videos: False; no
    target: True; else True if any video's loaded count differs from the target
    (``num_frames``, or ``floor(duration * fps)``)."""
    kw = mm_processor_kwargs
    if "do_sample_frames" in kw:
        return bool(kw["do_sample_frames"])
    if not videos:
        return False
    n, f = kw.get("num_frames"), kw.get("fps")
    if not _given(n) and not _given(f):
        return True
    for vd in videos:
        target = n if _given(n) else math.floor(((vd.metadata or {}).get("duration") or 0) * f)
        if target != len(vd.frames):
            return True
    return False


def _is_tensor(x: Any) -> bool:
    import torch

    return isinstance(x, torch.Tensor)


def preprocess(processor: Any, text: str, videos: Sequence[MainVideo], mm_processor_kwargs: Mapping[str, Any] | None = None,
               *, family: str = "qwen3_vl") -> Any:
    """The HF processor call of main's ``Qwen3VLInputProcessorBase._preprocess`` (videos only);
    ``family="qwen2_vl"``: ``Qwen2VLInputProcessorBase._preprocess`` (kwargs verbatim)."""
    mm = dict(mm_processor_kwargs or {})
    if family == "qwen2_vl":
        frames = [vd.frames for vd in videos]
        do_rescale = not (frames and _is_tensor(frames[0][0]))
        return processor(text=[text], images=None, videos=frames or None, padding=True, do_rescale=do_rescale,
                         return_tensors="pt", **mm)
    do_sample = decide_do_sample_frames(videos, mm)
    kwargs: dict[str, Any] = {"do_sample_frames": do_sample, **{k: v for k, v in mm.items() if k not in _SAMPLING_KEYS}}
    if do_sample:
        kwargs.update({k: mm[k] for k in ("num_frames", "fps") if k in mm})
        if "num_frames" in mm and "fps" not in mm:
            kwargs["fps"] = None  # HF honours num_frames only with fps unset
    frames = [vd.frames for vd in videos]
    do_rescale = not (frames and _is_tensor(frames[0][0]))
    metadata = [{**(vd.metadata or {}), "total_num_frames": len(vd.frames)} for vd in videos] or None
    return processor(text=[text], images=None, videos=frames or None, padding=True, do_rescale=do_rescale,
                     return_tensors="pt", video_metadata=metadata, **kwargs)
