"""STAND-IN for ``tensorrt_llm.serve.chat_utils`` (main): media loading through ``MEDIA_IO_REGISTRY``.

``_make_media_io`` reads the module-global ``MEDIA_IO_REGISTRY`` at call time; a
``video_url`` part awaits ``_make_media_io("video", ...).async_load(url)`` (errors propagate).
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from ..inputs.media_io import MEDIA_IO_REGISTRY, BaseMediaIO
from ..inputs.multimodal import MultimodalServerConfig


def _make_media_io(modality: str, server_config: Optional[MultimodalServerConfig],
                   request_kwargs: Optional[Dict[str, Dict[str, Any]]]) -> BaseMediaIO:
    default = ((server_config.media_io_kwargs if server_config else None) or {}).get(modality, {})
    runtime = (request_kwargs or {}).get(modality, {})
    return MEDIA_IO_REGISTRY[modality].create(default, runtime)


def parse_chat_messages_coroutines(messages: List[Dict[str, Any]], model_config: Any,
                                   multimodal_server_config: Optional[MultimodalServerConfig] = None,
                                   request_media_io_kwargs: Optional[Dict[str, Dict[str, Any]]] = None,
                                   model_type_override: Optional[str] = None):
    """-> (conversation, coroutine -> (mm_data, mm_embeddings), mm_placeholder_counts, item_order)."""
    conversation, coros, counts, order = [], [], {}, []
    for message in messages:
        texts = []
        for part in message["content"]:
            if part["type"] == "text":
                texts.append(part["text"])
            elif part["type"] == "video_url":
                media_io = _make_media_io("video", multimodal_server_config, request_media_io_kwargs)
                coros.append(media_io.async_load(part["video_url"]["url"]))
                order.append(("video", counts.get("video", 0)))
                counts["video"] = counts.get("video", 0) + 1
        conversation.append({"role": message["role"], "content": "\n".join(texts)})

    async def retrieve_all():
        videos = await asyncio.gather(*coros)
        return ({"video": list(videos)} if videos else {}), None

    return conversation, retrieve_all(), [counts], order
