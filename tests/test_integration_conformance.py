"""Conformance with TensorRT-LLM's real behaviour, against the rebuilt stand-ins: never
bypassed (``hash_source``), the source hash TensorRT-LLM computes, per-request
``mm_processor_kwargs``, both sampling policies, Qwen3-VL-MoE, audio requests, CPU-bytes
admission, re-executed frontends."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import blake3
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from conftest import clip_bytes, reference_frames  # noqa: E402
from trtllm_harness import (  # noqa: E402
    PROMPT_TEXT,
    VIDEO_PLACEHOLDER,
    data_url,
    load_sync,
    make_processor,
    messages,
    mod,
    process,
    server,
    standin_fixture,
)
from trtllm_mmfast.integrations import tensorrt_llm as mmfast  # noqa: E402
from trtllm_mmfast.synth import ClipSpec  # noqa: E402
from trtllm_standins.standin import HERE as STANDINS, make_model_dir, use_standin  # noqa: E402

# 10 s at 25 fps: stock main's default request gives the model 4 of its 10 loaded frames.
CLIP = ClipSpec(width=96, height=64, num_frames=250, fps=25, gop=50, bframes=2)
MAIN_GENERATIONS = ("main_2026h1", "main")
MM_KWARGS = [{}, {"fps": 1}, {"num_frames": 8}, {"do_sample_frames": False}, {"fps": 1, "num_frames": -1}]
OUTPUT_KEYS = ("pixel_values_videos", "video_grid_thw")


@pytest.fixture(scope="module")
def clip() -> bytes:
    return clip_bytes(CLIP)


@pytest.fixture(scope="module")
def url(clip) -> str:
    return data_url(clip)


@pytest.fixture(scope="module")
def moe_model_dir(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("qwen3vl-moe-tiny"), model_type="qwen3_vl_moe")


main_trtllm = standin_fixture(MAIN_GENERATIONS)


any_trtllm = standin_fixture(("v1_2", *MAIN_GENERATIONS))


def _chat(trt, model_dir, url, mm_processor_kwargs=None, **server_config):
    """One chat request through the stand-in server: (token_ids, extra)."""
    srv = server(trt, make_processor(model_dir), **server_config)
    try:
        return asyncio.run(srv.chat_multimodal(messages(url), mm_processor_kwargs=mm_processor_kwargs))
    finally:
        srv.shutdown()


def _assert_same_model_inputs(got, want):
    ids, extra = got
    want_ids, want_extra = want
    assert ids == want_ids
    for key in OUTPUT_KEYS:
        assert torch.equal(extra["multimodal_data"]["video"][key], want_extra["multimodal_data"]["video"][key]), key


# ---- never bypassed: hash_source and raw_bytes_hash ---------------------------------------


def test_hash_source_server_still_decodes_with_our_backend(model_dir, clip, url):
    """The 2026 window: block reuse on -> the server asks for hash_source on every video."""
    with use_standin("main_2026h1") as trt:
        mmfast.enable()
        srv = server(trt, make_processor(model_dir))
        cfg = srv.multimodal_server_config
        assert cfg.media_io_kwargs["video"]["hash_source"] is True  # what the real server injects
        io = mod("tensorrt_llm.serve.chat_utils")._make_media_io("video", cfg, None)
        vd = asyncio.run(io.async_load(url))
        clip_info = mmfast.loaded_clip(vd.frames)
        assert clip_info is not None and clip_info.video.metadata.backend in ("pyav", "opencv")
        assert vd.raw_bytes_hash == blake3.blake3(clip).hexdigest()
        ids, extra = asyncio.run(srv.chat_multimodal(messages(url)))
        srv.shutdown()
        assert mmfast.stats()["videos_loaded"] >= 2  # the chat request's video was ours too
    with use_standin("main_2026h1") as trt:  # the same request, stock: same model inputs (policy aside)
        stock = _chat(trt, model_dir, url)
    assert len(ids) > 0 and extra["multimodal_data"]["video"]["video_grid_thw"].shape == stock[1]["multimodal_data"]["video"]["video_grid_thw"].shape


@pytest.mark.parametrize("source", ["data", "file"])
def test_raw_bytes_hash_is_the_one_trtllm_computes(main_trtllm, clip, url, tmp_path, monkeypatch, source):
    monkeypatch.setenv("TRTLLM_MMFAST_ALLOWED_MEDIA_ROOTS", str(tmp_path))
    path = tmp_path / "v.mp4"
    path.write_bytes(clip)
    where = url if source == "data" else path.as_uri()
    stock_kwargs = {"hash_source": True} if main_trtllm.STANDIN == "main_2026h1" else {}
    stock = load_sync(main_trtllm, where, **stock_kwargs)
    mmfast.enable()
    ours = load_sync(main_trtllm, where)  # no hash_source asked: hashed all the same
    assert ours.raw_bytes_hash == stock.raw_bytes_hash == blake3.blake3(clip).hexdigest()


def test_update_hash_at_policy_trtllm_is_stock_and_reads_no_frame(main_trtllm, model_dir, url):
    """TensorRT-LLM's multimodal hash of our video equals stock's (same metadata, same source
    digest), so KV-cache reuse works across both; and it never walks the frames."""
    stock_kwargs = {"hash_source": True} if main_trtllm.STANDIN == "main_2026h1" else {}
    stock = load_sync(main_trtllm, url, **stock_kwargs)
    mmfast.enable(video_sampling="trtllm")
    processor = make_processor(model_dir)  # the fast input processor decides the sampling
    ours = load_sync(main_trtllm, url)
    assert ours.metadata == stock.metadata and len(ours.frames) < len(stock.frames)  # 4 decoded, not 10
    h1, h2 = blake3.blake3(), blake3.blake3()
    stock.update_hash(h1)
    ours.update_hash(h2)
    assert h1.hexdigest() == h2.hexdigest()
    del processor


# ---- per-request sampling: policy hf == transformers on the whole clip ---------------------


def _transformers_whole_clip(model_dir, clip, text, **kw):
    """Stock transformers given every frame of the clip and its metadata, sampling itself."""
    from transformers import AutoProcessor

    hf = AutoProcessor.from_pretrained(str(model_dir), local_files_only=True)
    frames = reference_frames(clip)
    fps = CLIP.fps
    meta = {"total_num_frames": len(frames), "fps": fps, "duration": len(frames) / fps, "frames_indices": list(range(len(frames)))}
    kw = {k: v for k, v in kw.items() if v != -1}
    if "num_frames" in kw and "fps" not in kw:
        kw["fps"] = None
    kw.setdefault("do_sample_frames", True)
    return hf(text=[text], videos=[frames], video_metadata=[meta], return_tensors="pt", **kw)


@pytest.mark.parametrize("kw", MM_KWARGS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default")
def test_policy_hf_honours_mm_processor_kwargs(main_trtllm, model_dir, clip, url, kw):
    mmfast.enable()
    ids, extra = _chat(main_trtllm, model_dir, url, mm_processor_kwargs=kw or None)
    ref = _transformers_whole_clip(model_dir, clip, VIDEO_PLACEHOLDER + PROMPT_TEXT, **kw)
    assert ids == ref["input_ids"][0].tolist()
    for key in OUTPUT_KEYS:
        assert torch.equal(extra["multimodal_data"]["video"][key], ref[key]), key


# ---- policy trtllm == the installed generation's stock path ---------------------------------


@pytest.mark.parametrize("kw", MM_KWARGS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default")
def test_policy_trtllm_equals_stock_main(main_trtllm, model_dir, url, kw):
    stock = _chat(main_trtllm, model_dir, url, mm_processor_kwargs=kw or None)
    mmfast.enable(video_sampling="trtllm")
    ours = _chat(main_trtllm, model_dir, url, mm_processor_kwargs=kw or None)
    _assert_same_model_inputs(ours, stock)


@pytest.mark.parametrize("media", [{}, {"num_frames": 16}, {"fps": 2, "format": "pt"}, {"format": "pil", "num_frames": 6}])
@pytest.mark.parametrize("kw", [{}, {"fps": 1}, {"num_frames": 8}], ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default")
def test_policy_trtllm_equals_stock_for_every_generation_and_format(any_trtllm, model_dir, url, media, kw):
    """Loader kwargs x processor kwargs, through the input processor itself (1.2 included)."""
    processor = make_processor(model_dir)
    try:
        stock = process(processor, [load_sync(any_trtllm, url, **media)], kw)
    except ValueError as e:  # e.g. 1.2 + num_frames: HF gets its default fps too and refuses both
        stock = e
    mmfast.enable(video_sampling="trtllm")
    processor = make_processor(model_dir)
    ours_vd = load_sync(any_trtllm, url, **media)
    if isinstance(stock, ValueError):
        with pytest.raises(ValueError, match=str(stock)[:40]):
            process(processor, [ours_vd], kw)
        return
    ours = process(processor, [ours_vd], kw)
    _assert_same_model_inputs(ours, stock)


def test_policy_trtllm_decodes_only_what_reaches_the_model(model_dir, url):
    with use_standin("main") as trt:
        mmfast.enable(video_sampling="trtllm")
        processor = make_processor(model_dir)
        vd = load_sync(trt, url, format="np")
        _, extra = process(processor, [vd])
        frames_in = int(extra["multimodal_data"]["video"]["video_grid_thw"][0, 0]) * 2  # temporal patch 2
        assert len(vd.frames) == frames_in == 4
        assert vd.metadata["frames_indices"] == np.linspace(0, 249, 10, dtype=int).tolist()  # stock's, for its hash
        before = mmfast.stats().get("replanned_frames", 0)
        process(processor, [vd], {"fps": 1})  # asks for other frames: decoded from the kept source
        assert mmfast.stats()["replanned_frames"] > before


def test_two_videos_share_one_sampling_decision(model_dir, url, clip):
    """main decides do_sample_frames for all videos of a request at once."""
    other = data_url(clip_bytes(ClipSpec(width=96, height=64, num_frames=100, fps=25, gop=25)))
    with use_standin("main") as trt:
        processor = make_processor(model_dir)
        kw = {"num_frames": 10}  # matches the first video's 10 loaded frames, not the second's 3
        stock = process(processor, [load_sync(trt, url), load_sync(trt, other, fps=1)], kw)
        mmfast.enable(video_sampling="trtllm")
        processor = make_processor(model_dir)
        ours = process(processor, [load_sync(trt, url), load_sync(trt, other, fps=1)], kw)
    _assert_same_model_inputs(ours, stock)


# ---- Qwen3-VL-MoE and the registry -----------------------------------------------------------


def test_moe_model_type_gets_the_fast_processor_and_disable_restores_it(main_trtllm, moe_model_dir, model_dir, url):
    modeling = mod("tensorrt_llm._torch.models.modeling_qwen3vl")
    report = mmfast.enable()
    moe = make_processor(moe_model_dir)  # the lazy zoo imports modeling_qwen3vl_moe only now
    assert type(moe).__name__ == "FastQwen3VLInputProcessor" and isinstance(moe, modeling.Qwen3VLInputProcessorBase)
    moe_module = mod("tensorrt_llm._torch.models.modeling_qwen3vl_moe")
    table = mod("tensorrt_llm.inputs.registry").INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type
    assert table[moe_module.Qwen3MoeVLModel] is type(moe)
    assert "qwen3_vl" in report["qwen3_vl_input_processor"].detail
    ours = process(moe, [load_sync(main_trtllm, url)])
    dense = make_processor(model_dir)
    assert ours[0] == process(dense, [load_sync(main_trtllm, url)])[0]
    mmfast.disable()
    table = mod("tensorrt_llm.inputs.registry").INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type
    assert table[moe_module.Qwen3MoeVLModel] is modeling.Qwen3VLInputProcessorBase  # registered while enabled, kept
    assert type(make_processor(moe_model_dir)) is modeling.Qwen3VLInputProcessorBase


def test_placeholder_metadata_stays_the_builtin_entry(main_trtllm):
    placeholders = mod("tensorrt_llm.inputs.registry").MULTIMODAL_PLACEHOLDER_REGISTRY
    before = placeholders.get_placeholder_metadata("qwen3_vl")
    mmfast.enable()
    assert placeholders.get_placeholder_metadata("qwen3_vl") is before
    mmfast.disable()
    assert placeholders.get_placeholder_metadata("qwen3_vl") is before


# ---- audio, admission, frontends ---------------------------------------------------------------


def test_extract_audio_falls_back_visibly(model_dir, url, monkeypatch, caplog):
    monkeypatch.setenv("TRTLLM_ENABLE_PYAV", "1")
    with use_standin("main") as trt:
        stock = load_sync(trt, url, extract_audio=True, format="np")
        mmfast.enable()
        mmfast.stats(reset=True)
        with caplog.at_level(logging.WARNING, logger="trtllm_mmfast"):
            first = load_sync(trt, url, extract_audio=True, format="np")
            load_sync(trt, url, extract_audio=True, format="np")
        assert mmfast.loaded_clip(first.frames) is None  # TensorRT-LLM's own decoder ran
        assert np.array_equal(np.asarray(first.frames), np.asarray(stock.frames))
        assert first.metadata == stock.metadata and first.raw_bytes_hash == stock.raw_bytes_hash
        assert mmfast.stats()["stock_fallback.extract_audio"] == 2
        warnings = [r for r in caplog.records if "extract_audio" in r.getMessage()]
        assert len(warnings) == 1  # logged once, counted always


def test_cpu_bytes_admission_counts_our_frames_once(model_dir, url):
    with use_standin("main") as trt:
        utils = mod("tensorrt_llm.inputs.utils")
        stock_vd = load_sync(trt, url, format="np")
        mmfast.enable(video_sampling="trtllm")
        processor = make_processor(model_dir)
        ours_vd = load_sync(trt, url, format="np")
        frame_bytes = 64 * 96 * 3
        assert utils._cpu_storage_bytes(stock_vd) == 10 * frame_bytes
        assert utils._cpu_storage_bytes(ours_vd) == 4 * frame_bytes  # one array, counted once
        with pytest.raises(utils.MultimodalDataTooLargeError):
            _chat(trt, model_dir, url, max_cpu_bytes=frame_bytes, max_cpu_bytes_per_request=frame_bytes)
        del processor


def test_extra_frontends_reexecute_with_the_hooks(model_dir, tmp_path):
    """trtllm-serve --num_serve_frontends 2 re-executes sys.argv: the second frontend is
    trtllm-mmfast serve again, with the same options, so it has the same hooks."""
    report = tmp_path / "frontends.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(STANDINS / "main"), str(Path(__file__).parent)]),
        "TRTLLM_STANDIN_REPORT": str(report),
    }
    cmd = [sys.executable, "-m", "trtllm_mmfast", "serve", str(model_dir), "--video-sampling", "trtllm", "--num_serve_frontends", "2"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(str(x["frontend_id"]) for x in lines) == ["0", "1"]
    for line in lines:
        assert line["video_media_io"] == "FastVideoMediaIO"
        assert line["qwen3_vl_processor"] == "FastQwen3VLInputProcessor"
        assert line["qwen2_vl_processor"] == line["qwen2_5_vl_processor"] == "FastQwen2VLInputProcessor"


# ---- the policy option -------------------------------------------------------------------------


def test_sampling_policy_is_reported_and_validated(monkeypatch):
    with use_standin("main"):
        assert mmfast.plan().settings["video_sampling"].startswith("hf:")
        monkeypatch.setenv(mmfast.SAMPLING_ENV, "trtllm")
        assert mmfast.plan().settings["video_sampling"].startswith("trtllm:")
        assert "stock main loads" in mmfast.plan().settings["video_sampling"]
        monkeypatch.setenv(mmfast.SAMPLING_ENV, "exact")
        with pytest.raises(ValueError, match="video_sampling must be one of 'hf', 'trtllm'; got 'exact'"):
            mmfast.enable()
        assert not mmfast.is_enabled()
        report = mmfast.enable(video_sampling="trtllm")
        assert "trtllm:" in str(report)


def test_decoder_threads_option_reaches_the_decoder(model_dir, url, monkeypatch):
    import trtllm_mmfast.video.api as api

    seen = []
    real = api.open_video
    monkeypatch.setattr(api, "open_video", lambda *a, **k: seen.append(k["decoder_threads"]) or real(*a, **k))
    with use_standin("main") as trt:
        with pytest.raises(ValueError, match="decoder_threads must be an int >= 1; got 0"):
            mmfast.enable(decoder_threads=0)
        monkeypatch.setenv("TRTLLM_MMFAST_DECODER_THREADS", "3")
        assert mmfast.plan().settings["decoder_threads"] == "3"
        mmfast.enable(decoder_threads=2, video_cache_bytes=0)
        load_sync(trt, url)
        assert seen == [2]
