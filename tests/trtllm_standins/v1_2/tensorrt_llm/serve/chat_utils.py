"""STAND-IN for ``tensorrt_llm.serve.chat_utils`` (a test fixture, not TensorRT-LLM code), 1.2.x.

Real file: tensorrt_llm/serve/chat_utils.py, 1.2.x, read with an explicit commit at
4c05a74891e4df8066f08ed4ce14b0972abe4e25 (the one stored version: an older main of 1.2's design;
TRTLLM_HOOKS.md §1.2).

Mirrored: ``async_load_video`` is a MODULE GLOBAL (the real file imports it from ``tensorrt_llm.inputs``,
which re-exports ``inputs.utils``'s; here imported from ``inputs.utils`` directly; patching
``chat_utils.async_load_video`` takes effect); each ``video_url`` part becomes a coroutine calling
``async_load_video(url, **media_io_kwargs.get("video", {}))``; any exception is logged and the
item becomes ``None``; ``parse_chat_messages_coroutines(messages, model_config,
multimodal_server_config=None)`` returns 3 values ``(conversation, coroutine -> (mm_data,
mm_embeddings), mm_placeholder_counts)``; placeholders are added to each message's text with
the registry's placement and separator ("\\n" for Qwen3-VL in 1.2).

``image_url`` parts (same commit): ``async_load_image`` is a module global too; each part becomes a coroutine
``async_load_image(url, **media_io_kwargs.get("image", {}))``, errors logged -> None; the media are
gathered per modality, modalities in the order first seen (``MultimodalDataTracker.retrieve_all_async``).

Simplified: text / image_url / video_url parts only; the model type is ``model_config.model_type``;
placeholders and text joined by the separator (rebuilt, not read).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

from ..inputs.multimodal import MultimodalServerConfig
from ..inputs.registry import MULTIMODAL_PLACEHOLDER_REGISTRY, MultimodalPlaceholderPlacement
from ..inputs.utils import async_load_image, async_load_video

logger = logging.getLogger("tensorrt_llm")


async def _load_video_part(url: str, server_cfg: Optional[MultimodalServerConfig]) -> Any:
    kwargs = ((server_cfg.media_io_kwargs if server_cfg else None) or {}).get("video", {})
    try:
        return await async_load_video(url, **kwargs)
    except Exception as e:  # as in 1.2.x: logged, and the item becomes None
        logger.error("Failed to load video_url %s: %s", url[:60], e)
        return None


async def _load_image_part(url: str, server_cfg: Optional[MultimodalServerConfig]) -> Any:
    kwargs = ((server_cfg.media_io_kwargs if server_cfg else None) or {}).get("image", {})
    try:
        return await async_load_image(url, **kwargs)
    except Exception as e:  # as in 1.2.x: logged, and the item becomes None
        logger.error("Failed to load image: %s", e)
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
    conversation, mm_placeholder_counts = [], []
    coros: Dict[str, List[Any]] = {}  # modality -> coroutines, modalities in the order first seen
    for message in messages:
        texts: List[str] = []
        counts: Dict[str, int] = {}
        content = message["content"]
        for part in ([{"type": "text", "text": content}] if isinstance(content, str) else content):
            if part["type"] == "text":
                texts.append(part["text"])
            elif part["type"] in ("video_url", "image_url"):
                modality = part["type"][: -len("_url")]
                load = _load_video_part if modality == "video" else _load_image_part
                coros.setdefault(modality, []).append(load(part[part["type"]]["url"], multimodal_server_config))
                placeholder = MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholder(model_type, modality)
                counts[placeholder] = counts.get(placeholder, 0) + 1
        text = "\n".join(texts)
        if counts:
            text = add_multimodal_placeholders(model_type, text, counts)
        conversation.append({"role": message["role"], "content": text})
        mm_placeholder_counts.append(counts)

    async def retrieve_all():
        data = {modality: list(await asyncio.gather(*items)) for modality, items in coros.items()}
        return (data or None), None

    return conversation, retrieve_all(), mm_placeholder_counts
