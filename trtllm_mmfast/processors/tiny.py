"""Tiny Qwen-VL processors built offline (no hub access), for tests and the sweep.

A byte-level BPE tokenizer made with ``tokenizers`` that holds Qwen's special tokens, and
the real image and video processor classes of the family with their defaults (Qwen3-VL:
``Qwen2VLImageProcessor`` + ``Qwen3VLVideoProcessor``; Qwen2-VL and Qwen2.5-VL:
``Qwen2VLImageProcessor`` + ``Qwen2VLVideoProcessor``): the same video/image pipeline as
a real checkpoint, with a toy vocabulary. Users with a real checkpoint use
``AutoProcessor.from_pretrained(model_dir)`` instead.
"""

from __future__ import annotations

import os
from typing import Any, Literal

__all__ = ["SPECIAL_TOKENS", "TINY_FAMILIES", "TinyFamily", "tiny_processor"]

TinyFamily = Literal["qwen3_vl", "qwen2_vl", "qwen2_5_vl"]
# family -> (processor class, video processor class), names in ``transformers``
TINY_FAMILIES: dict[str, tuple[str, str]] = {
    "qwen2_5_vl": ("Qwen2_5_VLProcessor", "Qwen2VLVideoProcessor"),
    "qwen2_vl": ("Qwen2VLProcessor", "Qwen2VLVideoProcessor"),
    "qwen3_vl": ("Qwen3VLProcessor", "Qwen3VLVideoProcessor"),
}

SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]


def _tokenizer() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIAL_TOKENS)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")


def tiny_processor(save_dir: str | os.PathLike | None = None, *, family: TinyFamily = "qwen3_vl") -> Any:
    """A ``Qwen3VLProcessor`` (``family="qwen2_vl"``: ``Qwen2VLProcessor``, ``"qwen2_5_vl"``:
    ``Qwen2_5_VLProcessor``) with a toy tokenizer and default image/video processors.

    With ``save_dir`` it is saved there and loaded back with
    ``AutoProcessor.from_pretrained(save_dir, local_files_only=True)``.
    """
    import transformers

    if family not in TINY_FAMILIES:
        raise ValueError(f"unknown tiny processor family {family!r}; valid: {', '.join(sorted(TINY_FAMILIES))}")
    processor_cls, video_cls = (getattr(transformers, name) for name in TINY_FAMILIES[family])
    processor = processor_cls(
        image_processor=transformers.Qwen2VLImageProcessor(),
        tokenizer=_tokenizer(),
        video_processor=video_cls(),
    )
    if save_dir is None:
        return processor
    processor.save_pretrained(os.fspath(save_dir))
    return transformers.AutoProcessor.from_pretrained(os.fspath(save_dir), local_files_only=True)
