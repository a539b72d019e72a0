"""STAND-IN for ``tensorrt_llm.serve.chat_utils`` (a test fixture, not TensorRT-LLM code), 1.2.x.

Real file: tensorrt_llm/serve/chat_utils.py, 1.2.x (pre-release/1.2 main; rebuilt from
TRTLLM_HOOKS.md §1.2, commit not stored).

Mirrored: ``async_load_video`` is a MODULE GLOBAL imported from ``inputs.utils`` (patching
``chat_utils.async_load_video`` takes effect); each ``video_url`` part becomes a coroutine calling
``async_load_video(url, **media_io_kwargs.get("video", {}))``; any exception is logged and the
item becomes ``None``; ``parse_chat_messages_coroutines(messages, model_config,
multimodal_server_config=None)`` returns 3 values ``(conversation, coroutine -> (mm_data,
mm_embeddings), mm_placeholder_counts)``; placeholders are added to each message's text with
the registry's placement and separator ("\\n" for Qwen3-VL in 1.2).

Simplified: text / video_url parts only; the model type is ``model_config.model_type``;
placeholders and text joined by the separator (rebuilt, not read).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

from ..inputs.multimodal import MultimodalServerConfig
from ..inputs.registry import MULTIMODAL_PLACEHOLDER_REGISTRY, MultimodalPlaceholderPlacement
from ..inputs.utils import async_load_video

logger = logging.getLogger("tensorrt_llm")


async def _load_video_part(url: str, server_cfg: Optional[MultimodalServerConfig]) -> Any:
    kwargs = ((server_cfg.media_io_kwargs if server_cfg else None) or {}).get("video", {})
    try:
        return await async_load_video(url, **kwargs)
    except Exception as e:  # as in 1.2.x: logged, and the item becomes None
        logger.error("Failed to load video_url %s: %s", url[:60], e)
        return None


def add_multimodal_placeholders(model_type: str, text_prompt: str, mm_placeholder_counts: Dict[str, int]) -> str:
    placeholders: List[str] = []
    for placeholder, count in mm_placeholder_counts.items():
        placeholders.extend([placeholder] * count)
    placement = MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholder_placement(model_type)
    parts = placeholders + [text_prompt] if placement == MultimodalPlaceholderPlacement.BEFORE_TEXT else [text_prompt] + placeholders
    return MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholders_separator(model_type).join(parts)


def parse_chat_messages_coroutines(messages: List[Dict[str, Any]], model_config: Any,
                                   multimodal_server_config: Optional[MultimodalServerConfig] = None):
    """-> (conversation, coroutine -> (mm_data, mm_embeddings), mm_placeholder_counts)."""
    model_type = getattr(model_config, "model_type", None)
    conversation, coros, mm_placeholder_counts = [], [], []
    for message in messages:
        texts: List[str] = []
        counts: Dict[str, int] = {}
        content = message["content"]
        for part in ([{"type": "text", "text": content}] if isinstance(content, str) else content):
            if part["type"] == "text":
                texts.append(part["text"])
            elif part["type"] == "video_url":
                coros.append(_load_video_part(part["video_url"]["url"], multimodal_server_config))
                placeholder = MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholder(model_type, "video")
                counts[placeholder] = counts.get(placeholder, 0) + 1
        text = "\n".join(texts)
        if counts:
            text = add_multimodal_placeholders(model_type, text, counts)
        conversation.append({"role": message["role"], "content": text})
        mm_placeholder_counts.append(counts)

    async def retrieve_all():
        videos = await asyncio.gather(*coros)
        return ({"video": list(videos)} if videos else None), None

    return conversation, retrieve_all(), mm_placeholder_counts
