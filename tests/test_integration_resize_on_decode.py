"""``resize_on_decode`` (on by default): the server keeps only frames resized as the fast
processor would resize them, where everything TensorRT-LLM computes stays stock's (a
``VideoData`` with ``raw_bytes_hash``, a uint8 hand-over, video token counts from the
processor's grid: tests/test_integration_token_counts.py) and frames get smaller. Model inputs
stay ``torch.equal`` to stock transformers (policy ``hf``) and to TensorRT-LLM's stock path
(policy ``trtllm``), also for requests whose ``mm_processor_kwargs`` re-plan the frames;
elsewhere frames stay full size."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from conftest import clip_bytes, reference_frames  # noqa: E402
from trtllm_harness import PROMPT_TEXT, VIDEO_PLACEHOLDER, data_url, load_sync, make_processor, process  # noqa: E402
from trtllm_mmfast.integrations import tensorrt_llm as mmfast  # noqa: E402
from trtllm_mmfast.integrations.tensorrt_llm import _resize  # noqa: E402
from trtllm_mmfast.synth import ClipSpec  # noqa: E402
from trtllm_standins.standin import make_model_dir, use_standin  # noqa: E402

CLIP = ClipSpec(width=192, height=128, num_frames=48, fps=12, gop=24, bframes=2)  # 4 s
KEYS = ("pixel_values_videos", "video_grid_thw")


@pytest.fixture(scope="module")
def clip() -> bytes:
    return clip_bytes(CLIP)


def _small_budget_dir(tmp_path, model_type: str):
    """A tiny checkpoint whose video processor shrinks this clip (a real checkpoint's budget
    shrinks 720p/1080p the same way; the tiny clip keeps the test fast)."""
    d = make_model_dir(tmp_path / model_type, model_type=model_type)
    cfg = json.loads((d / "processor_config.json").read_text())
    per_video = model_type == "qwen3_vl"  # Qwen3-VL's budget is over all frames, Qwen2-VL's per frame
    cfg["video_processor"]["size"] = {"longest_edge": 96 * 64 * (8 if per_video else 1), "shortest_edge": 1024}
    (d / "processor_config.json").write_text(json.dumps(cfg))
    return d


def _whole_clip(model_dir, clip, **kw):
    from transformers import AutoProcessor

    hf = AutoProcessor.from_pretrained(str(model_dir), local_files_only=True)
    frames = reference_frames(clip)
    meta = {"total_num_frames": len(frames), "fps": CLIP.fps, "duration": len(frames) / CLIP.fps,
            "frames_indices": list(range(len(frames)))}
    return hf(text=[VIDEO_PLACEHOLDER + PROMPT_TEXT], videos=[frames], video_metadata=[meta], do_sample_frames=True,
              return_tensors="pt", **kw)


def _run(trt, model_dir, url, mm=None, fmt="np", **enable):
    mmfast.enable(**enable)
    try:
        processor = make_processor(model_dir)
        vd = load_sync(trt, url, fps=2, format=fmt)
        return vd, process(processor, [vd], mm)
    finally:
        mmfast.disable()


def _sizes(vd) -> set:
    """(h, w) of the frames TensorRT-LLM holds: one (N, H, W, 3) array, or a list (CHW tensors / HWC arrays)."""
    frames = vd.frames
    if hasattr(frames, "shape") and len(frames.shape) == 4:
        return {tuple(frames.shape[1:3])}
    return {tuple(f.shape[-2:]) if f.shape[0] == 3 else tuple(f.shape[:2]) for f in frames}


@pytest.mark.parametrize("model_type", ["qwen3_vl", "qwen2_5_vl"])
@pytest.mark.parametrize("mm", [None, {"fps": 1}, {"num_frames": 6}], ids=["loader-plan", "replan-fps1", "replan-num6"])
def test_hf_policy_holds_small_frames_and_equals_transformers(model_type, mm, clip, tmp_path, no_leaks, monkeypatch):
    model_dir = _small_budget_dir(tmp_path, model_type)
    if model_type != "qwen3_vl":
        # main's Qwen2-VL counter measures the frames, so main keeps them full
        # (test_qwen2_vl_frames_stay_full_on_main); the resize path itself, as on a TensorRT-LLM
        # whose Qwen2-VL counter reads the processor's grid:
        monkeypatch.setattr(_resize, "counts_from_grid", lambda processor: True)
    with use_standin("main") as trt:
        vd, (ids, extra) = _run(trt, model_dir, data_url(clip), mm, resize_on_decode=True)
        full_vd, (full_ids, full_extra) = _run(trt, model_dir, data_url(clip), mm, resize_on_decode=False)
    (h, w), = _sizes(vd)
    assert h * w < CLIP.height * CLIP.width and _sizes(full_vd) == {(CLIP.height, CLIP.width)}
    assert vd.raw_bytes_hash == full_vd.raw_bytes_hash and vd.metadata == full_vd.metadata
    want = dict(mm or {"fps": 2})
    if "num_frames" in want and model_type == "qwen3_vl":
        want["fps"] = None  # transformers' Qwen3-VL takes num_frames only with its default fps unset
    ref = _whole_clip(model_dir, clip, **want)
    assert ids == full_ids == ref["input_ids"][0].tolist()
    for k in KEYS:
        got = extra["multimodal_data"]["video"][k]
        assert torch.equal(got, ref[k]) and torch.equal(got, full_extra["multimodal_data"]["video"][k]), k


def test_trtllm_policy_np_frames_equal_stock(clip, tmp_path):
    model_dir = _small_budget_dir(tmp_path, "qwen3_vl")
    with use_standin("main") as trt:
        stock_vd = load_sync(trt, data_url(clip), fps=2, format="np")
        stock_ids, stock = process(make_processor(model_dir), [stock_vd], None)
        vd, (ids, extra) = _run(trt, model_dir, data_url(clip), None, resize_on_decode=True, video_sampling="trtllm")
    (h, w), = _sizes(vd)
    assert h * w < CLIP.height * CLIP.width  # resized: "np", uint8
    assert ids == stock_ids
    for k in KEYS:
        assert torch.equal(extra["multimodal_data"]["video"][k], stock["multimodal_data"]["video"][k]), k


@pytest.mark.parametrize("generation,model_type,sampling", [("v1_2", "qwen3_vl", "hf"), ("main", "qwen2_5_vl", "trtllm")],
                         ids=["1.2-hashes-frames", "main-qwen2-trtllm-pt"])
def test_full_frames_where_resizing_would_change_what_stock_computes(generation, model_type, sampling, clip, tmp_path):
    model_dir = _small_budget_dir(tmp_path, model_type)
    with use_standin(generation) as trt:
        vd, _ = _run(trt, model_dir, data_url(clip), None, fmt="pt", resize_on_decode=True, video_sampling=sampling)
    assert _sizes(vd) == {(CLIP.height, CLIP.width)}


def test_qwen2_vl_frames_stay_full_on_main(clip, tmp_path):
    """Main's Qwen2-VL counter takes frame 0's size: resized frames would change its count."""
    model_dir = _small_budget_dir(tmp_path, "qwen2_5_vl")
    with use_standin("main") as trt:
        vd, (ids, extra) = _run(trt, model_dir, data_url(clip), None)  # enable() starts the counters afresh
        assert mmfast.stats()["full_frames_token_counter"] == 1
    assert _sizes(vd) == {(CLIP.height, CLIP.width)}
    ref = _whole_clip(model_dir, clip, fps=2)
    assert ids == ref["input_ids"][0].tolist()
    for k in KEYS:
        assert torch.equal(extra["multimodal_data"]["video"][k], ref[k]), k


def test_option_and_env(monkeypatch):
    with use_standin("main"):
        assert mmfast.plan().settings["resize_on_decode"].startswith("on")  # the default
        monkeypatch.setenv("TRTLLM_MMFAST_RESIZE_ON_DECODE", "0")
        assert mmfast.plan().settings["resize_on_decode"].startswith("off")
        monkeypatch.setenv("TRTLLM_MMFAST_RESIZE_ON_DECODE", "1")
        assert mmfast.plan().settings["resize_on_decode"].startswith("on")
        assert mmfast.plan(resize_on_decode=False).settings["resize_on_decode"].startswith("off")
        monkeypatch.setenv("TRTLLM_MMFAST_RESIZE_ON_DECODE", "maybe")
        with pytest.raises(ValueError, match="TRTLLM_MMFAST_RESIZE_ON_DECODE must be"):
            mmfast.plan()
        with pytest.raises(ValueError, match="True or False"):
            mmfast.plan(resize_on_decode="yes")


@pytest.mark.parametrize("sampling", ["hf", "trtllm"])
def test_a_request_mixing_shrunk_and_full_size_videos_equals_full_frames(sampling, clip, tmp_path):
    """One video shrinks as decoded, the other (already small) does not: the processor resizes a
    call's videos all or none, so that request takes full frames for both (same model inputs)."""
    model_dir = _small_budget_dir(tmp_path, "qwen3_vl")
    small = data_url(clip_bytes(ClipSpec(width=32, height=32, num_frames=24, fps=12)))
    outs = {}
    with use_standin("main") as trt:
        for on in (True, False):
            mmfast.enable(resize_on_decode=on, video_sampling=sampling)
            try:
                processor = make_processor(model_dir)  # first: the loader resizes for it
                vds = [load_sync(trt, url, fps=2, format="np") for url in (data_url(clip), small)]
                outs[on] = vds, process(processor, vds)
                assert mmfast.stats().get("mixed_resize_requests", 0) == int(on)
            finally:
                mmfast.disable()
    (vds, (ids, extra)), (_, (full_ids, full_extra)) = outs[True], outs[False]
    (h, w), = _sizes(vds[0])
    assert h * w < CLIP.height * CLIP.width and _sizes(vds[1]) == {(32, 32)}  # the mix, as loaded
    assert ids == full_ids
    for k in KEYS:
        assert torch.equal(extra["multimodal_data"]["video"][k], full_extra["multimodal_data"]["video"][k]), k
