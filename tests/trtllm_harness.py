"""Driving the stand-in TensorRT-LLM (tests/trtllm_standins/) the way its server does:
an input processor from the registry, an ``OpenAIServer`` around a minimal generator, chat
messages with a video URL. Shared by the integration tests."""

from __future__ import annotations

import asyncio
import base64
import importlib
import types
from collections.abc import Sequence
from typing import Any

PROMPT_TEXT = "What happens in this video?"
VIDEO_PLACEHOLDER = "<|vision_start|><|video_pad|><|vision_end|>"


def standin_fixture(generations: Sequence[str] | None = None) -> Any:
    """A pytest fixture (name it by assignment: ``trt = standin_fixture()``) running each test once
    per stand-in generation (default all, ``standin.GENERATIONS``) with that ``tensorrt_llm`` imported."""
    import pytest  # here: the perf scripts import this module without the test extras

    from trtllm_standins.standin import GENERATIONS, use_standin

    @pytest.fixture(params=tuple(generations or GENERATIONS))
    def standin(request: Any) -> Any:
        with use_standin(request.param) as trt:
            yield trt

    return standin


def mod(name: str) -> types.ModuleType:
    return importlib.import_module(name)


def is_main(trt: Any) -> bool:
    """Any main-branch generation (``inputs/media_io.py`` layout)."""
    return trt.STANDIN.startswith("main")


def data_url(clip: bytes) -> str:
    return "data:video/mp4;base64," + base64.b64encode(clip).decode()


def make_processor(model_dir: Any) -> Any:
    return mod("tensorrt_llm.inputs.registry").create_input_processor(str(model_dir), tokenizer=None)


def messages(url: str, text: str = PROMPT_TEXT) -> list:
    return [{"role": "user", "content": [{"type": "video_url", "video_url": {"url": url}}, {"type": "text", "text": text}]}]


class Generator:
    """What main's OpenAIServer calls ``generator`` (only what the chat path uses).

    ``block_reuse``: its ``args.kv_cache_config.enable_block_reuse`` (TensorRT-LLM's default
    is on; the 2026 server then asks the video loader for ``hash_source``)."""

    def __init__(self, input_processor: Any, *, block_reuse: bool = True) -> None:
        self.input_processor = input_processor
        self.args = types.SimpleNamespace(kv_cache_config=types.SimpleNamespace(enable_block_reuse=block_reuse))

    def preprocess(self, prompt: Any, sampling_params: Any, disaggregated_params: Any) -> Any:
        registry = mod("tensorrt_llm.inputs.registry")
        return registry.create_input_processor_with_hash(self.input_processor)(prompt, sampling_params)


def server(trt: Any, processor: Any, media_io_kwargs: dict | None = None, **config: Any) -> Any:
    """The stand-in ``OpenAIServer`` (main: ``generator=``; 1.2: ``llm=``)."""
    server_mod = mod("tensorrt_llm.serve.openai_server")
    cfg = mod("tensorrt_llm.inputs.multimodal").MultimodalServerConfig(media_io_kwargs=media_io_kwargs, **config)
    common = dict(model="m", tool_parser=None, server_role=None, metadata_server_cfg=None, multimodal_server_config=cfg)
    if is_main(trt):
        return server_mod.OpenAIServer(generator=Generator(processor), **common)
    return server_mod.OpenAIServer(llm=types.SimpleNamespace(input_processor=processor), **common)


async def load(trt: Any, url: str, **video_kwargs: Any) -> Any:
    """One video through the stand-in chat server's own loader call path."""
    chat_utils = mod("tensorrt_llm.serve.chat_utils")
    if is_main(trt):
        return await chat_utils._make_media_io("video", None, {"video": video_kwargs}).async_load(url)
    return await chat_utils.async_load_video(url, **video_kwargs)


def load_sync(trt: Any, url: str, **video_kwargs: Any) -> Any:
    return asyncio.run(load(trt, url, **video_kwargs))


def process(processor: Any, video_datas: list, mm_processor_kwargs: dict | None = None, text: str = PROMPT_TEXT) -> Any:
    """The input processor on one prompt (what ``generator.preprocess`` runs): (token_ids, extra)."""
    prompt = {"prompt": VIDEO_PLACEHOLDER * len(video_datas) + text, "multi_modal_data": {"video": video_datas}}
    if mm_processor_kwargs:
        prompt["mm_processor_kwargs"] = mm_processor_kwargs
    return processor(prompt, None)
