"""STAND-IN for ``tensorrt_llm.commands``."""
