"""STAND-IN for ``tensorrt_llm.commands`` (real: tensorrt_llm/commands/__init__.py; commit not stored). Empty package."""
