"""STAND-IN for ``tensorrt_llm.serve`` (real: tensorrt_llm/serve/__init__.py, 1.2.x; commit not stored). Empty package."""
