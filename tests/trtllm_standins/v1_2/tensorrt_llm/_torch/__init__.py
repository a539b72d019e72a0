"""STAND-IN for ``tensorrt_llm._torch`` (real: tensorrt_llm/_torch/__init__.py, 1.2.x; commit not stored). Empty package."""
