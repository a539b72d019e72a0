"""The contract for Qwen2-VL and Qwen2.5-VL: our path equals stock transformers sampling the
whole video itself (``input_ids``, ``pixel_values_videos``, ``video_grid_thw`` and, for
Qwen2.5-VL, ``second_per_grid_ts``), with the memo, the zero-copy view and the cache on."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("transformers")

from conftest import clip_bytes, reference_frames  # noqa: E402
from trtllm_mmfast import load_video  # noqa: E402
from trtllm_mmfast.cache import VideoCache  # noqa: E402
from trtllm_mmfast.processors import qwen3_vl  # noqa: E402
from trtllm_mmfast.processors.qwen2_vl import FastQwen2VLProcessor, MergeKwargsMemo, sampler_for, wrap  # noqa: E402
from trtllm_mmfast.processors.tiny import tiny_processor  # noqa: E402
from trtllm_mmfast.synth import ClipSpec  # noqa: E402

PROMPT = "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>What happens?<|im_end|>\n"
IMAGE_PROMPT = "<|vision_start|><|image_pad|><|vision_end|>"
FAMILIES = ["qwen2_vl", "qwen2_5_vl"]

# Short clips: with no fps the stock processor keeps every frame (and upsizes small frames
# to its 100k-pixel minimum), so the default request processes the whole clip.
CLIPS = [
    ClipSpec(width=128, height=96, num_frames=90, fps=30, gop=30, bframes=3),  # 3 s
    ClipSpec(width=97, height=61, num_frames=75, fps=24, pix_fmt="yuv444p", gop=24, bframes=2),  # odd size
    ClipSpec(width=96, height=64, num_frames=150, fps=60),  # 2.5 s at 60 fps
    ClipSpec(width=64, height=48, num_frames=125, fps=25, gop=50),  # 5 s
    ClipSpec(width=100, height=60, num_frames=61, fps=29.97, gop=30),  # NTSC rate, odd frame count
]
REQUESTS = [{}, {"fps": 1}, {"fps": 4}, {"num_frames": 8}]


def _ids(spec: ClipSpec) -> str:
    return f"{spec.width}x{spec.height}-{spec.fps}fps-{spec.num_frames}f"


@pytest.fixture(scope="module", params=FAMILIES)
def family(request):
    return request.param


@pytest.fixture(scope="module")
def processor(family, tmp_path_factory):
    # round-trips through save_pretrained / AutoProcessor.from_pretrained(local_files_only=True)
    return tiny_processor(tmp_path_factory.mktemp(f"tiny-{family}"), family=family)


@pytest.fixture(scope="module")
def fresh_processor(family):
    return tiny_processor(family=family)


def stock(processor, data: bytes, text: str, **req):
    """Stock transformers: every decoded frame plus full metadata; it samples when asked to
    (``do_sample_frames`` defaults to False for Qwen2-VL: a request with no target keeps all)."""
    frames = reference_frames(data)
    fps = load_video(data, num_frames=2).metadata.fps
    meta = {"total_num_frames": len(frames), "fps": fps, "duration": len(frames) / fps, "frames_indices": list(range(len(frames)))}
    sampling = {"do_sample_frames": True, **req} if req else {}
    return processor(text=[text], videos=[frames], video_metadata=[meta], return_tensors="pt", **sampling)


def assert_same(fast, ref):
    assert torch.equal(fast["input_ids"], ref["input_ids"])
    assert torch.equal(fast["pixel_values_videos"], ref["pixel_values_videos"])
    assert torch.equal(fast["video_grid_thw"], ref["video_grid_thw"])
    assert ("second_per_grid_ts" in fast) == ("second_per_grid_ts" in ref)
    if "second_per_grid_ts" in ref:
        assert torch.equal(fast["second_per_grid_ts"], ref["second_per_grid_ts"])


@pytest.mark.parametrize("spec", CLIPS, ids=_ids)
@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: ",".join(f"{k}={v}" for k, v in r.items()) or "default")
def test_bit_identical_to_stock(processor, fresh_processor, family, spec, req):
    data = clip_bytes(spec)
    fast = wrap(processor)
    video = load_video(data, sampler=sampler_for(fast), **req)
    out = fast(text=[PROMPT], videos=video, **req)  # request kwargs pass through: sampling is not redone
    ref = stock(fresh_processor, data, PROMPT, **req)
    assert_same(out, ref)
    assert ("second_per_grid_ts" in ref) == (family == "qwen2_5_vl")


def test_second_per_grid_ts_follows_the_sampled_rate():
    fast = wrap(tiny_processor(family="qwen2_5_vl"))
    video = load_video(clip_bytes(CLIPS[2]), fps=4, sampler=sampler_for(fast))  # 150 frames at 60 fps
    assert len(video) == 10
    out = fast(text=[PROMPT], videos=video)
    # temporal patch 2 / sampled fps (10 of 150 frames at 60 fps = 4 fps) = 0.5 s per grid step
    assert out["second_per_grid_ts"].tolist() == [2 / (10 / 150 * 60)]


def test_two_videos_and_an_image(processor, fresh_processor):
    a, b = clip_bytes(CLIPS[0]), clip_bytes(CLIPS[4])
    image = np.random.default_rng(3).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    fast = wrap(processor)
    text = IMAGE_PROMPT + PROMPT + PROMPT
    videos = [load_video(a, fps=2, sampler=sampler_for(fast)), load_video(b, fps=2, sampler=sampler_for(fast))]
    out = fast(text=[text], images=[image], videos=videos)
    fa, fb = reference_frames(a), reference_frames(b)
    metas = [
        {"total_num_frames": len(f), "fps": v.metadata.fps, "frames_indices": list(range(len(f)))}
        for f, v in ((fa, videos[0]), (fb, videos[1]))
    ]
    ref = fresh_processor(text=[text], images=[image], videos=[fa, fb], video_metadata=metas, do_sample_frames=True,
                          fps=2, return_tensors="pt")  # fmt: skip
    assert_same(out, ref)
    assert torch.equal(out["pixel_values"], ref["pixel_values"])
    assert torch.equal(out["image_grid_thw"], ref["image_grid_thw"])


def _spy(monkeypatch, obj, method: str) -> list:
    """Records the first argument (the list of videos / images) of ``type(obj).method``."""
    seen: list = []
    real = getattr(type(obj), method)

    def spy(self, items, *args, **kwargs):
        seen.extend(items)
        return real(self, items, *args, **kwargs)

    monkeypatch.setattr(type(obj), method, spy)
    return seen


def test_image_only_handed_over_as_a_view(processor, fresh_processor, monkeypatch):
    image = np.random.default_rng(5).integers(0, 256, (61, 97, 3), dtype=np.uint8)
    seen = _spy(monkeypatch, processor.image_processor, "preprocess")
    out = wrap(processor)(text=[IMAGE_PROMPT + "describe"], images=image)
    (t,) = seen
    assert isinstance(t, torch.Tensor) and tuple(t.shape) == (3, 61, 97)
    assert t.data_ptr() == image.ctypes.data  # a (3, H, W) view of the decoded array
    monkeypatch.undo()
    ref = fresh_processor(text=[IMAGE_PROMPT + "describe"], images=[image], return_tensors="pt")
    assert torch.equal(out["input_ids"], ref["input_ids"])
    assert torch.equal(out["pixel_values"], ref["pixel_values"])


def test_frames_handed_over_without_copy(processor, monkeypatch):
    fast = wrap(processor)
    video = load_video(clip_bytes(CLIPS[0]), num_frames=8, sampler=sampler_for(fast))
    seen = _spy(monkeypatch, processor.video_processor, "_decode_and_sample_videos")
    fast(text=[PROMPT], videos=video)
    (t,) = seen
    assert t.dtype == torch.uint8 and tuple(t.shape) == (8, 3, 96, 128)
    assert t.data_ptr() == video.frames.ctypes.data  # the very same memory


def test_merge_kwargs_memo_hits_across_videos(family):
    p = tiny_processor(family=family)
    fast = wrap(p)
    assert isinstance(p._merge_kwargs, MergeKwargsMemo) and wrap(p).memo is fast.memo  # idempotent
    assert wrap(fast) is fast
    a, b = clip_bytes(CLIPS[0]), clip_bytes(CLIPS[2])
    first = fast(text=[PROMPT], videos=load_video(a, fps=2, sampler=sampler_for(fast)))
    assert (fast.memo.hits, fast.memo.misses) == (0, 1)
    second = fast(text=[PROMPT], videos=load_video(b, fps=2, sampler=sampler_for(fast)))  # other video, same kwargs
    assert (fast.memo.hits, fast.memo.misses) == (1, 1)
    assert first["video_grid_thw"][0, 0] == 3 and second["video_grid_thw"][0, 0] == 2  # each call's own metadata
    ref = stock(tiny_processor(family=family), b, PROMPT, fps=2)
    assert_same(second, ref)
    assert wrap(tiny_processor(family=family), memo=False).memo is None


def test_processed_video_cache_hits_and_equals_stock(family):
    cache = VideoCache(64 << 20)
    hf = tiny_processor(family=family)
    fast = wrap(hf, cache=cache)
    assert fast.cache is cache and wrap(fast) is fast
    data = clip_bytes(CLIPS[0])
    cold = fast(text=[PROMPT], videos=load_video(data, fps=4, sampler=sampler_for(fast), cache=cache))
    processed = cache.stats()["misses"]
    hit = fast(text=[PROMPT + "again"], videos=load_video(data, fps=4, sampler=sampler_for(fast), cache=cache))
    assert cache.stats()["hits"] >= 2 and cache.stats()["misses"] == processed  # frames and processed videos
    assert torch.equal(hit["pixel_values_videos"], cold["pixel_values_videos"])
    assert_same(hit, stock(tiny_processor(family=family), data, PROMPT + "again", fps=4))
    other = VideoCache(64 << 20)
    rewrapped = wrap(fast, cache=other)
    assert rewrapped is not fast and rewrapped.cache is other and rewrapped.memo is fast.memo


def test_request_cannot_turn_sampling_back_on(processor):
    fast = wrap(processor)
    video = load_video(clip_bytes(CLIPS[0]), sampler=sampler_for(fast), num_frames=8)
    out = fast(text=[PROMPT], videos=video, do_sample_frames=True, fps=30)
    assert out["video_grid_thw"][0, 0].item() == 4  # 8 frames / temporal patch 2: nothing resampled


def test_raw_arrays_need_metadata(processor):
    with pytest.raises(ValueError, match="video_metadata"):
        wrap(processor)(text=[PROMPT], videos=np.zeros((4, 32, 32, 3), np.uint8))


def test_sampler_reads_processor_settings(family):
    from transformers import Qwen2VLVideoProcessor

    p = tiny_processor(family=family)
    s = sampler_for(wrap(p))
    assert s.name == "qwen2_vl" and wrap(p).sampler == s
    assert (s.fps, s.num_frames, s.min_frames, s.max_frames, s.temporal_patch_size) == (None, None, 4, 768, 2)
    p.video_processor = Qwen2VLVideoProcessor(fps=1, max_frames=10)
    assert (sampler_for(p).fps, sampler_for(p).max_frames) == (1, 10)


def test_wrap_rejects_another_family(family):
    qwen2 = tiny_processor(family=family)
    with pytest.raises(TypeError, match="qwen2_vl family"):
        qwen3_vl.wrap(qwen2)
    with pytest.raises(TypeError, match="qwen3_vl family"):
        wrap(tiny_processor())
    with pytest.raises(TypeError, match="video_processor"):
        wrap(object())
    # a wrapper of one family handed to the other family's wrap is re-wrapped around its HF processor
    assert isinstance(wrap(wrap(qwen2)), FastQwen2VLProcessor)
    with pytest.raises(TypeError, match="qwen2_vl family"):
        qwen3_vl.wrap(wrap(qwen2))


def test_frames_resized_at_decode_time(family):
    p = tiny_processor(family=family)
    fast = wrap(p)
    data = clip_bytes(CLIPS[1])  # odd size
    video = load_video(data, fps=4, sampler=sampler_for(fast), resize_for=fast)
    assert video.metadata.frames_size is not None
    assert_same(fast(text=[PROMPT], videos=video), stock(tiny_processor(family=family), data, PROMPT, fps=4))
