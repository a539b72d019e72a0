"""A tiny Qwen3-VL processor built offline (no hub access), for tests and the sweep.

A byte-level BPE tokenizer made with ``tokenizers`` that holds Qwen's special tokens,
``Qwen2VLImageProcessor`` and ``Qwen3VLVideoProcessor`` with their defaults: the same
video/image pipeline as a real Qwen3-VL checkpoint, with a toy vocabulary. Users with a
real checkpoint use ``AutoProcessor.from_pretrained(model_dir)`` instead.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["SPECIAL_TOKENS", "tiny_processor"]

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


def tiny_processor(save_dir: str | os.PathLike | None = None) -> Any:
    """A ``Qwen3VLProcessor`` with a toy tokenizer and default image/video processors.

    With ``save_dir`` it is saved there and loaded back with
    ``AutoProcessor.from_pretrained(save_dir, local_files_only=True)``.
    """
    from transformers import AutoProcessor, Qwen2VLImageProcessor, Qwen3VLProcessor, Qwen3VLVideoProcessor

    processor = Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(),
        tokenizer=_tokenizer(),
        video_processor=Qwen3VLVideoProcessor(),
    )
    if save_dir is None:
        return processor
    processor.save_pretrained(os.fspath(save_dir))
    return AutoProcessor.from_pretrained(os.fspath(save_dir), local_files_only=True)
