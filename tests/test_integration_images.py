"""The image-loader hook (``integrations.tensorrt_llm._image_loader``) against the stand-ins:
every format TensorRT-LLM has ("pt", "pil") comes out equal to its stock loader's, on main
(``MEDIA_IO_REGISTRY["image"]``), the 2026 window and 1.2 (``chat_utils.async_load_image``);
a chat request mixing images and a video reaches the stock Qwen3-VL input processor with
model inputs ``torch.equal`` to stock's, in TensorRT-LLM's item order."""

from __future__ import annotations

import asyncio
import base64
import io
import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from PIL import Image  # noqa: E402

from conftest import clip_bytes  # noqa: E402
from trtllm_harness import standin_fixture  # noqa: E402
from trtllm_harness import data_url, make_processor, mod, server  # noqa: E402
from trtllm_mmfast.errors import InvalidMediaError, MediaTooLargeError  # noqa: E402
from trtllm_mmfast.integrations import tensorrt_llm as mmfast  # noqa: E402
from trtllm_mmfast.integrations.tensorrt_llm import _image_loader  # noqa: E402
from trtllm_mmfast.integrations.tensorrt_llm._detect import detect  # noqa: E402
from trtllm_mmfast.synth import ClipSpec  # noqa: E402
from trtllm_standins.standin import use_standin  # noqa: E402

IMAGE_PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>"


def _pattern(h: int, w: int, c: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x * y) % 256, (x + y) * 3 % 256][:c], -1)
    return np.clip(base + rng.integers(-15, 16, (h, w, c)), 0, 255).astype(np.uint8)


def _encode(arr: np.ndarray, fmt: str, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, fmt)
    return buf.getvalue()


JPEG = _encode(_pattern(90, 120, 3, 1), "JPEG")
PNG_RGBA = _encode(_pattern(61, 47, 4, 2), "PNG", "RGBA")
PNG_GRAY = _encode(_pattern(40, 64, 1, 3)[..., 0], "PNG")


def _url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


trt = standin_fixture()


@pytest.fixture(scope="module")
def clip_url():
    return data_url(clip_bytes(ClipSpec(width=64, height=48, num_frames=50, fps=25, gop=25)))


def _load(trt, url: str, fmt: str):
    """One image through the stand-in server's own loader call."""
    chat_utils = mod("tensorrt_llm.serve.chat_utils")
    if trt.STANDIN.startswith("main"):
        return asyncio.run(chat_utils._make_media_io("image", None, {"image": {"format": fmt}}).async_load(url))
    return asyncio.run(chat_utils.async_load_image(url, format=fmt))


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    return isinstance(b, Image.Image) and a.mode == b.mode == "RGB" and a.size == b.size and a.tobytes() == b.tobytes()


def _apply_hook():
    action = _image_loader.image_loader(detect())
    assert action.hook.status == "applied" and action.apply is not None
    return action.apply()


@pytest.mark.parametrize("fmt", ["pt", "pil"])
def test_loader_output_equals_stock(trt, fmt, tmp_path, monkeypatch):
    monkeypatch.setenv("TRTLLM_MMFAST_ALLOWED_MEDIA_ROOTS", str(tmp_path))
    path = tmp_path / "g.png"
    path.write_bytes(PNG_GRAY)
    sources = [_url(JPEG, "image/jpeg"), _url(PNG_RGBA), path.as_uri()]
    stock = [_load(trt, s, fmt) for s in sources]
    mmfast.stats(reset=True)
    undo = _apply_hook()
    try:
        ours = [_load(trt, s, fmt) for s in sources]
        assert mmfast.stats()["images_loaded"] == len(sources)
    finally:
        undo()
    for s, a, b in zip(sources, ours, stock):
        assert _same(a, b), (trt.STANDIN, fmt, s[:30])
    assert not any(k.startswith("stock_fallback") for k in mmfast.stats())


def test_main_registry_swap_and_undo():
    with use_standin("main") as trt:
        media_io, chat_utils = mod("tensorrt_llm.inputs.media_io"), mod("tensorrt_llm.serve.chat_utils")
        original = media_io.MEDIA_IO_REGISTRY
        undo = _apply_hook()
        fast = media_io.MEDIA_IO_REGISTRY["image"]
        assert fast.__name__ == "FastImageMediaIO" and issubclass(fast, media_io.ImageMediaIO)
        assert chat_utils.MEDIA_IO_REGISTRY is media_io.MEDIA_IO_REGISTRY
        assert media_io.MEDIA_IO_REGISTRY["video"] is original["video"]
        with pytest.raises(ValueError, match="format must be one of"):  # stock's own validation
            fast(format="np")
        undo()
        assert media_io.MEDIA_IO_REGISTRY is original and chat_utils.MEDIA_IO_REGISTRY is original
        assert trt is not None


def test_composes_with_the_video_hook():
    """Applied after enable() (whose video hook replaced the registry): both fast classes."""
    with use_standin("main"):
        media_io = mod("tensorrt_llm.inputs.media_io")
        original = media_io.MEDIA_IO_REGISTRY
        mmfast.enable()
        undo = _apply_hook()
        reg = media_io.MEDIA_IO_REGISTRY
        assert reg["image"].__name__ == "FastImageMediaIO" and reg["video"].__name__ == "FastVideoMediaIO"
        undo()
        assert media_io.MEDIA_IO_REGISTRY["video"].__name__ == "FastVideoMediaIO"
        mmfast.disable()
        assert media_io.MEDIA_IO_REGISTRY is original


def _mixed_messages(clip_url: str) -> list:
    return [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": _url(JPEG, "image/jpeg")}},
        {"type": "video_url", "video_url": {"url": clip_url}},
        {"type": "text", "text": "What is shown?"},
        {"type": "image_url", "image_url": {"url": _url(PNG_RGBA)}},
    ]}]


def _chat(trt, model_dir, msgs, media_io_kwargs=None):
    srv = server(trt, make_processor(model_dir), media_io_kwargs=media_io_kwargs)
    try:
        return asyncio.run(srv.chat_multimodal(msgs))
    finally:
        if hasattr(srv, "shutdown"):
            srv.shutdown()


@pytest.mark.parametrize("image_format", [None, "pil"])
def test_mixed_request_model_inputs_equal_stock(trt, model_dir, clip_url, image_format):
    """[image A, video, text, image B] through the stand-in server and its stock Qwen3-VL
    input processor: ids and every model input equal stock's (images in prompt order)."""
    kw = {"image": {"format": image_format}} if image_format else None
    msgs = _mixed_messages(clip_url)
    stock_ids, stock = _chat(trt, model_dir, msgs, kw)
    mmfast.stats(reset=True)
    undo = _apply_hook()
    try:
        ids, extra = _chat(trt, model_dir, msgs, kw)
    finally:
        undo()
    assert mmfast.stats()["images_loaded"] == 2  # ours, not stock's
    assert ids == stock_ids
    img, want = extra["multimodal_data"]["image"], stock["multimodal_data"]["image"]
    assert torch.equal(img["image_grid_thw"], want["image_grid_thw"]) and len(img["image_grid_thw"]) == 2
    assert img["image_grid_thw"][0].tolist() != img["image_grid_thw"][1].tolist()  # order is visible
    assert torch.equal(img["pixel_values"], want["pixel_values"])
    for key in ("pixel_values_videos", "video_grid_thw"):
        assert torch.equal(extra["multimodal_data"]["video"][key], stock["multimodal_data"]["video"][key])


def test_main_item_order_is_trtllm_s(model_dir, clip_url):
    with use_standin("main"):
        chat_utils = mod("tensorrt_llm.serve.chat_utils")
        undo = _apply_hook()
        try:
            _, coro, _, order = chat_utils.parse_chat_messages_coroutines(_mixed_messages(clip_url), None, model_type_override="qwen3_vl")
            mm_data, _ = asyncio.run(coro)
        finally:
            undo()
    assert [(o["modality"], o["index"]) for o in order] == [("image", 0), ("video", 0), ("image", 1)]
    assert [tuple(t.shape[1:]) for t in mm_data["image"]] == [(90, 120), (61, 47)]


def test_v1_2_decodes_off_the_event_loop(monkeypatch):
    with use_standin("v1_2"):
        chat_utils = mod("tensorrt_llm.serve.chat_utils")
        threads: list[str] = []
        real = _image_loader.decode_as

        def spy(*a, **k):
            threads.append(threading.current_thread().name)
            return real(*a, **k)

        monkeypatch.setattr(_image_loader, "decode_as", spy)
        undo = _apply_hook()
        try:
            async def go():
                out = await chat_utils.async_load_image(_url(JPEG, "image/jpeg"))
                return out, threading.current_thread().name

            out, loop_thread = asyncio.run(go())
        finally:
            undo()
    assert out.shape == (3, 90, 120) and threads and threads[0] != loop_thread


def test_v1_2_stock_paths_are_counted(monkeypatch):
    """http(s) URLs and PIL inputs go to 1.2's stock loader; http counted as a fallback."""
    with use_standin("v1_2"):
        chat_utils = mod("tensorrt_llm.serve.chat_utils")
        calls = []

        async def fake_stock(image, format="pt", device="cpu"):
            calls.append((image, format))
            return "stock"

        monkeypatch.setattr(chat_utils, "async_load_image", fake_stock)
        mmfast.stats(reset=True)
        undo = _apply_hook()
        try:
            assert asyncio.run(chat_utils.async_load_image("https://example.com/a.png")) == "stock"
            pil = Image.new("RGB", (2, 2))
            assert asyncio.run(chat_utils.async_load_image(pil, format="pil")) == "stock"
        finally:
            undo()
        assert chat_utils.async_load_image is fake_stock
    assert calls == [("https://example.com/a.png", "pt"), (pil, "pil")]
    assert mmfast.stats()["stock_fallback.image_http"] == 1


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_bad_images_and_policy_give_typed_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("TRTLLM_MMFAST_ALLOWED_MEDIA_ROOTS", raising=False)
    path = tmp_path / "x.png"
    path.write_bytes(PNG_GRAY)
    with use_standin("main") as trt:
        undo = _apply_hook()
        try:
            with pytest.raises(InvalidMediaError, match="local file paths are not allowed"):
                _load(trt, path.as_uri(), "pt")
            with pytest.raises(InvalidMediaError, match="not a decodable image"):
                _load(trt, _url(b"garbage bytes"), "pt")
            with pytest.raises(MediaTooLargeError) as e:  # a 12000 x 12000 canvas claimed by a tiny file
                _load(trt, _url(_png_header(12000, 12000)), "pil")
            assert e.value.field == "ImageLimits.max_pixels"
        finally:
            undo()


def _png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")
