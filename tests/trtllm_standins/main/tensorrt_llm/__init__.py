"""STAND-IN for TensorRT-LLM main, newest lineage (a test fixture; the real library cannot be installed here).

Mirrors ``tensorrt_llm`` as of: inputs/media_io.py @c1d898bb5e905e35ffc2f06499c5e3415d0b9b34,
inputs/utils.py @00a8667c4547f0e7362ffcabfc24868b9718c006, serve/chat_utils.py
@0c3519021cca6f590804c75bdfa8245b8d2aaaf9, serve/openai_server.py and commands/serve.py
@3d23e51c6b0e40da415b957a5781fef9d5790f15, inputs/registry.py and the Qwen-VL model files of the
002f3cc3 generation (rebuilt; see each module's docstring and ../../README.md). Simplified:
only what trtllm-mmfast interacts with.
"""

__version__ = "1.3.0rc99"
STANDIN = "main"
STANDIN_LAYOUT = "main"  # stand-in marker: the API layout ("1.2" or "main")
