"""STAND-IN for ``tensorrt_llm.serve`` (main layout)."""
