"""STAND-IN for ``tensorrt_llm.serve.openai_server`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/serve/openai_server.py @ 3d23e51c6b0e40da415b957a5781fef9d5790f15
(docs/facts/trtllm_media.md §4; no hash_source injection, no torch-thread cap).

Mirrored in ``__init__``: the 3d23e51c signature; ``media_io_kwargs`` seeded from
``generator.input_processor.get_preferred_media_io_kwargs()`` (only for a
``BaseMultimodalInputProcessor``) with the server config's kwargs overriding PER KEY
(``merged.setdefault(modality, {}).update(kw)``); multimodal CPU admission
(``max_cpu_bytes // max_cpu_bytes_per_request`` slots in an ``asyncio.BoundedSemaphore``);
the ``trtllm_inputproc`` / ``trtllm_media_load`` pools and ``BaseMediaIO.set_executor``.

``chat_multimodal`` (STAND-IN method, no HTTP) follows ``openai_chat``'s order: parse ->
placeholders -> acquire a CPU slot (if media) -> await the media -> prompt dict with
``multi_modal_data`` / ``mm_item_order`` / ``mm_processor_kwargs`` (only if truthy) ->
``generator.preprocess(prompt, sampling_params, disaggregated_params)`` in the input-proc
pool -> per-request check ``request_body_bytes + _cpu_storage_bytes((mm_data,
generate_inputs.multimodal_params)) > max_cpu_bytes_per_request`` ->
``MultimodalDataTooLargeError`` -> returns the preprocess result (``generate_async`` is not
called). Simplified: no chat template (the prompt is the message contents joined by "\\n"),
no body-limit middleware (its limit is kept in ``_mm_request_body_limit``), no uvicorn app.
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
from ..inputs.utils import MultimodalDataTooLargeError, _cpu_storage_bytes, _release_shared_cpu_tensors
from .chat_utils import parse_chat_messages_coroutines

logger = logging.getLogger("tensorrt_llm")


class OpenAIServer:
    def __init__(self, generator: Any, model: str, tool_parser: Optional[str], server_role: Any,
                 metadata_server_cfg: Any, disagg_cluster_config: Any = None,
                 multimodal_server_config: Optional[MultimodalServerConfig] = None, chat_template: Optional[str] = None,
                 allow_request_chat_template: bool = False, embedding_max_queue_delay: float = 0.005,
                 embedding_max_queue_size: int = 2048, input_processor_workers: int = 8, media_load_workers: int = 8,
                 internal_disagg_auth_key: Optional[str] = None, enable_rl_control_endpoints: bool = False,
                 rl_control_api_key: Optional[str] = None):
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

        self._mm_cpu_request_slots: Optional[asyncio.BoundedSemaphore] = None
        cfg = self.multimodal_server_config
        if cfg is not None and cfg.max_cpu_bytes is not None:
            request_bytes = cfg.max_cpu_bytes_per_request
            assert request_bytes is not None
            num_slots = cfg.max_cpu_bytes // request_bytes
            self._mm_cpu_request_slots = asyncio.BoundedSemaphore(num_slots)
            logger.info("Multimodal CPU limit: at most %d request(s) of up to %d bytes in flight", num_slots, request_bytes)
        self._mm_request_body_limit = cfg.max_cpu_bytes_per_request if cfg is not None else None

        self._input_proc_executor = ThreadPoolExecutor(max_workers=input_processor_workers,
                                                       thread_name_prefix="trtllm_inputproc")
        self._media_load_executor = ThreadPoolExecutor(max_workers=media_load_workers,
                                                       thread_name_prefix="trtllm_media_load")
        BaseMediaIO.set_executor(self._media_load_executor)

    async def _acquire_mm_cpu_slot(self) -> bool:
        if self._mm_cpu_request_slots is None:
            return False
        await self._mm_cpu_request_slots.acquire()
        return True

    def _release_mm_cpu_slot(self) -> None:
        if self._mm_cpu_request_slots is not None:
            self._mm_cpu_request_slots.release()

    async def chat_multimodal(self, messages: List[Dict[str, Any]],
                              request_media_io_kwargs: Optional[Dict[str, Dict[str, Any]]] = None,
                              mm_processor_kwargs: Optional[Dict[str, Any]] = None, model_type: str = "qwen3_vl",
                              sampling_params: Any = None, disaggregated_params: Any = None,
                              request_body_bytes: int = 0):
        conversation, mm_coroutines, mm_placeholder_counts, mm_item_order = parse_chat_messages_coroutines(
            messages, getattr(getattr(self.generator, "args", None), "model_config", None),
            self.multimodal_server_config, request_media_io_kwargs=request_media_io_kwargs,
            model_type_override=model_type)
        has_multimodal_data = bool(mm_item_order) or any(mm_placeholder_counts)
        slot_held = False
        try:
            if has_multimodal_data:
                slot_held = await self._acquire_mm_cpu_slot()
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

            cfg = self.multimodal_server_config
            limit = cfg.max_cpu_bytes_per_request if cfg is not None else None
            if limit is not None and has_multimodal_data:
                processed_mm = getattr(generate_inputs, "multimodal_params", None)
                materialized = request_body_bytes + _cpu_storage_bytes((mm_data, processed_mm))
                if materialized > limit:
                    if processed_mm is not None:
                        _release_shared_cpu_tensors(getattr(processed_mm, "multimodal_data", None))
                    raise MultimodalDataTooLargeError(
                        f"Multimodal request materialized at least {materialized} CPU bytes, exceeding the "
                        f"per-request limit of {limit} bytes")
            return generate_inputs
        finally:
            if slot_held:
                self._release_mm_cpu_slot()

    def shutdown(self) -> None:
        """Stand-in helper: stop both pools."""
        self._input_proc_executor.shutdown()
        self._media_load_executor.shutdown()

    async def __call__(self, host: str, port: int, sockets: Any = None) -> None:
        raise NotImplementedError("stand-in: no HTTP server")
