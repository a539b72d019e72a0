"""STAND-IN for ``tensorrt_llm.serve.openai_server`` (a test fixture, not TensorRT-LLM code), 1.2.x.

Real file: tensorrt_llm/serve/openai_server.py, 1.2.x (signature inferred from serve.py's
keyword arguments, Feb 2026 main; TRTLLM_HOOKS.md §1.3; commit not stored).

Mirrored: first argument ``llm`` (not ``generator``); no worker pools, no ``media_io_kwargs``
seeding. ``chat_multimodal`` (STAND-IN method, no HTTP): parse (placeholders) -> await the media
ON THE LOOP -> prompt dict -> ``create_input_processor_with_hash(llm.input_processor)(prompt,
sampling_params)`` synchronously on the event-loop thread (what the plain-``def``
``LLM.generate_async`` does). ``mm_processor_kwargs`` is set on the prompt when truthy (not
recorded for 1.2; set as main does). Simplified: no chat template (message contents joined by
"\\n"), no uvicorn.
"""

from __future__ import annotations

import types
from typing import Any, Dict, List, Optional

from ..inputs.multimodal import MultimodalServerConfig
from ..inputs.registry import create_input_processor_with_hash
from .chat_utils import parse_chat_messages_coroutines


class OpenAIServer:
    def __init__(self, llm: Any, model: str, tool_parser: Optional[str], server_role: Any, metadata_server_cfg: Any,
                 disagg_cluster_config: Any = None, multimodal_server_config: Optional[MultimodalServerConfig] = None,
                 chat_template: Optional[str] = None):
        self.llm = llm
        self.model = model
        self.multimodal_server_config = multimodal_server_config

    async def chat_multimodal(self, messages: List[Dict[str, Any]], mm_processor_kwargs: Optional[Dict[str, Any]] = None,
                              model_type: str = "qwen3_vl", sampling_params: Any = None):
        conversation, mm_coroutines, _ = parse_chat_messages_coroutines(
            messages, types.SimpleNamespace(model_type=model_type), self.multimodal_server_config)
        mm_data, _ = await mm_coroutines
        prompt: Dict[str, Any] = {"prompt": "\n".join(m["content"] for m in conversation)}
        if mm_data:
            prompt["multi_modal_data"] = mm_data
        if mm_processor_kwargs:
            prompt["mm_processor_kwargs"] = mm_processor_kwargs
        # LLM.generate_async is a plain def: this runs on the event-loop thread.
        return create_input_processor_with_hash(self.llm.input_processor)(prompt, sampling_params)

    async def __call__(self, host: str, port: int) -> None:
        raise NotImplementedError("stand-in: no HTTP server")
