"""Put one stand-in ``tensorrt_llm`` (see README.md) on ``sys.path`` for a test, and take it off.

Never a real TensorRT-LLM: every ``tensorrt_llm*`` module is purged before and after, and
the imported package must carry the ``STANDIN`` marker. Also: ``make_model_dir`` (a tiny
offline Qwen3-VL / Qwen3-VL-MoE / Qwen2-VL / Qwen2.5-VL "checkpoint"), ``StandinGenerator`` / ``make_server`` (what the
server calls ``generator`` / ``llm``), and the multi-frontend helpers ``SERVE_SCRIPT``,
``standin_env`` and ``read_report``. A harness: it mirrors no TensorRT-LLM file itself
(``StandinGenerator`` / ``make_server`` model only the attributes the server reads off its LLM).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import sys
import types
import warnings
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
GENERATIONS = ("v1_2", "main_2026h1", "main")
SERVE_SCRIPT = HERE / "trtllm_serve.py"  # the stand-in `trtllm-serve` console script


def purge() -> None:
    for name in [n for n in sys.modules if n == "tensorrt_llm" or n.startswith("tensorrt_llm.")]:
        del sys.modules[name]


def _policy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return asyncio.get_event_loop_policy()


def _reset_media_io_executor() -> None:
    media_io = sys.modules.get("tensorrt_llm.inputs.media_io")
    if media_io is not None and hasattr(media_io, "BaseMediaIO"):
        media_io.BaseMediaIO._executor = None


@contextlib.contextmanager
def use_standin(generation: Optional[str]) -> Iterator[Optional[types.ModuleType]]:
    """``generation``: one of GENERATIONS, or None for "TensorRT-LLM not installed"."""
    from trtllm_mmfast.integrations import tensorrt_llm as integration

    if generation is not None and generation not in GENERATIONS:
        raise ValueError(f"unknown stand-in generation {generation!r}; one of {GENERATIONS}")
    integration.disable()
    purge()
    policy = _policy()
    path = str(HERE / generation) if generation else None
    if path:
        sys.path.insert(0, path)
    try:
        if generation is None:
            yield None
            return
        import tensorrt_llm

        assert getattr(tensorrt_llm, "STANDIN", None) == generation, f"not the {generation} stand-in: {tensorrt_llm.__file__}"
        yield tensorrt_llm
    finally:
        integration.disable()
        _reset_media_io_executor()
        if path:
            sys.path.remove(path)
        purge()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            asyncio.set_event_loop_policy(policy)


ARCHITECTURES = {
    "qwen3_vl": "Qwen3VLForConditionalGeneration",
    "qwen3_vl_moe": "Qwen3VLMoeForConditionalGeneration",
    "qwen2_vl": "Qwen2VLForConditionalGeneration",
    "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
}
# vision_config per model type: what the stand-in processors and their mRoPE rule read
# (Qwen2.5-VL's tokens_per_second scales the temporal positions by second_per_grid_ts).
_VISION = {
    "qwen3_vl": {"spatial_merge_size": 2, "temporal_patch_size": 2, "patch_size": 16, "deepstack_visual_indexes": []},
    "qwen2_vl": {"spatial_merge_size": 2, "temporal_patch_size": 2, "patch_size": 14},
    "qwen2_5_vl": {"spatial_merge_size": 2, "temporal_patch_size": 2, "patch_size": 14, "tokens_per_second": 2},
}
_VISION["qwen3_vl_moe"] = _VISION["qwen3_vl"]


def tiny_processor_for(model_type: str, save_dir: Path) -> Any:
    """The tiny offline HF processor of ``model_type``, saved in ``save_dir`` and loaded back."""
    from trtllm_mmfast.processors import tiny

    family = "qwen3_vl" if model_type.startswith("qwen3_vl") else model_type
    try:
        return tiny.tiny_processor(save_dir=save_dir, family=family)
    except TypeError:  # a tiny.py without families: build Qwen2-VL / Qwen2.5-VL here
        if family == "qwen3_vl":
            return tiny.tiny_processor(save_dir=save_dir)
    import transformers

    cls = transformers.Qwen2VLProcessor if family == "qwen2_vl" else transformers.Qwen2_5_VLProcessor
    processor = cls(image_processor=transformers.Qwen2VLImageProcessor(), tokenizer=tiny._tokenizer(),
                    video_processor=transformers.Qwen2VLVideoProcessor())
    processor.save_pretrained(str(save_dir))
    return transformers.AutoProcessor.from_pretrained(str(save_dir), local_files_only=True)


def _vision_sizes(processor: Any) -> Dict[str, int]:
    """The patch / merge / temporal sizes of the processor's image processor: a real checkpoint's
    ``vision_config`` agrees with them (TensorRT-LLM's token counters read ``vision_config``)."""
    ip = processor.image_processor
    return {"patch_size": int(ip.patch_size), "spatial_merge_size": int(ip.merge_size),
            "temporal_patch_size": int(ip.temporal_patch_size)}


def make_model_dir(path: Path, model_type: str = "qwen3_vl", dtype: str = "float32") -> Path:
    """A Qwen-VL "checkpoint" dir (``model_type`` one of ``ARCHITECTURES``): the tiny offline
    processor plus a small config.json.

    ``config.json`` names the architecture and carries what the stand-in ``ModelConfig`` and the
    input processors read: ``text_config.vocab_size`` (the tiny tokenizer's size), ``dtype`` /
    ``torch_dtype`` (float32 by default, so pixel values are not rounded), the image / video /
    vision-start token ids and ``vision_config`` merge / patch sizes. No weights.
    """
    if model_type not in ARCHITECTURES:
        raise ValueError(f"model_type must be one of {sorted(ARCHITECTURES)}")
    path = Path(path)
    processor = tiny_processor_for(model_type, path)
    tok = processor.tokenizer
    config = {
        "architectures": [ARCHITECTURES[model_type]],
        "model_type": model_type,
        "torch_dtype": dtype,
        "image_token_id": tok.convert_tokens_to_ids("<|image_pad|>"),
        "video_token_id": tok.convert_tokens_to_ids("<|video_pad|>"),
        "vision_start_token_id": tok.convert_tokens_to_ids("<|vision_start|>"),
        "vision_end_token_id": tok.convert_tokens_to_ids("<|vision_end|>"),
        "text_config": {"vocab_size": len(tok), "dtype": dtype, "hidden_size": 64},
        "vision_config": {**_VISION[model_type], **_vision_sizes(processor)},
    }
    (path / "config.json").write_text(json.dumps(config, indent=1))
    return path


class StandinGenerator:
    """What ``OpenAIServer(generator=...)`` (main) / ``OpenAIServer(llm=...)`` (1.2) needs.

    ``args.kv_cache_config.enable_block_reuse`` (TensorRT-LLM's default is True) drives the
    main_2026h1 ``hash_source`` injection. ``preprocess`` runs
    ``create_input_processor_with_hash(input_processor)`` and returns ``(token_ids, extra)`` as
    a tuple subclass whose ``multimodal_params.multimodal_data`` is ``extra["multimodal_data"]``
    (what main's per-request CPU-bytes check measures).
    """

    def __init__(self, input_processor: Any, *, enable_block_reuse: bool = True):
        self.input_processor = input_processor
        self.args = types.SimpleNamespace(kv_cache_config=types.SimpleNamespace(enable_block_reuse=enable_block_reuse),
                                          model_config=None)

    def preprocess(self, prompt: Dict[str, Any], sampling_params: Any, disaggregated_params: Any = None):
        registry = importlib.import_module("tensorrt_llm.inputs.registry")
        token_ids, extra = registry.create_input_processor_with_hash(self.input_processor)(prompt, sampling_params)
        return PreprocessedInputs(token_ids, extra)


class PreprocessedInputs(tuple):
    """``(token_ids, extra)`` plus ``.multimodal_params.multimodal_data`` (stand-in)."""

    def __new__(cls, token_ids: List[int], extra: Optional[Dict[str, Any]]):
        self = super().__new__(cls, (token_ids, extra))
        self.multimodal_params = types.SimpleNamespace(multimodal_data=(extra or {}).get("multimodal_data"))
        return self


def make_server(input_processor: Any, *, media_io_kwargs: Optional[Dict[str, Any]] = None,
                enable_block_reuse: bool = True, max_cpu_bytes: Optional[int] = None,
                max_cpu_bytes_per_request: Optional[int] = None, **server_kwargs: Any):
    """An ``OpenAIServer`` for the active stand-in (``llm=`` on v1_2, ``generator=`` otherwise)."""
    trt = importlib.import_module("tensorrt_llm")
    server_mod = importlib.import_module("tensorrt_llm.serve.openai_server")
    multimodal = importlib.import_module("tensorrt_llm.inputs.multimodal")
    cfg_kwargs: Dict[str, Any] = {"media_io_kwargs": media_io_kwargs}
    if max_cpu_bytes is not None or max_cpu_bytes_per_request is not None:
        cfg_kwargs |= {"max_cpu_bytes": max_cpu_bytes, "max_cpu_bytes_per_request": max_cpu_bytes_per_request}
    cfg = multimodal.MultimodalServerConfig(**cfg_kwargs)
    generator = StandinGenerator(input_processor, enable_block_reuse=enable_block_reuse)
    common = dict(model="m", tool_parser=None, server_role=None, metadata_server_cfg=None, multimodal_server_config=cfg)
    if trt.STANDIN == "v1_2":
        return server_mod.OpenAIServer(llm=generator, **common, **server_kwargs)
    return server_mod.OpenAIServer(generator=generator, **common, **server_kwargs)


def standin_env(generation: str, report: Optional[os.PathLike] = None, **extra: str) -> Dict[str, str]:
    """Environment for running ``SERVE_SCRIPT`` in a subprocess with the ``generation`` stand-in.

    ``PYTHONPATH`` = the stand-in dir, the repo root (trtllm_mmfast) and tests/ (trtllm_standins);
    ``report`` sets ``TRTLLM_STANDIN_REPORT``. Multi-frontend variables are removed so the process
    starts as a launcher.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TLLM_EXECUTOR_", "TLLM_FRONTEND_"))}
    paths = [str(HERE / generation), str(REPO), str(HERE.parent)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    if report is not None:
        env["TRTLLM_STANDIN_REPORT"] = os.fspath(report)
    env.update(extra)
    return env


def read_report(path: os.PathLike) -> List[Dict[str, Any]]:
    """The ``TRTLLM_STANDIN_REPORT`` lines, sorted by ``frontend_id``."""
    lines = Path(path).read_text().splitlines() if Path(path).exists() else []
    return sorted((json.loads(line) for line in lines if line.strip()), key=lambda d: d["frontend_id"])
