"""STAND-IN for ``tensorrt_llm.inputs`` (main_2026h1): media_io / multimodal_data from here, the rest
from main's stand-in (see ../__init__.py); the re-exports are main's ``inputs/__init__.py``.
Real path: tensorrt_llm/inputs/__init__.py (re-exports only: no TensorRT-LLM logic is mirrored here;
the modules it serves name their commits, media_io.py / multimodal_data.py @0142b193)."""

from .. import _fall_back_to_main

_fall_back_to_main(globals(), "inputs")
