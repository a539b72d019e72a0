"""STAND-IN for ``tensorrt_llm._torch`` (real: tensorrt_llm/_torch/__init__.py; commit not stored). Empty package."""
