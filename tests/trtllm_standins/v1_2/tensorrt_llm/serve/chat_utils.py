"""STAND-IN for ``tensorrt_llm.serve.chat_utils`` (1.2.x): the chat server's media loading.

``async_load_video`` is a module global imported from ``inputs.utils``; each ``video_url``
part becomes a coroutine calling it with ``**media_io_kwargs["video"]`` (errors -> None).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

from ..inputs.multimodal import MultimodalServerConfig
from ..inputs.utils import async_load_video

logger = logging.getLogger(__name__)


async def _load_video_part(url: str, server_cfg: Optional[MultimodalServerConfig]) -> Any:
    kwargs = ((server_cfg.media_io_kwargs if server_cfg else None) or {}).get("video", {})
    try:
        return await async_load_video(url, **kwargs)
    except Exception as e:  # as in 1.2.x: logged, and the item becomes None
        logger.error("Failed to load video_url %s: %s", url[:60], e)
        return None


def parse_chat_messages_coroutines(
    messages: List[Dict[str, Any]],
    model_config: Any,
    multimodal_server_config: Optional[MultimodalServerConfig] = None,
):
    """-> (conversation, coroutine -> (mm_data, mm_embeddings), mm_placeholder_counts)."""
    conversation, coros, counts = [], [], {}
    for message in messages:
        texts = []
        for part in message["content"]:
            if part["type"] == "text":
                texts.append(part["text"])
            elif part["type"] == "video_url":
                coros.append(_load_video_part(part["video_url"]["url"], multimodal_server_config))
                counts["video"] = counts.get("video", 0) + 1
        conversation.append({"role": message["role"], "content": "\n".join(texts)})

    async def retrieve_all():
        videos = await asyncio.gather(*coros)
        return ({"video": list(videos)} if videos else {}), None

    return conversation, retrieve_all(), [counts]
