"""STAND-IN for ``tensorrt_llm.serve`` (1.2.x layout)."""
