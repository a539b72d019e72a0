"""The contract: our Qwen3-VL path equals stock transformers sampling the whole video itself."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")
pytest.importorskip("transformers")

from conftest import clip_bytes, reference_frames  # noqa: E402
from trtllm_mmfast import load_video  # noqa: E402
from trtllm_mmfast.processors.qwen3_vl import MergeKwargsMemo, sampler_for, wrap  # noqa: E402
from trtllm_mmfast.processors.tiny import tiny_processor  # noqa: E402
from trtllm_mmfast.synth import ClipSpec  # noqa: E402

PROMPT = "<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>What happens?<|im_end|>\n"
IMAGE_PROMPT = "<|vision_start|><|image_pad|><|vision_end|>"

CLIPS = [
    ClipSpec(width=128, height=96, num_frames=90, fps=30, gop=30, bframes=3),  # 3 s
    ClipSpec(width=160, height=90, num_frames=240, fps=24, gop=48, bframes=2),  # 10 s
    ClipSpec(width=96, height=64, num_frames=300, fps=60),  # 5 s
    ClipSpec(width=64, height=48, num_frames=1200, fps=30, gop=60),  # 40 s
    ClipSpec(width=100, height=60, num_frames=200, fps=29.97, gop=30),  # NTSC-ish rate
]
REQUESTS = [{}, {"fps": 1}, {"fps": 4}, {"num_frames": 8}, {"num_frames": 16}]


@pytest.fixture(scope="module")
def processor(tmp_path_factory):
    # round-trips through save_pretrained / AutoProcessor.from_pretrained(local_files_only=True)
    return tiny_processor(tmp_path_factory.mktemp("tiny-qwen3vl"))


@pytest.fixture(scope="module")
def fresh_processor():
    return tiny_processor()


def stock(processor, data: bytes, text: str, **req):
    """Stock transformers: every decoded frame plus full metadata, the processor samples."""
    frames = reference_frames(data)
    fps = load_video(data, num_frames=1).metadata.fps
    meta = {"total_num_frames": len(frames), "fps": fps, "duration": len(frames) / fps, "frames_indices": list(range(len(frames)))}
    if "num_frames" in req:
        req = {**req, "fps": None}  # transformers fills fps from its default and rejects both
    return processor(text=[text], videos=[frames], video_metadata=[meta], do_sample_frames=True, return_tensors="pt", **req)


def assert_same(fast, ref):
    assert torch.equal(fast["input_ids"], ref["input_ids"])
    assert torch.equal(fast["pixel_values_videos"], ref["pixel_values_videos"])
    assert torch.equal(fast["video_grid_thw"], ref["video_grid_thw"])


@pytest.mark.parametrize("spec", CLIPS, ids=lambda s: f"{s.width}x{s.height}-{s.fps}fps-{s.num_frames}f")
@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: ",".join(f"{k}={v}" for k, v in r.items()) or "default")
def test_bit_identical_to_stock(processor, fresh_processor, spec, req):
    data = clip_bytes(spec)
    fast = wrap(processor)
    video = load_video(data, sampler=sampler_for(fast), **req)
    out = fast(text=[PROMPT], videos=video, **req)  # request kwargs pass through: sampling is not redone
    assert_same(out, stock(fresh_processor, data, PROMPT, **req))


def test_timestamps_follow_source_fps(processor):
    import re

    data = clip_bytes(CLIPS[1])  # 24 fps, 240 frames
    fast = wrap(processor)
    video = load_video(data, fps=1, sampler=sampler_for(fast))
    idx = list(video.metadata.frames_indices)
    assert len(idx) == 10 and idx[0] == 0 and idx[-1] == 239
    out = fast(text=[PROMPT], videos=video)
    stamps = re.findall(r"<([0-9.]+) seconds>", processor.tokenizer.decode(out["input_ids"][0]))
    want = [f"{(idx[i] + idx[i + 1]) / 2 / 24.0:.1f}" for i in range(0, len(idx), 2)]  # per temporal patch
    assert stamps == want


def test_image_and_mixed_prompt(processor, fresh_processor):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (70, 90, 3), dtype=np.uint8)
    fast = wrap(processor)
    out = fast(text=[IMAGE_PROMPT + "describe"], images=[image])
    ref = fresh_processor(text=[IMAGE_PROMPT + "describe"], images=[image], return_tensors="pt")
    assert torch.equal(out["input_ids"], ref["input_ids"])
    assert torch.equal(out["pixel_values"], ref["pixel_values"])
    assert torch.equal(out["image_grid_thw"], ref["image_grid_thw"])

    data = clip_bytes(CLIPS[0])
    text = IMAGE_PROMPT + PROMPT
    out = fast(text=[text], images=[image], videos=load_video(data, sampler=sampler_for(fast), fps=2))
    frames = reference_frames(data)
    meta = {"total_num_frames": len(frames), "fps": 30.0, "frames_indices": list(range(len(frames)))}
    ref = fresh_processor(text=[text], images=[image], videos=[frames], video_metadata=[meta], fps=2, return_tensors="pt")
    assert_same(out, ref)
    assert torch.equal(out["pixel_values"], ref["pixel_values"])


def test_two_videos_in_one_prompt(processor, fresh_processor):
    a, b = clip_bytes(CLIPS[0]), clip_bytes(CLIPS[2])
    fast = wrap(processor)
    text = PROMPT + PROMPT
    out = fast(text=[text], videos=[load_video(a, sampler=sampler_for(fast)), load_video(b, sampler=sampler_for(fast))])
    fa, fb = reference_frames(a), reference_frames(b)
    metas = [
        {"total_num_frames": len(f), "fps": fps, "frames_indices": list(range(len(f)))} for f, fps in ((fa, 30.0), (fb, 60.0))
    ]
    ref = fresh_processor(text=[text], videos=[fa, fb], video_metadata=metas, return_tensors="pt")
    assert_same(out, ref)


def test_request_cannot_turn_sampling_back_on(processor):
    data = clip_bytes(CLIPS[0])
    fast = wrap(processor)
    video = load_video(data, sampler=sampler_for(fast), num_frames=8)
    out = fast(text=[PROMPT], videos=video, do_sample_frames=True, fps=30)
    assert out["video_grid_thw"][0, 0].item() == 4  # 8 frames / temporal patch 2: nothing resampled


def test_frames_handed_over_without_copy(processor, monkeypatch):
    data = clip_bytes(CLIPS[0])
    fast = wrap(processor)
    video = load_video(data, sampler=sampler_for(fast))
    seen = []
    vp = processor.video_processor
    real = type(vp)._decode_and_sample_videos

    def spy(self, videos, *args, **kwargs):
        seen.extend(videos)
        return real(self, videos, *args, **kwargs)

    monkeypatch.setattr(type(vp), "_decode_and_sample_videos", spy)
    fast(text=[PROMPT], videos=video)
    (t,) = seen
    assert t.dtype == torch.uint8 and tuple(t.shape) == (len(video), 3, 96, 128)
    assert t.data_ptr() == video.frames.ctypes.data  # the very same memory


def test_sampler_for_reads_processor_settings(processor):
    from transformers import Qwen3VLVideoProcessor

    s = sampler_for(wrap(processor))
    assert (s.fps, s.min_frames, s.max_frames) == (2, 4, 768)
    processor2 = tiny_processor()
    processor2.video_processor = Qwen3VLVideoProcessor(fps=1, max_frames=10)
    s2 = sampler_for(processor2)
    assert (s2.fps, s2.max_frames) == (1, 10)


def test_merge_kwargs_memo_hits_and_isolates_copies(fresh_processor):
    fast = wrap(fresh_processor)
    assert wrap(fresh_processor).memo is fast.memo  # idempotent
    fast.memo.clear()
    a, b = clip_bytes(CLIPS[0]), clip_bytes(CLIPS[2])
    fast(text=[PROMPT], videos=load_video(a, sampler=sampler_for(fast)))
    assert (fast.memo.hits, fast.memo.misses) == (0, 1)
    out = fast(text=[PROMPT], videos=load_video(b, sampler=sampler_for(fast)))  # other video, same kwargs
    assert (fast.memo.hits, fast.memo.misses) == (1, 1)
    assert out["video_grid_thw"].shape == (1, 3)

    merged = fresh_processor._merge_kwargs(padding=True, video_metadata=[{"fps": 1.0}])
    assert fast.memo.misses == 2
    merged["text_kwargs"]["padding"] = "MUTATED"
    merged["videos_kwargs"]["video_metadata"][0]["fps"] = -1
    again = fresh_processor._merge_kwargs(padding=True, video_metadata=[{"fps": 2.0}])
    assert fast.memo.hits == 2
    assert again["text_kwargs"]["padding"] is True
    assert again["videos_kwargs"]["video_metadata"] == [{"fps": 2.0}]  # this call's metadata, not a cached one
    assert fresh_processor._merge_kwargs(padding=1)["text_kwargs"]["padding"] == 1  # 1 is not True


def test_merge_kwargs_memo_bypasses_unhashable_and_is_bounded():
    calls = []

    def original(**kwargs):
        calls.append(kwargs)
        return {"text_kwargs": dict(kwargs)}

    memo = MergeKwargsMemo(original, maxsize=2)
    memo(x=[{frozenset()}, {1}])  # sets are unhashable: bypass
    assert memo.bypassed == 1 and memo.misses == 0
    for i in range(3):
        memo(x=i)
    assert memo.misses == 3 and len(memo._cache) == 2
    memo(x=0)  # evicted: a miss again
    assert memo.misses == 4 and len(calls) == 5


def test_raw_arrays_need_metadata(processor):
    fast = wrap(processor)
    with pytest.raises(ValueError, match="video_metadata"):
        fast(text=[PROMPT], videos=np.zeros((4, 32, 32, 3), np.uint8))


def test_wrapped_processor_still_copies_prints_and_saves(tmp_path):
    import copy

    p = tiny_processor()
    fast = wrap(p)
    assert "Qwen3VLProcessor" in repr(p)  # transformers deep-copies __dict__ for repr
    clone = copy.deepcopy(p)
    assert isinstance(clone._merge_kwargs, MergeKwargsMemo) and clone._merge_kwargs is not fast.memo
    assert clone._merge_kwargs.original.__self__ is clone  # the copy's memo calls the copy
    clone._merge_kwargs(padding=True)
    assert clone._merge_kwargs.misses == 1 and fast.memo.misses == 0
    p.save_pretrained(tmp_path)
    assert "_merge_kwargs" not in (tmp_path / "processor_config.json").read_text()
