"""TensorRT-LLM's video token counts (``find_mm_token_lengths`` -> ``get_num_tokens_per_video``,
what its KV-cache reuse keys on) stay what they are with full frames when frames are resized as
decoded (``resize_on_decode``, on by default), through the stand-in's hashing wrapper
(``create_input_processor_with_hash``, mirroring main's: hash, process, count, locate).

Main forwards the processor's ``video_grid_thw`` and Qwen3-VL's counter counts from it, so
resized frames count the same; Qwen2-VL's counter measures frame 0, so its frames stay full
(forcing the resize there changes what the wrapper does: the reason for the rule)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from conftest import clip_bytes  # noqa: E402
from test_integration_resize_on_decode import CLIP, _sizes, _small_budget_dir  # noqa: E402
from trtllm_harness import VIDEO_PLACEHOLDER, PROMPT_TEXT, data_url, load_sync, make_processor, mod  # noqa: E402
from trtllm_mmfast.integrations import tensorrt_llm as mmfast  # noqa: E402
from trtllm_mmfast.integrations.tensorrt_llm import _resize  # noqa: E402
from trtllm_standins.standin import use_standin  # noqa: E402


@pytest.fixture(scope="module")
def url() -> str:
    return data_url(clip_bytes(CLIP))


def _hashed(trt, model_dir, url, fmt, stock=False, **enable):
    """(VideoData, processor, token ids, extra) of one request through the hashing wrapper:
    stock TensorRT-LLM, or ours with ``mmfast.enable(**enable)``."""
    if not stock:
        mmfast.enable(**enable)
    try:
        processor = make_processor(model_dir)
        vd = load_sync(trt, url, fps=2, format=fmt)
        prompt = {"prompt": VIDEO_PLACEHOLDER + PROMPT_TEXT, "multi_modal_data": {"video": [vd]}}
        ids, extra = mod("tensorrt_llm.inputs.registry").create_input_processor_with_hash(processor)(prompt, None)
        return vd, processor, ids, extra
    finally:
        mmfast.disable()


def _video_tokens(processor, ids) -> int:
    return sum(1 for i in ids if i == processor.config.video_token_id)


@pytest.mark.parametrize("generation,fmt", [("main", "pt"), ("main_2026h1", "np")])
def test_qwen3_vl_counts_are_unchanged_by_resized_frames(generation, fmt, url, tmp_path):
    model_dir = _small_budget_dir(tmp_path, "qwen3_vl")
    with use_standin(generation) as trt:
        vd, processor, ids, extra = _hashed(trt, model_dir, url, fmt)  # the default: resized
        full_vd, _, full_ids, full_extra = _hashed(trt, model_dir, url, fmt, resize_on_decode=False)
    (h, w), = _sizes(vd)
    assert h * w < CLIP.height * CLIP.width and _sizes(full_vd) == {(CLIP.height, CLIP.width)}
    got, full = extra["multimodal_input"], full_extra["multimodal_input"]
    t, gh, gw = extra["multimodal_data"]["video"]["video_grid_thw"][0].tolist()
    assert got["multimodal_lengths"] == full["multimodal_lengths"] == [t * gh * gw // 4] == [_video_tokens(processor, ids)]
    assert got["multimodal_positions"] == full["multimodal_positions"]
    assert got["multimodal_hashes"] == full["multimodal_hashes"]  # raw_bytes_hash + metadata, not frames
    assert ids == full_ids


def test_main_np_array_frames_are_not_hashed_for_stock_or_us(url, tmp_path):
    """Main's Qwen3-VL "np" frames are one array, which its find_mm_token_lengths refuses: the
    wrapper's first request turns hashing off, for stock TensorRT-LLM as for us."""
    model_dir = _small_budget_dir(tmp_path, "qwen3_vl")
    with use_standin("main") as trt:
        _, stock, stock_ids, stock_extra = _hashed(trt, model_dir, url, "np", stock=True)
        vd, ours, ids, extra = _hashed(trt, model_dir, url, "np")
    assert stock.multimodal_hashing_supported is False and ours.multimodal_hashing_supported is False
    assert "multimodal_input" not in stock_extra and "multimodal_input" not in extra
    (h, w), = _sizes(vd)
    assert h * w < CLIP.height * CLIP.width  # resized all the same: nothing counts these frames


def test_qwen2_vl_counter_measures_frames_so_they_stay_full(url, tmp_path, monkeypatch):
    """Main's Qwen2-VL counter sizes frame 0 with the IMAGE processor's pixel bounds. This
    checkpoint's video budget is below them, so on full frames the count disagrees with the
    prompt and the wrapper turns hashing off, for stock as for us; forced resized frames would
    count "right" and turn it on: not what stock does, hence full frames there."""
    model_dir = _small_budget_dir(tmp_path, "qwen2_5_vl")
    with use_standin("main") as trt:
        _, stock, _, _ = _hashed(trt, model_dir, url, "pt", stock=True)
        vd, ours, _, extra = _hashed(trt, model_dir, url, "pt")
        monkeypatch.setattr(_resize, "counts_from_grid", lambda p: True)
        forced_vd, forced, forced_ids, forced_extra = _hashed(trt, model_dir, url, "pt")
    assert _sizes(vd) == {(CLIP.height, CLIP.width)}
    assert stock.multimodal_hashing_supported is False and ours.multimodal_hashing_supported is False
    (h, w), = _sizes(forced_vd)
    assert h * w < CLIP.height * CLIP.width and forced.multimodal_hashing_supported is True
    assert forced_extra["multimodal_input"]["multimodal_lengths"] == [_video_tokens(forced, forced_ids)]


def test_counts_from_grid_reads_the_installed_signatures(tmp_path, monkeypatch):
    with use_standin("main") as trt:
        mmfast.enable()
        try:
            qwen3 = make_processor(_small_budget_dir(tmp_path / "a", "qwen3_vl"))
            qwen25 = make_processor(_small_budget_dir(tmp_path / "b", "qwen2_5_vl"))
            assert _resize.counts_from_grid(qwen3) and not _resize.counts_from_grid(qwen25)
            multimodal = mod("tensorrt_llm.inputs.multimodal")
            newest = multimodal.find_mm_token_lengths

            def older(mm_data, input_processor):  # the generation before the grid was forwarded
                return newest(mm_data, input_processor)

            monkeypatch.setattr(multimodal, "find_mm_token_lengths", older)
            assert not _resize.counts_from_grid(make_processor(_small_budget_dir(tmp_path / "c", "qwen3_vl")))
        finally:
            mmfast.disable()
    assert trt is not None
