"""STAND-IN for ``tensorrt_llm._torch.model_config`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/_torch/model_config.py. A re-export only: the minimal ``ModelConfig`` (its
``from_pretrained``, read @1a0dc5f7) lives in ``trtllm_standins/model_config_rules.py``, shared with the other generation.
"""

from trtllm_standins.model_config_rules import ModelConfig, PretrainedConfig  # noqa: F401
