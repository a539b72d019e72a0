"""The stand-ins' mRoPE position rule (a test fixture, not TensorRT-LLM code), used by the
Qwen-VL input-processor stand-ins of every generation.

Written from the description of ``Qwen2VLInputProcessorBase.get_rope_index`` in
tensorrt_llm/_torch/models/modeling_qwen2vl.py (newest indexed version id 55160869554 and
c666e7ea1ea841ed9f374068014ec365878a94b7; docs/facts/trtllm_qwen2vl.md §1): without grids,
positions from the attention mask; else, per sequence, text runs get sequential positions on all
three axes and each vision item (its kind named by the token after a vision-start token, in
prompt order) one (3, t*h*w) block from ``temporal_block`` offset past the text before it
(``second_per_grid_t``: the video's ``second_per_grid_ts`` entry, 1.0 when None, 0 for images);
deltas = max position + 1 - sequence length. Own torch code, not TensorRT-LLM's numpy.
"""

from __future__ import annotations

from typing import Any, Callable, Tuple


def rope_index(config: Any, input_ids: Any, image_grid_thw: Any, video_grid_thw: Any, attention_mask: Any,
               second_per_grid_ts: Any, *, temporal_block: Callable[..., Any]) -> Tuple[Any, Any]:
    """(position_ids (3, B, S), deltas (B, 1)); ``temporal_block(config, t, h, w, second_per_grid_t)``."""
    import torch

    b, s = input_ids.shape
    if image_grid_thw is None and video_grid_thw is None:
        if attention_mask is None:
            return torch.arange(s).view(1, 1, s).expand(3, b, s), torch.zeros(b, 1, dtype=input_ids.dtype)
        pos = attention_mask.long().cumsum(-1) - 1
        pos.masked_fill_(attention_mask == 0, 1)
        pos = pos.unsqueeze(0).expand(3, -1, -1)
        return pos, pos.max(0)[0].max(-1, keepdim=True)[0] + 1 - s
    mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
    merge = config.vision_config.spatial_merge_size
    positions = torch.ones(3, b, s, dtype=input_ids.dtype)
    deltas, counters = [], {"image": 0, "video": 0}
    for i in range(b):
        seq = input_ids[i][mask[i] == 1].tolist()
        chunks, st, nxt = [], 0, 0
        kinds = [seq[k + 1] for k in range(len(seq) - 1) if seq[k] == config.vision_start_token_id]
        for kind in kinds:
            if kind == config.image_token_id:
                grid, spg, name = image_grid_thw, 0.0, "image"
            elif kind == config.video_token_id:
                grid, name = video_grid_thw, "video"
                spg = 1.0 if second_per_grid_ts is None else float(second_per_grid_ts[counters["video"]])
            else:
                continue
            t, h, w = (int(x) for x in grid[counters[name]])
            counters[name] += 1
            ed = seq.index(kind, st)
            chunks.append(torch.arange(ed - st).expand(3, -1) + nxt)
            chunks.append(temporal_block(config, t, h // merge, w // merge, spg) + (ed - st) + nxt)
            nxt, st = int(chunks[-1].max()) + 1, ed + t * (h // merge) * (w // merge)
        if st < len(seq):
            chunks.append(torch.arange(len(seq) - st).expand(3, -1) + nxt)
        llm = torch.cat(chunks, dim=1)
        positions[:, i, mask[i] == 1] = llm.to(positions.dtype)
        deltas.append(int(llm.max()) + 1 - s)
    return positions, torch.tensor(deltas).unsqueeze(1)


def plain_block(config: Any, t: int, h: int, w: int, second_per_grid_t: float) -> Any:
    """``indices((t, h, w))`` flattened to (3, t*h*w)."""
    import torch

    return torch.stack(torch.meshgrid(torch.arange(t), torch.arange(h), torch.arange(w), indexing="ij")).reshape(3, -1)


def qwen2_block(config: Any, t: int, h: int, w: int, second_per_grid_t: float) -> Any:
    """Qwen2-VL / Qwen2.5-VL: the temporal axis scaled by ``second_per_grid_t *
    vision_config.tokens_per_second`` (float64, truncated to int64) when that is set."""
    import torch

    grid = plain_block(config, t, h, w, second_per_grid_t)
    tokens_per_second = getattr(config.vision_config, "tokens_per_second", None)
    if tokens_per_second is not None:
        scaled = (torch.arange(t, dtype=torch.float64) * (second_per_grid_t * tokens_per_second)).to(torch.int64)
        grid[0] = scaled.repeat_interleave(h * w)
    return grid
