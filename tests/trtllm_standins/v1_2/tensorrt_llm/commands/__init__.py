"""STAND-IN for ``tensorrt_llm.commands`` (real: tensorrt_llm/commands/__init__.py, 1.2.x; commit not stored). Empty package."""
