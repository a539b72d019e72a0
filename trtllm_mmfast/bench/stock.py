"""TensorRT-LLM 1.2.x's video path, reimplemented as the baseline.

- loader (``inputs/utils.py``): bytes written to a ``NamedTemporaryFile(suffix=".mp4")``,
  ``cv2.VideoCapture(path)``, frame count corrected by seeking back from the last frame
  until ``grab()`` succeeds, ``uniform`` sampling (``linspace(..., dtype=int)``), one
  ``set(CAP_PROP_POS_FRAMES)`` seek + ``read()`` per target, BGR->RGB, ``PIL.Image``,
  ``ToTensor()`` (float32 CHW in [0, 1]);
- input processor (``Qwen3VLInputProcessorBase._preprocess``): the HF processor called with
  those float frames, ``do_rescale=False``, ``padding=True``, no ``video_metadata`` and no
  ``do_sample_frames``, so transformers samples again (assuming 24 fps), through the
  processor's unmemoized ``_merge_kwargs``.

Not used in serving; it exists so the sweep measures the same work side by side.
"""

from __future__ import annotations

import tempfile
from typing import Any

import numpy as np

from ..video.sampling import uniform_indices

__all__ = ["stock_load_video", "stock_preprocess"]


def stock_load_video(data: bytes, *, num_frames: int = 10, fps: float = 30) -> tuple[list[Any], dict[str, Any]]:
    """(list of float32 CHW tensors, metadata dict) as TensorRT-LLM 1.2.x's loader returns them."""
    import cv2
    from PIL import Image
    from torchvision.transforms import ToTensor

    with tempfile.NamedTemporaryFile(delete=True, suffix=".mp4") as f:
        f.write(data)
        f.flush()
        cap = cv2.VideoCapture(f.name)
        try:
            if not cap.isOpened():
                raise ValueError("could not open video")
            frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            orig_fps = cap.get(cv2.CAP_PROP_FPS)
            while frame_count > 0:  # seek back from the end until a frame grabs
                cap.set(cv2.CAP_PROP_POS_FRAMES, frame_count - 1)
                if cap.grab():
                    break
                frame_count -= 1
            indices = uniform_indices(frame_count, orig_fps, fps=fps, num_frames=num_frames)
            to_tensor = ToTensor()
            frames = []
            for i in indices:
                cap.set(cv2.CAP_PROP_POS_FRAMES, int(i))
                ok, bgr = cap.read()
                if not ok:
                    break
                frames.append(to_tensor(Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))))
        finally:
            cap.release()
    if len(frames) != len(indices):
        raise ValueError(f"decoded {len(frames)} of {len(indices)} frames")
    meta = {
        "total_num_frames": frame_count,
        "fps": orig_fps,
        "duration": frame_count / orig_fps if orig_fps > 0 else 0,
        "frames_indices": np.asarray(indices).tolist(),
    }
    return frames, meta


def stock_preprocess(processor: Any, text: str, videos: list[Any], *, do_rescale: bool = False, **mm_processor_kwargs: Any) -> Any:
    """The HF processor call of TensorRT-LLM 1.2.x's Qwen3-VL ``_preprocess``.

    TensorRT-LLM passes ``do_rescale=False`` whenever frames are tensors (its float
    frames are already in [0, 1]); callers handing uint8 frames pass ``do_rescale=True``.
    """
    return processor(
        text=[text],
        images=None,
        videos=videos,
        padding=True,
        do_rescale=do_rescale,
        return_tensors="pt",
        **mm_processor_kwargs,
    )
