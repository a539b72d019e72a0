"""STAND-IN for ``tensorrt_llm.serve`` (main_2026h1): openai_server from here, chat_utils from main's
stand-in (see ../__init__.py)."""

from .. import _fall_back_to_main

_fall_back_to_main(globals(), "serve")
