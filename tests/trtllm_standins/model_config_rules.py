"""STAND-IN helper (test fixture, not TensorRT-LLM code): the ``ModelConfig`` both generations'
``tensorrt_llm._torch.model_config`` stand-ins re-export (the same minimal rule for 1.2.x and
main). Only what ``inputs.registry.create_input_processor`` uses, read in
tensorrt_llm/_torch/model_config.py with an explicit commit at
1a0dc5f70054f66d892df6a964996fc5ead6f81e: ``ModelConfig.from_pretrained(checkpoint_dir,
trust_remote_code=...)`` whose ``pretrained_config`` is ``transformers.AutoConfig.from_pretrained``'s.

Simplified: the real one wraps ``transformers.AutoConfig``; here ``config.json`` is read into
attribute namespaces (nested dicts become namespaces, ``dtype`` / ``torch_dtype`` strings
become ``torch`` dtypes). A missing ``config.json`` raises ``EnvironmentError`` (as
transformers does), which ``create_input_processor`` tolerates.
"""


from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict

import torch


class PretrainedConfig:
    """Attribute access over a ``config.json`` dict."""

    def __init__(self, d: Dict[str, Any]):
        for k, v in d.items():
            if isinstance(v, dict):
                v = PretrainedConfig(v)
            elif k in ("dtype", "torch_dtype") and isinstance(v, str):
                v = getattr(torch, v)
            setattr(self, k, v)

    def to_dict(self) -> Dict[str, Any]:
        return {k: (v.to_dict() if isinstance(v, PretrainedConfig) else str(v).replace("torch.", "")
                    if isinstance(v, torch.dtype) else v) for k, v in vars(self).items()}

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def __repr__(self) -> str:
        return f"PretrainedConfig({self.to_dict()!r})"


@dataclass
class ModelConfig:
    pretrained_config: Any = None

    @classmethod
    def from_pretrained(cls, checkpoint_dir: str, trust_remote_code: bool = False, **kwargs: Any) -> "ModelConfig":
        path = os.path.join(checkpoint_dir, "config.json")
        if not os.path.isfile(path):
            raise EnvironmentError(f"{checkpoint_dir} does not contain a config.json")
        with open(path) as f:
            return cls(pretrained_config=PretrainedConfig(json.load(f)))
