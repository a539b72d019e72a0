"""STAND-IN for TensorRT-LLM 1.2.x (a test fixture; the real library cannot be installed here).

Real package: tensorrt_llm 1.2.x (v1.2.1 tag = 376f7e1bd8ed543f75014309e3fd4b237e9b0e73 per third-party
manifests; its files are not stored, so every module here is inferred from pre-release/1.2 main —
see each module's docstring and ../../README.md). Simplified: only what trtllm-mmfast interacts with.
"""

__version__ = "1.2.1"
STANDIN = "v1_2"
STANDIN_LAYOUT = "1.2"  # stand-in marker: the API layout ("1.2" or "main")
