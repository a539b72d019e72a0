"""Requests with images and no video, through the fast Qwen-VL input processors: stock's exact
HF call (TensorRT-LLM's ``do_rescale`` rule, kwargs verbatim) with the ``_merge_kwargs`` memo,
model inputs ``torch.equal`` to stock's on 1.2 and main, for Qwen3-VL and Qwen2.5-VL."""

from __future__ import annotations

import asyncio
import base64
import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from PIL import Image  # noqa: E402

from trtllm_harness import make_processor, server  # noqa: E402
from trtllm_mmfast.integrations import tensorrt_llm as mmfast  # noqa: E402
from trtllm_standins.standin import make_model_dir, use_standin  # noqa: E402


def _image_url(h: int, w: int, seed: int, fmt: str) -> str:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    arr = np.clip(np.stack([x * 3, y * 5, x + y], -1) % 256 + rng.integers(-9, 10, (h, w, 3)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode()


MESSAGES = [{"role": "user", "content": [
    {"type": "image_url", "image_url": {"url": _image_url(70, 100, 1, "JPEG")}},
    {"type": "text", "text": "Compare the two pictures."},
    {"type": "image_url", "image_url": {"url": _image_url(45, 33, 2, "PNG")}},
]}]


def _chat(trt, processor, media_io_kwargs=None):
    srv = server(trt, processor, media_io_kwargs=media_io_kwargs)
    try:
        return asyncio.run(srv.chat_multimodal(MESSAGES))
    finally:
        if hasattr(srv, "shutdown"):
            srv.shutdown()


@pytest.mark.parametrize("generation", ["v1_2", "main"])
@pytest.mark.parametrize("model_type", ["qwen3_vl", "qwen2_5_vl"])
@pytest.mark.parametrize("image_format", [None, "pil"])
def test_image_only_requests_equal_stock_through_the_memo(generation, model_type, image_format, tmp_path):
    kw = {"image": {"format": image_format}} if image_format else None
    with use_standin(generation) as trt:
        model_dir = make_model_dir(tmp_path / "m", model_type=model_type)
        stock_ids, stock = _chat(trt, make_processor(model_dir), kw)
        mmfast.enable()
        try:
            mmfast.stats(reset=True)
            processor = make_processor(model_dir)
            assert type(processor).__name__.startswith("Fast")
            ids, extra = _chat(trt, processor, kw)
            ids2, _ = _chat(trt, processor, kw)  # the same processor again: a memo hit
            assert mmfast.stats()["image_requests"] == 2
            memo = processor._mmfast.memo
            assert memo.misses >= 1 and memo.hits >= 1
        finally:
            mmfast.disable()
    assert ids == stock_ids == ids2
    got, want = extra["multimodal_data"]["image"], stock["multimodal_data"]["image"]
    assert len(want["image_grid_thw"]) == 2
    for key in ("pixel_values", "image_grid_thw"):
        assert got[key].dtype == want[key].dtype and torch.equal(got[key], want[key]), key
    if "mrope_config" in stock["multimodal_data"]:
        for key, value in stock["multimodal_data"]["mrope_config"].items():
            assert torch.equal(extra["multimodal_data"]["mrope_config"][key], value), key


@pytest.mark.parametrize("generation", ["v1_2", "main"])
@pytest.mark.parametrize("sampling", ["trtllm", "hf"])
def test_mixed_pt_images_and_video_follow_stocks_one_rescale_flag(generation, sampling, tmp_path):
    """Stock hands the HF processor ONE ``do_rescale``: False when the first image is a "pt"
    tensor, also for main's uint8 "np" video frames (left unscaled). Policy ``trtllm`` gives
    exactly that; policy ``hf`` rescales our uint8 frames as transformers would."""
    from conftest import clip_bytes
    from trtllm_harness import data_url
    from trtllm_mmfast.synth import ClipSpec

    clip = data_url(clip_bytes(ClipSpec(width=64, height=48, num_frames=50, fps=25, gop=25)))
    msgs = [{"role": "user", "content": [MESSAGES[0]["content"][0], {"type": "video_url", "video_url": {"url": clip}},
                                         {"type": "text", "text": "What is shown?"}]}]
    with use_standin(generation) as trt:
        model_dir = make_model_dir(tmp_path / "m")

        def chat(processor):
            srv = server(trt, processor)
            try:
                return asyncio.run(srv.chat_multimodal(msgs))
            finally:
                if hasattr(srv, "shutdown"):
                    srv.shutdown()

        stock_ids, stock = chat(make_processor(model_dir))
        mmfast.enable(video_sampling=sampling)
        try:
            ids, extra = chat(make_processor(model_dir))
        finally:
            mmfast.disable()
    got, want = extra["multimodal_data"], stock["multimodal_data"]
    assert torch.equal(got["image"]["pixel_values"], want["image"]["pixel_values"])
    same_video = torch.equal(got["video"]["pixel_values_videos"], want["video"]["pixel_values_videos"])
    if sampling == "trtllm":
        assert ids == stock_ids and same_video
    elif generation == "main":  # hf: our frames rescaled, stock's unscaled uint8 frames differ
        assert not same_video and float(got["video"]["pixel_values_videos"].abs().max()) < 10
