"""STAND-IN for ``tensorrt_llm.serve.openai_server`` (main): ``generator=``, sized pools.

``__init__`` seeds ``media_io_kwargs`` from ``generator.input_processor.get_preferred_media_io_kwargs()``
(``--media_io_kwargs`` overrides per key), creates the ``trtllm_inputproc`` and
``trtllm_media_load`` pools and calls ``BaseMediaIO.set_executor`` with the latter.
``chat_multimodal`` is the multimodal part of the chat handler, simplified.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Dict, List, Optional

from ..inputs.media_io import BaseMediaIO
from ..inputs.multimodal import MultimodalServerConfig
from ..inputs.registry import MULTIMODAL_PLACEHOLDER_REGISTRY, MultimodalPlaceholderPlacement
from .chat_utils import parse_chat_messages_coroutines


class OpenAIServer:
    def __init__(self, generator: Any, model: str, tool_parser: Optional[str], server_role: Any, metadata_server_cfg: Any,
                 disagg_cluster_config: Any = None, multimodal_server_config: Optional[MultimodalServerConfig] = None,
                 chat_template: Optional[str] = None, allow_request_chat_template: bool = False,
                 embedding_max_queue_delay: float = 0.005, embedding_max_queue_size: int = 2048,
                 input_processor_workers: int = 8, media_load_workers: int = 8):
        self.generator = generator
        self.model = model
        media_io_kwargs = dict(generator.input_processor.get_preferred_media_io_kwargs())
        if multimodal_server_config is not None and multimodal_server_config.media_io_kwargs:
            media_io_kwargs.update(multimodal_server_config.media_io_kwargs)
        self.multimodal_server_config = MultimodalServerConfig(media_io_kwargs=media_io_kwargs)
        self._input_proc_executor = ThreadPoolExecutor(input_processor_workers, thread_name_prefix="trtllm_inputproc")
        self._media_load_executor = ThreadPoolExecutor(media_load_workers, thread_name_prefix="trtllm_media_load")
        BaseMediaIO.set_executor(self._media_load_executor)

    async def chat_multimodal(self, messages: List[Dict[str, Any]], request_media_io_kwargs=None, model_type: str = "qwen3_vl"):
        conversation, mm_coroutines, counts, _ = parse_chat_messages_coroutines(
            messages, None, self.multimodal_server_config, request_media_io_kwargs=request_media_io_kwargs)
        meta = MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholder_metadata(model_type)
        placeholders = meta.placeholders_separator.join(meta.placeholder_map["video"] for _ in range(counts[0].get("video", 0)))
        text = conversation[-1]["content"]
        prompt_text = placeholders + text if meta.placeholder_placement == MultimodalPlaceholderPlacement.BEFORE_TEXT else text + placeholders
        mm_data, _ = await mm_coroutines
        prompt = {"prompt": prompt_text, "multi_modal_data": mm_data}
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._input_proc_executor, partial(self.generator.preprocess, prompt, None, None))

    def shutdown(self) -> None:
        self._input_proc_executor.shutdown()
        self._media_load_executor.shutdown()
