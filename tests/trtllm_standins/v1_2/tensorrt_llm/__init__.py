"""STAND-IN for TensorRT-LLM 1.2.x (a test fixture; the real library cannot be installed here).

Mirrors only the module paths and signatures trtllm-mmfast hooks (see ../../README.md).
"""

__version__ = "1.2.1"
STANDIN = "v1_2"
