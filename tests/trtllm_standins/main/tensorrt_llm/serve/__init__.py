"""STAND-IN for ``tensorrt_llm.serve`` (real: tensorrt_llm/serve/__init__.py; commit not stored). Empty package."""
