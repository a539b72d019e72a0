"""STAND-IN for TensorRT-LLM main (mid/late 2026) (a test fixture; the real library cannot be installed here).

Mirrors only the module paths and signatures trtllm-mmfast hooks (see ../../README.md).
"""

__version__ = "1.3.0rc99"
STANDIN = "main"
