"""STAND-IN for ``tensorrt_llm.serve.openai_server`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/serve/openai_server.py @ 0142b193cc0252aeca5d69eacd619d03276e9dcf
(docs/facts/trtllm_media.md §4 "hash_source injection").

Mirrored: the 0142b193 signature (ends with ``input_processor_workers=8, media_load_workers=8``;
no auth / RL params); ``media_io_kwargs`` seeded from the processor's
``get_preferred_media_io_kwargs()`` with the server config overriding per key; THEN, if
``generator.args.kv_cache_config.enable_block_reuse`` is true,
``media_io_kwargs["video"].setdefault("hash_source", True)`` (an explicit
``{"video": {"hash_source": false}}`` wins); the ``trtllm_inputproc`` / ``trtllm_media_load``
pools and ``BaseMediaIO.set_executor``. No multimodal CPU admission, no body-limit middleware
(``max_cpu_bytes*`` in the config are ignored).

``chat_multimodal`` (STAND-IN method, no HTTP): parse -> placeholders -> await media -> prompt
dict (``multi_modal_data``, ``mm_item_order``, ``mm_processor_kwargs`` if truthy) ->
``generator.preprocess(prompt, sampling_params, disaggregated_params)`` in the input-proc pool
-> its result. Simplified as main's stand-in (no chat template, no uvicorn).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional

from ..inputs.media_io import BaseMediaIO
from ..inputs.multimodal import MultimodalServerConfig
from ..inputs.registry import BaseMultimodalInputProcessor
from .chat_utils import parse_chat_messages_coroutines

logger = logging.getLogger("tensorrt_llm")


class OpenAIServer:
    def __init__(self, generator: Any, model: str, tool_parser: Optional[str], server_role: Any,
                 metadata_server_cfg: Any, disagg_cluster_config: Any = None,
                 multimodal_server_config: Optional[MultimodalServerConfig] = None, chat_template: Optional[str] = None,
                 allow_request_chat_template: bool = False, embedding_max_queue_delay: float = 0.005,
                 embedding_max_queue_size: int = 2048, input_processor_workers: int = 8, media_load_workers: int = 8):
        self.generator = generator
        self.model = model
        self.chat_template = chat_template
        self.multimodal_server_config = multimodal_server_config

        ip = getattr(generator, "input_processor", None)
        if isinstance(ip, BaseMultimodalInputProcessor):
            model_pref = ip.get_preferred_media_io_kwargs() or {}
            if model_pref:
                cfg = self.multimodal_server_config or MultimodalServerConfig()
                merged = {m: dict(kw) for m, kw in model_pref.items()}
                for modality, kw in (cfg.media_io_kwargs or {}).items():
                    merged.setdefault(modality, {}).update(kw)
                cfg.media_io_kwargs = merged
                self.multimodal_server_config = cfg

        # 0142b193: ask for source hashing whenever KV-cache block reuse is on (its default).
        kv = getattr(getattr(self.generator, "args", None), "kv_cache_config", None)
        if kv is not None and getattr(kv, "enable_block_reuse", False):
            cfg = self.multimodal_server_config or MultimodalServerConfig()
            merged = {m: dict(kw) for m, kw in (cfg.media_io_kwargs or {}).items()}
            merged.setdefault("video", {}).setdefault("hash_source", True)
            cfg.media_io_kwargs = merged
            self.multimodal_server_config = cfg

        self._input_proc_executor = ThreadPoolExecutor(max_workers=input_processor_workers,
                                                       thread_name_prefix="trtllm_inputproc")
        self._media_load_executor = ThreadPoolExecutor(max_workers=media_load_workers,
                                                       thread_name_prefix="trtllm_media_load")
        BaseMediaIO.set_executor(self._media_load_executor)

    async def chat_multimodal(self, messages: List[Dict[str, Any]],
                              request_media_io_kwargs: Optional[Dict[str, Dict[str, Any]]] = None,
                              mm_processor_kwargs: Optional[Dict[str, Any]] = None, model_type: str = "qwen3_vl",
                              sampling_params: Any = None, disaggregated_params: Any = None):
        conversation, mm_coroutines, mm_placeholder_counts, mm_item_order = parse_chat_messages_coroutines(
            messages, getattr(getattr(self.generator, "args", None), "model_config", None),
            self.multimodal_server_config, request_media_io_kwargs=request_media_io_kwargs,
            model_type_override=model_type)
        mm_data, mm_embeddings = await mm_coroutines
        prompt: Dict[str, Any] = {"prompt": "\n".join(m["content"] for m in conversation)}
        if mm_data and mm_embeddings:
            raise ValueError("Passing 'multi_modal_data' and 'multi_modal_embeddings' at the same time is not supported.")
        if mm_data:
            prompt["multi_modal_data"] = mm_data
        if mm_embeddings:
            prompt["multi_modal_embeddings"] = mm_embeddings
        if mm_data and mm_item_order:
            prompt["mm_item_order"] = mm_item_order
        if mm_processor_kwargs:
            prompt["mm_processor_kwargs"] = mm_processor_kwargs

        generate_inputs: Any = prompt
        preprocess_fn = getattr(self.generator, "preprocess", None)
        if preprocess_fn is not None:
            loop = asyncio.get_running_loop()
            generate_inputs = await loop.run_in_executor(
                self._input_proc_executor,
                functools.partial(preprocess_fn, prompt, sampling_params, disaggregated_params))

        return generate_inputs

    def shutdown(self) -> None:
        """Stand-in helper: stop both pools."""
        self._input_proc_executor.shutdown()
        self._media_load_executor.shutdown()

    async def __call__(self, host: str, port: int, sockets: Any = None) -> None:
        raise NotImplementedError("stand-in: no HTTP server")
