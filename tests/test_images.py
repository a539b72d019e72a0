"""Images: ``trtllm_mmfast.image`` decodes the pixels TensorRT-LLM's image loader gives (the
stand-in ``ImageMediaIO``, written from its source: PIL open + load, RGBA on white, PIL's RGB
conversion, no EXIF rotation, ``"pt"`` = ``ToTensor``), and ``processors._images.image_inputs``
hands them to the HF image processor as views with outputs equal to the stock call's."""

from __future__ import annotations

import asyncio
import base64
import io
import struct
import zlib

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from PIL import Image  # noqa: E402

from trtllm_mmfast.errors import InvalidMediaError, MediaTooLargeError  # noqa: E402
from trtllm_mmfast.image import ImageLimits, chw_float, load_image, load_image_async, open_rgb  # noqa: E402
from trtllm_mmfast.processors._images import image_inputs  # noqa: E402
from trtllm_standins.standin import use_standin  # noqa: E402


def _pattern(h: int, w: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    """Smooth gradients plus noise: compresses like a photo, every value range covered."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 7) % 256] + [(x * y) % 256] * 3, -1)
    noisy = base[..., :channels] + rng.integers(-20, 21, (h, w, channels))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _png16_rgb(h: int, w: int) -> bytes:
    import cv2

    a = (_pattern(h, w).astype(np.uint32) * 257 + np.arange(w, dtype=np.uint32)[None, :, None]) % 65536
    ok, enc = cv2.imencode(".png", a.astype(np.uint16))
    assert ok
    return enc.tobytes()


def _exif_rotated_jpeg() -> bytes:
    img = Image.fromarray(_pattern(24, 40))
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    return _save(img, "JPEG", quality=90, exif=exif.tobytes())


def _images() -> dict[str, bytes]:
    rgba = _pattern(45, 67, 4)
    rgba[..., 3] = np.linspace(0, 255, 67, dtype=np.uint8)[None, :]  # every alpha level
    pal = Image.fromarray(_pattern(30, 50)).quantize(64)
    gray16 = (np.arange(40 * 60, dtype=np.uint32).reshape(40, 60) * 27 % 65536).astype(np.uint16)
    return {
        "jpeg": _save(Image.fromarray(_pattern(360, 640)), "JPEG", quality=90),
        "jpeg_odd_size": _save(Image.fromarray(_pattern(37, 53)), "JPEG", quality=75),
        "jpeg_exif_rotated": _exif_rotated_jpeg(),
        "jpeg_gray": _save(Image.fromarray(_pattern(33, 71, 1)[..., 0]), "JPEG"),
        "jpeg_cmyk": _save(Image.fromarray(_pattern(30, 40, 4), "CMYK"), "JPEG"),
        "png_rgb_thin": _save(Image.fromarray(_pattern(3, 101)), "PNG"),
        "png_rgba": _save(Image.fromarray(rgba, "RGBA"), "PNG"),
        "png_gray": _save(Image.fromarray(_pattern(50, 29, 1)[..., 0]), "PNG"),
        "png_gray16": _save(Image.fromarray(gray16), "PNG"),  # PIL mode I;16
        "png_rgb16": _png16_rgb(31, 47),
        "png_la": _save(Image.fromarray(_pattern(20, 30, 2), "LA"), "PNG"),
        "png_palette_transparency": _save(pal, "PNG", transparency=3),
        "png_rgb_color_key": _save(Image.fromarray(_pattern(20, 30) // 64 * 64), "PNG", transparency=(64, 0, 128)),
        "gif": _save(pal, "GIF"),
        "webp_rgba": _save(Image.fromarray(rgba, "RGBA"), "WEBP", lossless=True),
    }


IMAGES = _images()


@pytest.fixture(scope="module")
def stock_io():
    """TensorRT-LLM main's ImageMediaIO (stand-in), per format."""
    with use_standin("main") as trt:
        media_io = __import__("tensorrt_llm.inputs.media_io", fromlist=["ImageMediaIO"])
        yield {fmt: media_io.ImageMediaIO(format=fmt) for fmt in ("pt", "pil")}
    assert trt is not None


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_pixels_equal_trtllm_loader(stock_io, name):
    data = IMAGES[name]
    ours = load_image(data)
    stock_pil = stock_io["pil"].load_bytes(data)
    assert ours.dtype == np.uint8 and ours.ndim == 3 and ours.shape[2] == 3 and ours.flags.c_contiguous and ours.flags.writeable
    assert np.array_equal(ours, np.asarray(stock_pil)), name
    stock_pt = stock_io["pt"].load_bytes(data)
    mine = chw_float(ours)
    assert mine.dtype == torch.float32 and mine.is_contiguous() and torch.equal(mine, stock_pt), name


def test_chw_float_equals_to_tensor_for_every_value():
    from torchvision.transforms import ToTensor

    a = (np.arange(257 * 3 * 5) % 256).astype(np.uint8).reshape(5, 257, 3)  # each value in each channel
    want = ToTensor()(Image.fromarray(a))
    got = chw_float(a)
    assert got.shape == (3, 5, 257) and got.dtype == torch.float32 and torch.equal(got, want)


def test_modes_are_converted_as_trtllm_does():
    """RGBA on white; LA / palette lose alpha without a background; 16-bit grey is clipped by PIL."""
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (200, 0, 0, 0)  # fully transparent -> white
    rgba[0, 1] = (200, 0, 0, 255)  # opaque -> itself
    got = load_image(_save(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert got[0, 0].tolist() == [255, 255, 255] and got[0, 1].tolist() == [200, 0, 0]
    la = np.array([[[90, 0]]], np.uint8)  # transparent LA pixel: its grey, not white
    assert load_image(_save(Image.fromarray(la, "LA"), "PNG"))[0, 0].tolist() == [90, 90, 90]
    g16 = np.array([[100, 40000]], np.uint16)
    assert load_image(_save(Image.fromarray(g16), "PNG"))[0].tolist() == [[100] * 3, [255] * 3]


def test_exif_orientation_is_not_applied():
    got = load_image(IMAGES["jpeg_exif_rotated"])
    assert got.shape == (24, 40, 3)  # stored orientation, as TensorRT-LLM's loader keeps it


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_processor_outputs_equal_stock(stock_io, name):
    """The view through Qwen2VLImageProcessor == the stock call on TensorRT-LLM's "pil" image;
    the "pt" tensor we make == stock's "pt" through the processor (do_rescale=False)."""
    from transformers import Qwen2VLImageProcessor

    proc = Qwen2VLImageProcessor()
    data = IMAGES[name]
    ours = load_image(data)
    stock = proc(images=[stock_io["pil"].load_bytes(data)], return_tensors="pt")
    fast = proc(images=image_inputs([load_image(data, transparency="white")]), return_tensors="pt")
    for key in ("pixel_values", "image_grid_thw"):
        assert torch.equal(fast[key], stock[key]), (name, key)
    stock_pt = proc(images=[stock_io["pt"].load_bytes(data)], do_rescale=False, return_tensors="pt")
    fast_pt = proc(images=[chw_float(ours)], do_rescale=False, return_tensors="pt")
    assert torch.equal(fast_pt["pixel_values"], stock_pt["pixel_values"]), name


def test_tiny_processor_with_text_equal_stock(stock_io):
    """Several images of different sizes in one prompt through the tiny Qwen3-VL processor."""
    from trtllm_mmfast.processors.tiny import tiny_processor

    proc = tiny_processor()
    names = ["jpeg", "png_rgba", "png_gray16", "jpeg_exif_rotated", "png_palette_transparency"]
    text = ["<|vision_start|><|image_pad|><|vision_end|>" * len(names) + "Describe."]
    stock = proc(text=text, images=[stock_io["pil"].load_bytes(IMAGES[n]) for n in names], return_tensors="pt")
    fast = proc(text=text, images=image_inputs([load_image(IMAGES[n], transparency="white") for n in names]), return_tensors="pt")
    for key in ("input_ids", "pixel_values", "image_grid_thw"):
        assert torch.equal(fast[key], stock[key]), key


def test_image_inputs_views_and_pass_through():
    arr = load_image(IMAGES["jpeg_odd_size"])
    pil = Image.new("RGB", (4, 4))
    flt = torch.zeros(3, 4, 4)
    gray = np.zeros((4, 4), np.uint8)
    out = image_inputs([arr, pil, flt, gray])
    view = out[0]
    assert view.shape == (3, 37, 53) and view.dtype == torch.uint8
    assert view.data_ptr() == arr.ctypes.data  # no copy
    assert torch.equal(view.permute(1, 2, 0), torch.from_numpy(arr))
    assert out[1] is pil and out[2] is flt and out[3] is gray
    nested = image_inputs([[arr], [pil, arr]])
    assert [len(b) for b in nested] == [1, 2] and nested[1][0] is pil
    assert nested[0][0].data_ptr() == nested[1][1].data_ptr() == arr.ctypes.data


def test_sources_give_the_same_pixels(tmp_path):
    data = IMAGES["png_rgba"]
    path = tmp_path / "a b.png"
    path.write_bytes(data)
    want = load_image(data)
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    for src in (str(path), path, path.as_uri(), url, bytearray(data), memoryview(data)):
        assert np.array_equal(load_image(src), want), src
    assert np.array_equal(asyncio.run(load_image_async(path.as_uri())), want)


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow warns at open; we refuse
def test_limits(no_leaks):
    small = IMAGES["jpeg_odd_size"]  # 53 x 37
    with pytest.raises(MediaTooLargeError) as e:
        load_image(small, limits=ImageLimits(max_pixels=53 * 37 - 1))
    assert e.value.field == "ImageLimits.max_pixels" and e.value.value == 53 * 37
    with pytest.raises(MediaTooLargeError) as e:
        load_image(small, limits=ImageLimits(max_bytes=100))
    assert e.value.field == "ImageLimits.max_bytes"
    with pytest.raises(MediaTooLargeError) as e:  # a bomb: 12000 x 12000 claimed by a 60-byte file
        load_image(_png_header_only(12000, 12000))
    assert e.value.field == "ImageLimits.max_pixels" and "12000x12000" in str(e.value)
    with pytest.raises(MediaTooLargeError):  # beyond Pillow's own bomb limit too
        load_image(_png_header_only(100000, 100000), limits=ImageLimits(max_pixels=None))
    assert load_image(small, limits=ImageLimits(max_pixels=None, max_bytes=None)).shape == (37, 53, 3)


@pytest.mark.parametrize(
    "source, message",
    [
        (b"", "0 bytes"),
        (b"definitely not an image", "not a decodable image"),
        (IMAGES["jpeg"][:400], "not a decodable image"),  # cut inside the header
        (IMAGES["jpeg"][:3000], "could not be decoded"),  # cut inside the scan
        (_png_header_only(8, 8), "could not be decoded"),  # IDAT too short for the claimed size
        ("data:image/png;base64,@@@", "not valid base64"),
        ("data:text/plain;base64,aGk=", "not an image type"),
        ("data:image/png,abc", "base64"),
        ("/nonexistent/x.png", "image file not found"),
        ("http://example.com/a.png", "not fetched"),
        ("ftp://example.com/a.png", "unsupported URL scheme"),
    ],
)
def test_bad_input_raises_typed_errors(no_leaks, source, message):
    with pytest.raises(InvalidMediaError, match=message):
        load_image(source)


def test_color_key_white_is_what_hf_sees(stock_io):
    """A colour-keyed PNG: "keep" = TensorRT-LLM's pixels; "white" = the key colour on white."""
    data = IMAGES["png_rgb_color_key"]
    keep, white = load_image(data), load_image(data, transparency="white")
    assert np.array_equal(keep, np.asarray(stock_io["pil"].load_bytes(data)))
    key = (keep == (64, 0, 128)).all(-1)
    assert key.any() and (white[key] == 255).all() and np.array_equal(white[~key], keep[~key])
    with pytest.raises(ValueError, match="transparency"):
        load_image(data, transparency="black")


def test_open_rgb_is_trtllm_pil_image(stock_io):
    data = IMAGES["png_palette_transparency"]
    ours, stock = open_rgb(data), stock_io["pil"].load_bytes(data)
    assert ours.mode == stock.mode == "RGB" and ours.size == stock.size and ours.tobytes() == stock.tobytes()
