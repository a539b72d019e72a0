"""STAND-IN for ``tensorrt_llm.inputs`` (main_2026h1): media_io / multimodal_data from here, the rest
from main's stand-in (see ../__init__.py); the re-exports are main's ``inputs/__init__.py``."""

from .. import _fall_back_to_main

_fall_back_to_main(globals(), "inputs")
