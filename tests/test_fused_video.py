"""The fused video tail (``processors._fused_video``): every output key torch.equal to stock
transformers, for both families, and the stock path wherever it does not apply."""

from __future__ import annotations

import copy
import logging
import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("transformers")

from conftest import clip_bytes, reference_frames  # noqa: E402
from trtllm_mmfast import load_video  # noqa: E402
from trtllm_mmfast.cache import VideoCache  # noqa: E402
from trtllm_mmfast.processors import _fused_video, registry  # noqa: E402
from trtllm_mmfast.processors._video_cache import CachedVideoProcessing  # noqa: E402
from trtllm_mmfast.processors.tiny import tiny_processor  # noqa: E402
from trtllm_mmfast.synth import ClipSpec  # noqa: E402
from trtllm_mmfast.types import VideoFrames, VideoMetadata  # noqa: E402

PROMPT = "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>What happens?<|im_end|>\n"
IMAGE_PROMPT = "<|vision_start|><|image_pad|><|vision_end|>"
FAMILIES = ["qwen3_vl", "qwen2_vl", "qwen2_5_vl"]

CLIPS = [
    ClipSpec(width=97, height=61, num_frames=75, fps=24, pix_fmt="yuv444p", gop=24, bframes=2),  # odd size
    ClipSpec(width=374, height=374, num_frames=24, fps=12, gop=12),  # the profiled size
    ClipSpec(width=128, height=96, num_frames=61, fps=30, gop=30, bframes=3),  # odd frame count
    ClipSpec(width=160, height=90, num_frames=50, fps=25, gop=25),
]
# fps / num_frames variants; odd counts pad the last temporal patch (qwen3_vl; qwen2 rounds)
REQUESTS = [{}, {"fps": 2}, {"fps": 3}, {"num_frames": 5}, {"num_frames": 8}]


def _ids(spec: ClipSpec) -> str:
    return f"{spec.width}x{spec.height}-{spec.num_frames}f"


def _module(family: str):
    return registry.get("qwen3_vl" if family == "qwen3_vl" else "qwen2_vl")


@pytest.fixture(scope="module", params=FAMILIES)
def family(request):
    return request.param


@pytest.fixture(scope="module")
def fast(family):
    return _module(family).wrap(tiny_processor(family=family))


@pytest.fixture(scope="module")
def stock_processor(family):
    return tiny_processor(family=family)  # never wrapped: plain transformers


def stock(processor, family: str, data: bytes, text: str, **req):
    """Stock transformers given every decoded frame and full metadata, sampling itself."""
    frames = reference_frames(data)
    fps = load_video(data, num_frames=2).metadata.fps
    meta = {"total_num_frames": len(frames), "fps": fps, "duration": len(frames) / fps, "frames_indices": list(range(len(frames)))}
    if family == "qwen3_vl":
        sampling = {"do_sample_frames": True, **req}
        if "num_frames" in req:
            sampling["fps"] = None  # transformers fills fps from its default and rejects both
    else:
        sampling = {"do_sample_frames": True, **req} if req else {}  # Qwen2-VL: no target keeps all frames
    return processor(text=[text], videos=[frames], video_metadata=[meta], return_tensors="pt", **sampling)


def assert_all_equal(out, ref) -> None:
    """Every output key, bit for bit (tensors with torch.equal and the same dtype)."""
    assert sorted(out.keys()) == sorted(ref.keys())
    for k in ref:
        a, b = out[k], ref[k]
        if isinstance(b, torch.Tensor):
            assert isinstance(a, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), k
        else:
            assert a == b, k


class Counted:
    """How many fused / stock video tails ran inside the block (``_fused_video.stats`` deltas)."""

    def __enter__(self):
        self.before = _fused_video.stats()
        return self

    def __exit__(self, *exc):
        after = _fused_video.stats()
        self.delta = {k: after.get(k, 0) - self.before.get(k, 0) for k in after if after.get(k, 0) != self.before.get(k, 0)}

    def reasons(self) -> list[str]:
        return [k[len("stock: "):] for k in self.delta if k.startswith("stock: ")]


def _warm(fast, family: str) -> None:
    """The first call per class with cap_pixels_per_frame unset runs stock (transformers' warning)."""
    data = clip_bytes(CLIPS[2])
    fast(text=[PROMPT], videos=load_video(data, num_frames=4, sampler=fast.sampler))


@pytest.mark.parametrize("spec", CLIPS, ids=_ids)
@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: ",".join(f"{k}={v}" for k, v in r.items()) or "default")
def test_fused_equals_stock(fast, stock_processor, family, spec, req):
    _warm(fast, family)
    data = clip_bytes(spec)
    video = load_video(data, sampler=fast.sampler, **req)
    with Counted() as c:
        out = fast(text=[PROMPT], videos=video, **req)
    assert c.delta == {"fused": 1}
    assert_all_equal(out, stock(stock_processor, family, data, PROMPT, **req))


@pytest.mark.parametrize("spec", [CLIPS[0], CLIPS[1]], ids=_ids)
def test_pre_resized_frames(fast, stock_processor, family, spec):
    """Frames resized at decode time: do_resize=False, the fused tail reads the zero-copy view."""
    _warm(fast, family)
    data = clip_bytes(spec)
    video = load_video(data, fps=4, sampler=fast.sampler, resize_for=fast)
    assert video.metadata.frames_size is not None
    with Counted() as c:
        out = fast(text=[PROMPT], videos=video)
    assert c.delta == {"fused": 1}
    assert_all_equal(out, stock(stock_processor, family, data, PROMPT, fps=4))


def test_several_videos_grouped_by_shape_and_an_image(fast, stock_processor, family):
    """Three videos (two of one shape and frame count, stacked into one group by transformers,
    one other, not adjacent) and an image in one request: order and rows as stock."""
    _warm(fast, family)
    a, b = clip_bytes(CLIPS[2]), clip_bytes(CLIPS[0])
    image = np.random.default_rng(3).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    va1 = load_video(a, num_frames=6, sampler=fast.sampler)
    vb = load_video(b, num_frames=5, sampler=fast.sampler)
    va2 = load_video(a, num_frames=6, sampler=fast.sampler)
    text = PROMPT + IMAGE_PROMPT + PROMPT + PROMPT
    with Counted() as c:
        out = fast(text=[text], images=[image], videos=[va1, vb, va2])
    assert c.delta == {"fused": 1}
    videos = [v.frames for v in (va1, vb, va2)]
    metas = [v.metadata.to_hf() for v in (va1, vb, va2)]
    ref = stock_processor(text=[text], images=[image], videos=videos, video_metadata=metas, do_sample_frames=False,
                          return_tensors="pt")  # fmt: skip
    assert_all_equal(out, ref)


def test_raw_arrays_and_several_prompts(fast, stock_processor, family):
    """Raw uint8 (N, H, W, 3) arrays with their metadata, two prompts in one batch."""
    _warm(fast, family)
    rng = np.random.default_rng(7)
    frames = [rng.integers(0, 256, (n, 61, 97, 3), dtype=np.uint8) for n in (3, 4)]
    metas = [{"total_num_frames": len(f), "fps": 10.0, "frames_indices": list(range(len(f)))} for f in frames]
    with Counted() as c:
        out = fast(text=[PROMPT, PROMPT + "and then?"], videos=frames, video_metadata=metas, padding=True)
    assert c.delta == {"fused": 1}
    ref = stock_processor(text=[PROMPT, PROMPT + "and then?"], videos=frames, video_metadata=metas, padding=True,
                          do_sample_frames=False, return_tensors="pt")  # fmt: skip
    assert_all_equal(out, ref)


@pytest.mark.parametrize("cap", [True, False])
def test_cap_pixels_per_frame_set(family, cap):
    hf, ref_hf = tiny_processor(family=family), tiny_processor(family=family)
    hf.video_processor.cap_pixels_per_frame = ref_hf.video_processor.cap_pixels_per_frame = cap
    fast = _module(family).wrap(hf)
    data = clip_bytes(CLIPS[1])
    with Counted() as c:
        out = fast(text=[PROMPT], videos=load_video(data, fps=4, sampler=fast.sampler))
    assert c.delta == {"fused": 1}
    assert_all_equal(out, stock(ref_hf, family, data, PROMPT, fps=4))


def _call_both(fast, stock_processor, videos, metas, **kwargs):
    with Counted() as c:
        out = fast(text=[PROMPT], videos=videos, video_metadata=metas, **kwargs)
    ref = stock_processor(text=[PROMPT], videos=videos, video_metadata=metas, do_sample_frames=False,
                          return_tensors="pt", **kwargs)  # fmt: skip
    assert_all_equal(out, ref)
    return c


def _float_video(n: int = 4, h: int = 61, w: int = 97):
    frames = np.random.default_rng(1).integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    t = torch.from_numpy(frames).permute(0, 3, 1, 2).float().div(255)  # TensorRT-LLM 1.2.x's "pt" frames
    return [t], [{"total_num_frames": n, "fps": 8.0, "frames_indices": list(range(n))}]


def test_float_frames_fall_back(fast, stock_processor, family):
    _warm(fast, family)
    videos, metas = _float_video()
    c = _call_both(fast, stock_processor, videos, metas, do_rescale=False)
    assert c.delta["stock"] == 1 and "fused" not in c.delta
    assert c.reasons() == ["frames are not CPU uint8 (T, C, H, W) tensors (torch.float32 on cpu)"]


def test_do_normalize_false_and_do_rescale_false(family):
    fast, ref = _module(family).wrap(tiny_processor(family=family)), tiny_processor(family=family)
    _warm(fast, family)
    frames = np.random.default_rng(2).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    metas = [{"total_num_frames": 4, "fps": 8.0, "frames_indices": [0, 1, 2, 3]}]
    c = _call_both(fast, ref, [frames], metas, videos_kwargs={"do_normalize": False})
    assert c.reasons() == ["do_normalize=False"]
    c = _call_both(fast, ref, [frames], metas, videos_kwargs={"do_rescale": False})  # uint8, unscaled mean/std
    assert c.delta == {"fused": 1}


def test_unresized_frames_not_a_patch_multiple_raise_as_stock(family):
    fast, ref = _module(family).wrap(tiny_processor(family=family)), tiny_processor(family=family)
    _warm(fast, family)
    frames = np.zeros((4, 61, 97, 3), np.uint8)
    metas = [{"total_num_frames": 4, "fps": 8.0, "frames_indices": [0, 1, 2, 3]}]
    kw = {"videos_kwargs": {"do_resize": False}}
    with pytest.raises(Exception) as stock_error:
        ref(text=[PROMPT], videos=[frames], video_metadata=metas, do_sample_frames=False, **kw)
    with Counted() as c, pytest.raises(type(stock_error.value)):
        fast(text=[PROMPT], videos=[frames], video_metadata=metas, **kw)
    assert c.reasons() == ["frames not resized and not a multiple of patch_size * merge_size (stock raises its error)"]


def test_overridden_or_unaudited_code_falls_back(family, monkeypatch):
    """A subclass overriding patchify, an instance override, another transformers source."""
    hf, ref = tiny_processor(family=family), tiny_processor(family=family)
    vp_cls = type(hf.video_processor)

    class Custom(vp_cls):
        def patchify(self, *args, **kwargs):
            return super().patchify(*args, **kwargs)

    hf.video_processor = Custom(**hf.video_processor.to_dict())
    hf.video_processor.cap_pixels_per_frame = ref.video_processor.cap_pixels_per_frame = False
    fast = _module(family).wrap(hf)
    frames = np.random.default_rng(4).integers(0, 256, (4, 64, 96, 3), dtype=np.uint8)
    metas = [{"total_num_frames": 4, "fps": 8.0, "frames_indices": [0, 1, 2, 3]}]
    c = _call_both(fast, ref, [frames], metas)
    assert c.reasons() == [f"Custom.patchify is {Custom.patchify.__qualname__}, not an audited stock function"]

    hf.video_processor = vp_cls(**ref.video_processor.to_dict())
    hf.video_processor.rescale_and_normalize = ref.video_processor.rescale_and_normalize
    c = _call_both(fast, ref, [frames], metas)
    assert c.reasons() == [f"{vp_cls.__name__}.rescale_and_normalize is overridden on the instance"]

    hf.video_processor = vp_cls(**ref.video_processor.to_dict())
    monkeypatch.setitem(_fused_video._AUDITED, f"{vp_cls.__name__}._preprocess", "0" * 16)
    monkeypatch.setattr(_fused_video, "_class_reasons", {})
    c = _call_both(fast, ref, [frames], metas)
    assert c.reasons() == [f"{vp_cls.__name__}._preprocess differs from the audited stock source (another transformers version?)"]


def test_guard_catches_float_ops_that_differ(family, monkeypatch):
    """Per normalisation, all 256 values go through stock rescale_and_normalize and the fused
    ops once: a difference keeps that config on the stock path."""
    fast, ref = _module(family).wrap(tiny_processor(family=family)), tiny_processor(family=family)
    _warm(fast, family)

    def wrong(out, u8, mean, std):  # multiply by the reciprocal: not stock's division
        out.copy_(u8)
        out.sub_(mean)
        out.mul_(1.0 / std)

    monkeypatch.setattr(_fused_video, "_normalize_into", wrong)
    monkeypatch.setattr(_fused_video, "_checked", {})
    frames = np.random.default_rng(5).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    metas = [{"total_num_frames": 4, "fps": 8.0, "frames_indices": [0, 1, 2, 3]}]
    c = _call_both(fast, ref, [frames], metas)
    assert c.reasons() == ["the fused float ops differ from rescale_and_normalize for this normalisation"]


def test_first_call_shows_transformers_cap_warning(family, caplog):
    fast = _module(family).wrap(tiny_processor(family=family))
    warned, logged = set(_fused_video._warned), set(_fused_video._logged)
    _fused_video._warned.clear()
    _fused_video._logged.clear()
    try:
        with caplog.at_level(logging.DEBUG, logger="trtllm_mmfast.processors._fused_video"), Counted() as c:
            _warm(fast, family)
            _warm(fast, family)
    finally:
        _fused_video._warned.update(warned)
        _fused_video._logged.update(logged)
    assert c.delta["fused"] == 1 and c.delta["stock"] == 1
    assert any("cap_pixels_per_frame unset" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


def test_fallback_reason_logged_once_at_info(fast, stock_processor, family, caplog):
    _warm(fast, family)
    monkeyed = set(_fused_video._logged)
    _fused_video._logged.clear()
    try:
        with caplog.at_level(logging.INFO, logger="trtllm_mmfast.processors._fused_video"):
            for _ in range(2):
                _call_both(fast, stock_processor, *_float_video(), do_rescale=False)
    finally:
        _fused_video._logged.update(monkeyed)
    lines = [r for r in caplog.records if r.name == "trtllm_mmfast.processors._fused_video"]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO and "not CPU uint8" in lines[0].getMessage()


def test_hook_is_inert_outside_the_fast_call_and_optional(family):
    hf = tiny_processor(family=family)
    fast = _module(family).wrap(hf)
    assert isinstance(hf.__dict__["_process_videos"], _fused_video.FusedVideoProcessing) and fast.fused
    frames = np.random.default_rng(6).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    metas = [{"total_num_frames": 4, "fps": 8.0, "frames_indices": [0, 1, 2, 3]}]
    with Counted() as c:
        direct = hf(text=[PROMPT], videos=[frames], video_metadata=metas, return_tensors="pt")
    assert c.delta == {}  # the HF processor called directly stays stock
    assert_all_equal(direct, tiny_processor(family=family)(text=[PROMPT], videos=[frames], video_metadata=metas,
                                                           return_tensors="pt"))  # fmt: skip

    plain_hf = tiny_processor(family=family)
    plain = _module(family).wrap(plain_hf, fused=False)
    assert not plain.fused and "_process_videos" not in plain_hf.__dict__  # the ablation leaves it untouched
    assert _module(family).wrap(plain) is plain and _module(family).wrap(fast) is fast
    refused = _module(family).wrap(plain, fused=True)
    assert refused.fused and refused.hf is plain_hf and refused.memo is plain.memo
    with Counted() as c:
        a = plain(text=[PROMPT], videos=[frames], video_metadata=metas)
        b = refused(text=[PROMPT], videos=[frames], video_metadata=metas)
    assert c.delta.get("fused", 0) + c.delta.get("stock: first call with cap_pixels_per_frame unset: stock shows "
                                                 "transformers' warning about it", 0) == 1  # fmt: skip
    assert_all_equal(a, b)


@pytest.mark.parametrize("cache_first", [False, True])
def test_under_the_processed_video_cache(family, cache_first):
    hf = tiny_processor(family=family)
    cache = VideoCache(64 << 20)
    if cache_first:  # the cache put in place before the fused hook: the hook goes under it
        _module(family).wrap(hf, cache=cache, fused=False)
    fast = _module(family).wrap(hf, cache=cache)
    wrapper = hf.__dict__["_process_videos"]
    assert isinstance(wrapper, CachedVideoProcessing) and isinstance(wrapper.original, _fused_video.FusedVideoProcessing)
    _warm(fast, family)
    data = clip_bytes(CLIPS[0])
    with Counted() as c:
        cold = fast(text=[PROMPT], videos=load_video(data, fps=4, sampler=fast.sampler, cache=cache))
        hit = fast(text=[PROMPT + "again"], videos=load_video(data, fps=4, sampler=fast.sampler, cache=cache))
    assert c.delta == {"fused": 1}  # the second call is a cache hit
    ref = tiny_processor(family=family)
    assert_all_equal(cold, stock(ref, family, data, PROMPT, fps=4))
    assert_all_equal(hit, stock(ref, family, data, PROMPT + "again", fps=4))


def test_wrapped_processor_copies_and_saves(family, tmp_path):
    hf = tiny_processor(family=family)
    fast = _module(family).wrap(hf)
    clone = copy.deepcopy(hf)
    assert isinstance(clone.__dict__["_process_videos"], _fused_video.FusedVideoProcessing)
    assert clone.__dict__["_process_videos"].original.__self__ is clone
    assert "video_processor_type" in hf.video_processor.to_json_string()  # the video processor is untouched
    hf.save_pretrained(tmp_path)
    repr(hf)
    frames = np.random.default_rng(8).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8)
    metas = [{"total_num_frames": 5, "fps": 8.0, "frames_indices": list(range(5))}]
    assert_all_equal(_module(family).wrap(clone)(text=[PROMPT], videos=[frames], video_metadata=metas),
                     fast(text=[PROMPT], videos=[frames], video_metadata=metas))  # fmt: skip


def test_concurrent_calls(fast, stock_processor, family):
    _warm(fast, family)
    videos = [VideoFrames(np.random.default_rng(i).integers(0, 256, (4, 61, 97, 3), dtype=np.uint8),
                          VideoMetadata(40, 10.0, 4.0, 97, 61, (0, 10, 20, 30), "opencv")) for i in range(4)]  # fmt: skip
    results: dict[int, object] = {}

    def run(i: int) -> None:
        for _ in range(3):
            results[i] = fast(text=[PROMPT], videos=videos[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, v in enumerate(videos):
        ref = stock_processor(text=[PROMPT], videos=[v.frames], video_metadata=[v.metadata.to_hf()],
                              do_sample_frames=False, return_tensors="pt")  # fmt: skip
        assert_all_equal(results[i], ref)
