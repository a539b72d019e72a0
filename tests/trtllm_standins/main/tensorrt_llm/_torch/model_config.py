"""STAND-IN for ``tensorrt_llm._torch.model_config`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/_torch/model_config.py (not in the facts; commit not stored). The minimal
``ModelConfig`` lives in ``trtllm_standins/model_config_rules.py``, shared with the other generation.
"""

from trtllm_standins.model_config_rules import ModelConfig, PretrainedConfig  # noqa: F401
