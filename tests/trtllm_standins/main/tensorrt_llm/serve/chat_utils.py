"""STAND-IN for ``tensorrt_llm.serve.chat_utils`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/serve/chat_utils.py @ 0c3519021cca6f590804c75bdfa8245b8d2aaaf9
(docs/facts/trtllm_media.md §5).

Mirrored: ``_make_media_io(modality, server_config, request_kwargs)`` reads the module-global
``MEDIA_IO_REGISTRY`` at call time and returns ``cls.create(server_kwargs.get(modality),
request_kwargs.get(modality))``; a ``video_url`` part is only ``{"type": "video_url",
"video_url": {"url": ...}}`` and becomes ``MultimodalData(modality, data=<unawaited
async_load(url) coroutine>)`` (no try/except: errors propagate when gathered);
``parse_chat_messages_coroutines`` returns 4 values ``(conversation, retrieve_all_async(),
mm_placeholder_counts, item_order)``, placeholders inserted synchronously (STRING format).

Simplified: parts ``text`` / ``image_url`` / ``video_url`` / ``audio_url`` only; the
placeholder counts are per message; ``model_type`` is ``model_type_override`` or
``type(cfg).model_type`` / ``cfg.model_type``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ..inputs.media_io import MEDIA_IO_REGISTRY, BaseMediaIO
from ..inputs.multimodal import MultimodalServerConfig
from ..inputs.registry import MULTIMODAL_PLACEHOLDER_REGISTRY
from ..inputs.utils import MultimodalDataTracker, add_multimodal_placeholders

logger = logging.getLogger("tensorrt_llm")


@dataclass
class MultimodalData:
    modality: str
    data: Any
    is_embedding: bool = False


MM_PARSER_MAP = {
    "text": lambda part: part.get("text", None),
    "image_url": lambda part: part.get("image_url", {}).get("url", None),
    "video_url": lambda part: part.get("video_url", {}).get("url", None),
    "audio_url": lambda part: part.get("audio_url", {}).get("url", None),
}


def _make_media_io(modality: str, server_config: Optional[MultimodalServerConfig],
                   request_kwargs: Optional[Dict[str, Dict[str, Any]]]) -> BaseMediaIO:
    server_kwargs = (server_config.media_io_kwargs if server_config else None) or {}
    request_kwargs = request_kwargs or {}
    cls = MEDIA_IO_REGISTRY.get(modality)
    if cls is None:
        raise ValueError(f"Unsupported modality: {modality}")
    return cls.create(server_kwargs.get(modality), request_kwargs.get(modality))


def parse_chat_message_content_part(part: Dict[str, Any], mm_data_tracker: MultimodalDataTracker):
    part_type = part.get("type")
    if part_type not in MM_PARSER_MAP:
        raise ValueError(f"Unknown content part type: {part_type}")
    content = MM_PARSER_MAP[part_type](part)
    if content is None:
        logger.warning("Skipping multimodal part '%s' (type: '%s') with empty / unparsable content.", part, part_type)
        return None
    if part_type == "text":
        return content
    modality = part_type[: -len("_url")]
    media_io = _make_media_io(modality, mm_data_tracker._multimodal_server_config, mm_data_tracker.request_media_io_kwargs)
    return MultimodalData(modality=modality, data=media_io.async_load(content), is_embedding=False)


def parse_chat_message_content_parts(role: str, parts: Any, mm_data_tracker: MultimodalDataTracker) -> Dict[str, Any]:
    if isinstance(parts, str):
        return {"role": role, "content": parts, "media": []}
    texts: List[str] = []
    media: List[MultimodalData] = []
    content_parts: List[Any] = []
    for part in parts:
        parsed = parse_chat_message_content_part(part, mm_data_tracker)
        if parsed is None:
            continue
        if isinstance(parsed, str):
            texts.append(parsed)
            content_parts.append(parsed)
        else:
            content_parts.append({"type": parsed.modality, "media_index": len(media)})
            media.append(parsed)
    msg: Dict[str, Any] = {"role": role, "content": "\n".join(texts), "media": media}
    if media:
        msg["content_parts"] = content_parts
    return msg


def resolve_top_level_model_type(model_config: Any) -> Optional[str]:
    return getattr(type(model_config), "model_type", None) or getattr(model_config, "model_type", None)


def parse_chat_messages_coroutines(messages: List[Dict[str, Any]], model_config: Any,
                                   multimodal_server_config: Optional[MultimodalServerConfig] = None,
                                   request_media_io_kwargs: Optional[Dict[str, Dict[str, Any]]] = None,
                                   model_type_override: Optional[str] = None):
    """-> (conversation, coroutine -> (mm_data, mm_embeddings), mm_placeholder_counts, item_order)."""
    model_type = model_type_override or resolve_top_level_model_type(model_config)
    tracker = MultimodalDataTracker(model_type, multimodal_server_config, request_media_io_kwargs=request_media_io_kwargs)
    conversation: List[Dict[str, Any]] = []
    mm_placeholder_counts: List[Dict[str, int]] = []
    for message in messages:
        parsed = parse_chat_message_content_parts(message["role"], message.get("content"), tracker)
        counts: Dict[str, int] = {}
        placeholders: List[Optional[str]] = []
        for media in parsed.pop("media"):
            placeholder = tracker.add_data(media.modality, media.data, is_embedding=media.is_embedding)
            placeholders.append(placeholder)
            if placeholder:
                counts[placeholder] = counts.get(placeholder, 0) + 1
        content_parts = parsed.pop("content_parts", None)
        if counts:
            if MULTIMODAL_PLACEHOLDER_REGISTRY.get_interleave_placeholders(model_type) and content_parts:
                sep = MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholders_separator(model_type)
                parsed["content"] = sep.join(p if isinstance(p, str) else placeholders[p["media_index"]]
                                             for p in content_parts)
            else:
                parsed["content"] = add_multimodal_placeholders(model_type, parsed["content"], counts)
        conversation.append(parsed)
        mm_placeholder_counts.append(counts)
    return conversation, tracker.retrieve_all_async(), mm_placeholder_counts, tracker.item_order()
