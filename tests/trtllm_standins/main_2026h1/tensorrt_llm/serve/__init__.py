"""STAND-IN for ``tensorrt_llm.serve`` (main_2026h1): openai_server from here, chat_utils from main's
stand-in (see ../__init__.py).
Real path: tensorrt_llm/serve/__init__.py (package marker only: nothing mirrored; openai_server.py
names its commit, 0142b193cc0252aeca5d69eacd619d03276e9dcf)."""

from .. import _fall_back_to_main

_fall_back_to_main(globals(), "serve")
