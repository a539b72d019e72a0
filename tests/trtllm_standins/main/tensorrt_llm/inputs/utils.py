"""STAND-IN for ``tensorrt_llm.inputs.utils`` (main): legacy loaders the chat server no longer uses."""

from __future__ import annotations

from .multimodal_data import VideoData


def load_video(video, num_frames=10, fps=30, format="pt", device="cpu", extract_audio=False, hash_source=False) -> VideoData:
    raise NotImplementedError("stand-in: the stock load_video is not modelled")


async def async_load_video(video, num_frames=10, fps=30, format="pt", device="cpu", extract_audio=False, hash_source=False) -> VideoData:
    raise NotImplementedError("stand-in: the stock async_load_video is not modelled")
