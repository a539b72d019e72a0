"""STAND-IN for ``tensorrt_llm.inputs.multimodal_data`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/inputs/multimodal_data.py @ 0142b193cc0252aeca5d69eacd619d03276e9dcf
(docs/facts/trtllm_media.md §3). Main's stand-in file, run here (``_run_main_module``), except: ``frames`` is
a LIST (``if not self.frames`` -> ``ValueError("frames list cannot be empty")``, which is
ambiguous for an N>1 ndarray — as in the real file). ``update_hash`` is identical to the newer
version: ``<video>``, metadata, ``<raw_bytes>`` + hash if set else every frame, then audio.

Simplified: ``serialize_item`` returns bytes (same byte sequence); u64 length prefixes.
"""

from dataclasses import dataclass

from .. import _run_main_module

_run_main_module(globals(), "inputs/multimodal_data.py")  # serialize_item, AudioData, VideoData.update_hash, ...

_MainVideoData = VideoData  # noqa: F821  (defined by main's file, just run)


@dataclass
class VideoData(_MainVideoData):
    """0142b193: ``frames`` is a LIST (``List[Image] | List[Tensor] | List[ndarray]``)."""

    def __post_init__(self) -> None:
        if not self.frames:
            raise ValueError("frames list cannot be empty")
        if not isinstance(self.metadata, dict):
            raise TypeError("metadata must be a dictionary")
