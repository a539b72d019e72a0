"""STAND-IN for ``tensorrt_llm._torch.models.modeling_qwen2vl`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/_torch/models/modeling_qwen2vl.py, the 002f3cc3 generation (the brief
names commit 002f3cc3; only its 8-hex prefix is recorded — the facts read the newest indexed
version, id 55160869554, commit not stored; /tmp/facts_models.md §2).

Mirrored: ``Qwen2VLInputProcessorBase(BaseMultimodalInputProcessor,
BaseMultimodalDummyInputsBuilder)``: ``_dtype = config.torch_dtype``, tokenizer fallback,
``_processor = AutoProcessor.from_pretrained(model_path, use_fast=self.use_fast, ...)``, the
``processor`` / ``tokenizer`` / ``config`` / ``model_path`` / ``dtype`` properties,
``get_vocab_size() = config.text_config.vocab_size``, ``get_mm_token_ids``, ``_preprocess``
(kwargs verbatim, the ``do_rescale`` rule), ``_postprocess`` = identity and
``call_with_text_prompt`` (text-only: ``(ids, {"multimodal_data": {"mrope_config": ...}})``;
media: ``image`` / ``video`` dicts cast to ``dtype`` plus ``mrope_config``).

Simplified: ``from_pretrained`` adds ``local_files_only=True`` (offline); ``get_mrope_config``
is a PLACEHOLDER (sequential positions on all three axes, zero deltas — NOT Qwen's mRoPE);
no sizing helpers, dummy inputs, embeddings path or ``Qwen2VLModel`` registration.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import torch

from ...inputs.registry import BaseMultimodalDummyInputsBuilder, BaseMultimodalInputProcessor


class Qwen2VLInputProcessorBase(BaseMultimodalInputProcessor, BaseMultimodalDummyInputsBuilder):
    def __init__(self, model_path: str, config: Any, tokenizer: Any, trust_remote_code: bool = True, **kwargs: Any):
        from transformers import AutoProcessor, AutoTokenizer

        super().__init__(model_path=model_path, config=config, tokenizer=tokenizer,
                         trust_remote_code=trust_remote_code, **kwargs)
        self._dtype = getattr(self._config, "torch_dtype", torch.float32)
        self._tokenizer = tokenizer or AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        self._model_path = model_path
        self._processor = AutoProcessor.from_pretrained(model_path, use_fast=self.use_fast,
                                                        trust_remote_code=trust_remote_code,
                                                        local_files_only=True)  # stand-in: offline
        self.temporal_patch_size = getattr(getattr(config, "vision_config", None), "temporal_patch_size", 1)

    @property
    def config(self) -> Any:
        return self._config

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    @property
    def model_path(self) -> Any:
        return self._model_path

    @property
    def processor(self) -> Any:
        return self._processor

    @property
    def dtype(self) -> Any:
        return self._dtype

    def get_vocab_size(self) -> int:
        return int(self.config.text_config.vocab_size)

    def get_mm_token_ids(self) -> Optional[torch.Tensor]:
        ids = [getattr(self._processor, a, None) for a in ("image_token_id", "vision_token_id", "video_token_id")]
        ids = [i for i in ids if i is not None]
        return torch.tensor(ids, dtype=torch.int32) if ids else None

    def get_mrope_config(self, input_ids: torch.Tensor, image_grid_thw: Any, video_grid_thw: Any,
                         attention_mask: Any, second_per_grid_ts: Any = None) -> Dict[str, torch.Tensor]:
        """STAND-IN PLACEHOLDER: arange positions (3, B, S) and zero deltas (B, 1); not mRoPE."""
        b, s = input_ids.shape
        ids = torch.arange(s).view(1, 1, s).expand(3, b, s)
        return {"mrope_position_ids": ids.to("cpu").clone(),
                "mrope_position_deltas": torch.zeros(b, 1).to("cpu").to(torch.int32).clone()}

    def _preprocess(self, text: Any, mm_data: Dict[str, Any], mm_processor_kwargs: Dict[str, Any]):
        images = mm_data.get("image")
        video_datas = mm_data.get("video")
        videos = [vd.frames for vd in video_datas] if video_datas else None
        do_rescale = True
        if images and isinstance(images[0], torch.Tensor):
            do_rescale = False
        if videos and isinstance(videos[0][0], torch.Tensor):
            do_rescale = False
        return self.processor(text=[text], images=images, videos=videos, padding=True, do_rescale=do_rescale,
                              return_tensors="pt", **mm_processor_kwargs)

    def _postprocess(self, input_ids: torch.Tensor) -> torch.Tensor:
        return input_ids

    @torch.inference_mode()
    def call_with_text_prompt(self, inputs: Dict[str, Any], sampling_params: Any) -> Tuple[List[int], Optional[Dict[str, Any]]]:
        text_prompt = inputs.get("prompt")
        mm_data = inputs.get("multi_modal_data", {})
        mm_processor_kwargs = inputs.get("mm_processor_kwargs", {})
        if not mm_data:
            input_ids = self.tokenizer(text_prompt, return_tensors="pt").input_ids
            mrope_config = self.get_mrope_config(input_ids, None, None, torch.ones_like(input_ids), None)
            return input_ids[0].to(torch.int32).tolist(), {"multimodal_data": {"mrope_config": mrope_config}}

        processed = self._preprocess(text_prompt, mm_data, mm_processor_kwargs)
        multimodal_data: Dict[str, Any] = {}
        if processed.get("pixel_values") is not None:
            multimodal_data["image"] = {"pixel_values": processed["pixel_values"].to(self.dtype),
                                        "image_grid_thw": processed.get("image_grid_thw")}
        if processed.get("pixel_values_videos") is not None:
            multimodal_data["video"] = {"pixel_values_videos": processed["pixel_values_videos"].to(self.dtype),
                                        "video_grid_thw": processed.get("video_grid_thw")}
        multimodal_data["mrope_config"] = self.get_mrope_config(
            processed["input_ids"], processed.get("image_grid_thw"), processed.get("video_grid_thw"),
            processed.get("attention_mask"), processed.get("second_per_grid_ts"))
        input_ids = processed["input_ids"][0]
        if mm_data:
            input_ids = self._postprocess(input_ids)
        return input_ids.to(torch.int32).tolist(), {"multimodal_data": multimodal_data}
