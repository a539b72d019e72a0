"""STAND-IN for ``tensorrt_llm.serve.openai_server`` (1.2.x): first argument ``llm``, no pools.

``chat_multimodal`` is the multimodal part of the chat handler, simplified: load media
(awaited on the loop), build the prompt, then ``llm.generate_async``'s synchronous
preprocessing (``create_input_processor_with_hash(llm.input_processor)``) on the loop thread.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..inputs.multimodal import MultimodalServerConfig
from ..inputs.registry import MULTIMODAL_PLACEHOLDER_REGISTRY, MultimodalPlaceholderPlacement, create_input_processor_with_hash
from .chat_utils import parse_chat_messages_coroutines


class OpenAIServer:
    def __init__(self, llm: Any, model: str, tool_parser: Optional[str], server_role: Any, metadata_server_cfg: Any,
                 disagg_cluster_config: Any = None, multimodal_server_config: Optional[MultimodalServerConfig] = None,
                 chat_template: Optional[str] = None):
        self.llm = llm
        self.model = model
        self.multimodal_server_config = multimodal_server_config

    async def chat_multimodal(self, messages: List[Dict[str, Any]], model_type: str = "qwen3_vl"):
        conversation, mm_coroutines, counts = parse_chat_messages_coroutines(messages, None, self.multimodal_server_config)
        meta = MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholder_metadata(model_type)
        placeholders = meta.placeholders_separator.join(meta.placeholder_map["video"] for _ in range(counts[0].get("video", 0)))
        text = conversation[-1]["content"]
        prompt_text = placeholders + text if meta.placeholder_placement == MultimodalPlaceholderPlacement.BEFORE_TEXT else text + placeholders
        mm_data, _ = await mm_coroutines
        prompt = {"prompt": prompt_text, "multi_modal_data": mm_data}
        # LLM.generate_async is a plain def: this runs on the event-loop thread.
        return create_input_processor_with_hash(self.llm.input_processor)(prompt, None)

    async def __call__(self, host: str, port: int) -> None:
        raise NotImplementedError("stand-in: no HTTP server")
