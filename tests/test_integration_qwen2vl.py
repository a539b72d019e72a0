"""The TensorRT-LLM hooks for Qwen2-VL and Qwen2.5-VL (``qwen2_vl``, ``qwen2_5_vl``), against
the stand-ins of 1.2 and main: the registry serves the fast subclass (Qwen3-VL's stays its
own), policy ``trtllm`` gives the model exactly stock's inputs (ids, pixels, grids,
``second_per_grid_ts`` and every mRoPE input), policy ``hf`` exactly what transformers gives
sampling the whole clip, per-request ``mm_processor_kwargs`` re-plan, ``raw_bytes_hash`` is
TensorRT-LLM's, and an HF processor of no known family stays stock."""

from __future__ import annotations

import asyncio
import json
import logging

import blake3
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from conftest import clip_bytes, reference_frames  # noqa: E402
from trtllm_harness import standin_fixture  # noqa: E402
from trtllm_harness import PROMPT_TEXT, VIDEO_PLACEHOLDER, data_url, load_sync, make_processor, messages, mod, process, server  # noqa: E402
from trtllm_mmfast.integrations import tensorrt_llm as mmfast  # noqa: E402
from trtllm_mmfast.synth import ClipSpec  # noqa: E402
from trtllm_standins.standin import make_model_dir, use_standin  # noqa: E402

# 5 s at 8 fps: stock loads 10 of its 40 frames; transformers on the whole clip takes all 40.
CLIP = ClipSpec(width=96, height=64, num_frames=40, fps=8, gop=20, bframes=2)
MODEL_TYPES = ("qwen2_vl", "qwen2_5_vl")
MODEL_CLASSES = {"qwen2_vl": "Qwen2VLModel", "qwen2_5_vl": "Qwen2_5_VLModel"}
VIDEO_KEYS = ("pixel_values_videos", "video_grid_thw")


def _kw_id(kw: dict) -> str:
    return ",".join(f"{a}={b}" for a, b in kw.items()) or "default"


@pytest.fixture(scope="module")
def clip() -> bytes:
    return clip_bytes(CLIP)


@pytest.fixture(scope="module")
def url(clip) -> str:
    return data_url(clip)


@pytest.fixture(scope="module", params=MODEL_TYPES)
def model(request, tmp_path_factory):
    """(model type, tiny checkpoint dir)."""
    return request.param, make_model_dir(tmp_path_factory.mktemp(request.param), model_type=request.param)


trt = standin_fixture()


class _Calls(list):
    install: object = None


@pytest.fixture
def mrope_calls(monkeypatch):
    """Every ``get_mrope_config`` call's inputs (ids before 1.2's remap, grids, mask,
    ``second_per_grid_ts``), recorded on the stand-in's Qwen2-VL base (subclasses inherit it)."""
    calls = _Calls()

    def install() -> None:
        base = mod("tensorrt_llm._torch.models.modeling_qwen2vl").Qwen2VLInputProcessorBase
        real = base.get_mrope_config

        def spy(self, input_ids, image_grid_thw, video_grid_thw, attention_mask, second_per_grid_ts=None):
            calls.append({"input_ids": input_ids, "image_grid_thw": image_grid_thw, "video_grid_thw": video_grid_thw,
                          "attention_mask": attention_mask, "second_per_grid_ts": second_per_grid_ts})
            return real(self, input_ids, image_grid_thw, video_grid_thw, attention_mask, second_per_grid_ts)

        monkeypatch.setattr(base, "get_mrope_config", spy)

    calls.install = install
    return calls


def _equal(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return torch.equal(torch.as_tensor(a), torch.as_tensor(b))


def _assert_same_model_inputs(got, want, got_mrope: dict, want_mrope: dict) -> None:
    (ids, extra), (want_ids, want_extra) = got, want
    assert ids == want_ids
    for key in VIDEO_KEYS:
        assert torch.equal(extra["multimodal_data"]["video"][key], want_extra["multimodal_data"]["video"][key]), key
    for key in ("mrope_position_ids", "mrope_position_deltas"):
        assert torch.equal(extra["multimodal_data"]["mrope_config"][key], want_extra["multimodal_data"]["mrope_config"][key]), key
    for key, value in want_mrope.items():
        assert _equal(got_mrope[key], value), key


# ---- the registry and the report ----------------------------------------------------------------


def test_plan_lists_qwen2_vl_and_qwen2_5_vl(trt):
    report = mmfast.plan()
    hook = report["qwen2_vl_input_processor"]
    assert hook.status == "applied"
    assert "qwen2_vl, qwen2_5_vl" in hook.detail and "FastQwen2VLInputProcessor" in hook.detail
    assert "qwen2" not in report["qwen3_vl_input_processor"].detail.split("(")[0]  # each family its own types
    names = [h["name"] for h in mmfast.summary()["hooks"]]
    assert names.index("qwen3_vl_input_processor") + 1 == names.index("qwen2_vl_input_processor")
    assert not mmfast.is_enabled()


def test_each_model_type_gets_its_family_and_disable_restores(trt, model, tmp_path):
    model_type, model_dir = model
    modeling = mod("tensorrt_llm._torch.models.modeling_qwen2vl")
    table = mod("tensorrt_llm.inputs.registry").INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type
    stock_cls = table[getattr(modeling, MODEL_CLASSES[model_type])]
    mmfast.enable()
    processor = make_processor(model_dir)
    assert type(processor).__name__ == "FastQwen2VLInputProcessor" and type(processor).__bases__ == (stock_cls,)
    assert processor._mmfast_family.name == "qwen2_vl" and processor._mmfast is not None
    # Qwen3-VL, a Qwen2VLInputProcessorBase subclass on main, keeps its own family and class.
    qwen3 = make_processor(make_model_dir(tmp_path / "q3"))
    assert type(qwen3).__name__ == "FastQwen3VLInputProcessor" and qwen3._mmfast_family.name == "qwen3_vl"
    mmfast.disable()
    table = mod("tensorrt_llm.inputs.registry").INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type
    assert table[getattr(modeling, MODEL_CLASSES[model_type])] is stock_cls
    assert type(make_processor(model_dir)) is stock_cls


def test_unknown_hf_processor_stays_stock_with_a_log_line(trt, tmp_path, caplog):
    """A checkpoint whose ``AutoProcessor`` is a bare tokenizer (no processor config, no model type)."""
    model_dir = make_model_dir(tmp_path / "m", model_type="qwen2_vl")
    (model_dir / "processor_config.json").unlink()
    for name, key in (("tokenizer_config.json", "processor_class"), ("config.json", "model_type")):
        cfg = json.loads((model_dir / name).read_text())
        del cfg[key]
        (model_dir / name).write_text(json.dumps(cfg))
    mmfast.enable()
    with caplog.at_level(logging.WARNING, logger="trtllm_mmfast"):
        processor = make_processor(model_dir)
    assert type(processor).__name__ == "FastQwen2VLInputProcessor" and processor._mmfast is None
    assert any("no fast processor family" in r.getMessage() and "stays stock" in r.getMessage() for r in caplog.records)
    text_only = {"prompt": PROMPT_TEXT}
    mmfast.disable()
    stock = make_processor(model_dir)
    assert processor(text_only, None)[0] == stock(text_only, None)[0]


# ---- policy trtllm == the stock path of that generation -----------------------------------------


TRTLLM_KWARGS = [{}, {"fps": 1}, {"num_frames": 4}, {"do_sample_frames": True, "num_frames": 4},
                 {"do_sample_frames": True, "fps": 1}, {"do_sample_frames": False}]


def _stock_and_ours(trt, model_dir, url, media: dict, kw: dict, mrope_calls, policy: str):
    """(stock result or its exception, stock mRoPE inputs, ours, our mRoPE inputs)."""
    mrope_calls.install()
    processor = make_processor(model_dir)
    try:
        stock = process(processor, [load_sync(trt, url, **media)], kw)
    except (ValueError, TypeError) as e:  # what transformers refuses, stock refuses too
        stock = e
    stock_mrope = mrope_calls[-1] if mrope_calls and not isinstance(stock, Exception) else None
    mmfast.enable(video_sampling=policy)
    processor = make_processor(model_dir)
    vd = load_sync(trt, url, **media)
    if isinstance(stock, Exception):
        with pytest.raises(type(stock)):
            process(processor, [vd], kw)
        return stock, None, None, None
    ours = process(processor, [vd], kw)
    return stock, stock_mrope, ours, mrope_calls[-1]


@pytest.mark.parametrize("media", [{}, {"fps": 2}, {"num_frames": 16, "format": "pil"}], ids=_kw_id)
@pytest.mark.parametrize("kw", TRTLLM_KWARGS, ids=_kw_id)
def test_policy_trtllm_equals_stock(trt, model, url, media, kw, mrope_calls):
    stock, stock_mrope, ours, our_mrope = _stock_and_ours(trt, model[1], url, media, kw, mrope_calls, "trtllm")
    if isinstance(stock, Exception):
        return
    _assert_same_model_inputs(ours, stock, our_mrope, stock_mrope)
    if model[0] == "qwen2_5_vl":
        assert stock_mrope["second_per_grid_ts"] is not None  # stock's assumed 24 fps: 2 / 24
        assert torch.allclose(stock_mrope["second_per_grid_ts"].float(), torch.tensor([2 / 24]))


@pytest.mark.parametrize("kw", [{}, {"do_sample_frames": True, "num_frames": 4}], ids=_kw_id)
def test_policy_trtllm_equals_stock_for_np_frames(model, url, kw, mrope_calls):
    """main's "np" (one uint8 array; what a server configured with --media_io_kwargs gets)."""
    with use_standin("main") as trt:
        stock, stock_mrope, ours, our_mrope = _stock_and_ours(trt, model[1], url, {"format": "np"}, kw, mrope_calls, "trtllm")
    _assert_same_model_inputs(ours, stock, our_mrope, stock_mrope)


def test_policy_trtllm_decodes_only_what_reaches_the_model(model, url):
    with use_standin("main") as trt:
        mmfast.enable(video_sampling="trtllm")
        processor = make_processor(model[1])
        mmfast.stats(reset=True)
        vd = load_sync(trt, url)  # main's Qwen2-VL prefers nothing: the loader's "pt"
        assert len(vd.frames) == 10 and vd.metadata["frames_indices"] == np.linspace(0, 39, 10, dtype=int).tolist()
        _, extra = process(processor, [vd], {"do_sample_frames": True, "num_frames": 4})
        assert int(extra["multimodal_data"]["video"]["video_grid_thw"][0, 0]) == 2  # 4 of the 10, temporal patch 2
        assert mmfast.stats().get("replanned_frames", 0) == 0  # they were loaded already


def _chat(trt, model, url, mm_processor_kwargs=None, **server_config):
    srv = server(trt, make_processor(model[1]), **server_config)
    try:
        return asyncio.run(srv.chat_multimodal(messages(url), mm_processor_kwargs=mm_processor_kwargs, model_type=model[0]))
    finally:
        getattr(srv, "shutdown", lambda: None)()


# ---- policy hf == transformers on the whole clip ------------------------------------------------


def _transformers_whole_clip(model_dir, clip, kw, separator=""):
    """Stock transformers given every frame and the clip's metadata, sampling as the request says
    (no sampling kwarg: the processor's own default, which for Qwen2-VL keeps every frame)."""
    from transformers import AutoProcessor

    hf = AutoProcessor.from_pretrained(str(model_dir), local_files_only=True)
    frames = reference_frames(clip)
    meta = {"total_num_frames": len(frames), "fps": CLIP.fps, "duration": len(frames) / CLIP.fps,
            "frames_indices": list(range(len(frames)))}
    kw = dict(kw)
    if "fps" in kw or "num_frames" in kw:
        kw.setdefault("do_sample_frames", True)
    return hf(text=[VIDEO_PLACEHOLDER + separator + PROMPT_TEXT], videos=[frames], video_metadata=[meta], return_tensors="pt", **kw)


HF_KWARGS = [{}, {"fps": 2}, {"num_frames": 8}, {"do_sample_frames": False}]


@pytest.mark.parametrize("kw", HF_KWARGS, ids=_kw_id)
def test_policy_hf_equals_transformers_on_the_whole_clip(trt, model, clip, url, kw, mrope_calls):
    mrope_calls.install()
    mmfast.enable()
    ids, extra = _chat(trt, model, url, kw or None)
    separator = mod("tensorrt_llm.inputs.registry").MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholders_separator(model[0])
    ref = _transformers_whole_clip(model[1], clip, kw, separator)  # the chat prompt: placeholder, separator, text
    got = mrope_calls[-1]
    assert torch.equal(got["input_ids"], ref["input_ids"])  # before 1.2's out-of-vocabulary remap
    for key in VIDEO_KEYS:
        assert torch.equal(extra["multimodal_data"]["video"][key], ref[key]), key
    assert torch.equal(got["video_grid_thw"], ref["video_grid_thw"])
    if model[0] == "qwen2_5_vl":  # from the source fps, not stock's assumed 24
        assert torch.equal(torch.as_tensor(got["second_per_grid_ts"]), torch.as_tensor(ref["second_per_grid_ts"]))
    else:
        assert got["second_per_grid_ts"] is None and "second_per_grid_ts" not in ref


def test_policy_hf_takes_the_servers_media_io_fps(model, clip, url):
    """--media_io_kwargs '{"video": {"fps": 2}}' and no mm_processor_kwargs: transformers at fps 2."""
    with use_standin("main") as trt:
        mmfast.enable()
        ids, extra = _chat(trt, model, url, media_io_kwargs={"video": {"fps": 2}})
        separator = mod("tensorrt_llm.inputs.registry").MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholders_separator(model[0])
    ref = _transformers_whole_clip(model[1], clip, {"fps": 2}, separator)
    assert ids == ref["input_ids"][0].tolist()
    for key in VIDEO_KEYS:
        assert torch.equal(extra["multimodal_data"]["video"][key], ref[key]), key


@pytest.mark.parametrize("kw", [{}, {"do_sample_frames": True, "num_frames": 4}], ids=_kw_id)
def test_policy_trtllm_chat_equals_stock_chat(trt, model, url, kw):
    """Through the server (main seeds the loader format from the processor's preferences: none)."""
    stock = _chat(trt, model, url, kw or None)
    mmfast.enable(video_sampling="trtllm")
    ours = _chat(trt, model, url, kw or None)
    assert ours[0] == stock[0]
    for key in VIDEO_KEYS:
        assert torch.equal(ours[1]["multimodal_data"]["video"][key], stock[1]["multimodal_data"]["video"][key]), key
    for key in ("mrope_position_ids", "mrope_position_deltas"):
        assert torch.equal(ours[1]["multimodal_data"]["mrope_config"][key], stock[1]["multimodal_data"]["mrope_config"][key])


def test_mm_processor_kwargs_replan_decodes_the_frames_they_ask_for(model, clip, url):
    """Loaded at media_io fps=1 (frames 0, 10, 20, 30), asked for fps=4 by the request: the 20
    frames transformers would pick (every other one), the 16 not loaded decoded later from the kept source."""
    with use_standin("main") as trt:
        mmfast.enable(video_cache_bytes=0)
        processor = make_processor(model[1])
        vd = load_sync(trt, url, fps=1)
        assert mmfast.loaded_clip(vd.frames).video.metadata.frames_indices == (0, 10, 20, 30)
        before = mmfast.stats().get("replanned_frames", 0)
        ids, extra = process(processor, [vd], {"fps": 4})
        assert mmfast.stats()["replanned_frames"] - before == 16
    ref = _transformers_whole_clip(model[1], clip, {"fps": 4})
    assert int(ref["video_grid_thw"][0, 0]) == 10
    for key in VIDEO_KEYS:
        assert torch.equal(extra["multimodal_data"]["video"][key], ref[key]), key


def test_two_videos_keep_their_own_frames_and_second_per_grid_ts(model, clip, url, mrope_calls):
    """Two clips of different fps in one request: policy trtllm == stock, policy hf == transformers
    on both whole clips (Qwen2.5-VL: one second_per_grid_ts per video, from each one's fps)."""
    other = clip_bytes(ClipSpec(width=64, height=48, num_frames=24, fps=12, gop=12))
    urls = [url, data_url(other)]
    with use_standin("main") as trt:
        mrope_calls.install()
        stock = process(make_processor(model[1]), [load_sync(trt, u) for u in urls])
        stock_mrope = mrope_calls[-1]
        mmfast.enable(video_sampling="trtllm")
        ours = process(make_processor(model[1]), [load_sync(trt, u) for u in urls])
        _assert_same_model_inputs(ours, stock, mrope_calls[-1], stock_mrope)
        mmfast.enable(video_sampling="hf")
        ids, extra = process(make_processor(model[1]), [load_sync(trt, u) for u in urls])  # every frame, at 8 and 12 fps
        got = mrope_calls[-1]
    from transformers import AutoProcessor

    hf = AutoProcessor.from_pretrained(str(model[1]), local_files_only=True)
    videos = [reference_frames(clip), reference_frames(other)]
    metas = [{"total_num_frames": len(v), "fps": f, "duration": len(v) / f, "frames_indices": list(range(len(v)))}
             for v, f in zip(videos, (CLIP.fps, 12))]
    ref = hf(text=[VIDEO_PLACEHOLDER * 2 + PROMPT_TEXT], videos=videos, video_metadata=metas, return_tensors="pt")
    assert ids == ref["input_ids"][0].tolist()
    for key in VIDEO_KEYS:
        assert torch.equal(extra["multimodal_data"]["video"][key], ref[key]), key
    if model[0] == "qwen2_5_vl":
        assert torch.equal(torch.as_tensor(got["second_per_grid_ts"]), torch.as_tensor(ref["second_per_grid_ts"]))
        assert torch.allclose(torch.as_tensor(ref["second_per_grid_ts"]).float(), torch.tensor([2 / 8, 2 / 12]))


# ---- never bypassed: the source hash TensorRT-LLM computes ----------------------------------------


def test_raw_bytes_hash_and_multimodal_hash_are_stock(model, clip, url):
    with use_standin("main") as trt:
        stock = load_sync(trt, url)
        mmfast.enable(video_sampling="trtllm")
        processor = make_processor(model[1])
        ours = load_sync(trt, url)
        assert mmfast.loaded_clip(ours.frames) is not None  # our decoder, not the stock one
        assert ours.raw_bytes_hash == stock.raw_bytes_hash == blake3.blake3(clip).hexdigest()
        assert ours.metadata == stock.metadata
        h1, h2 = blake3.blake3(), blake3.blake3()
        stock.update_hash(h1)
        ours.update_hash(h2)
        assert h1.hexdigest() == h2.hexdigest()
        del processor


def test_policy_hf_with_no_fps_anywhere_warns_once_that_every_frame_goes(model, url, caplog):
    """Transformers' Qwen2-VL processor has no default fps: the whole clip reaches the model
    (HF-exact), and the server is told once how to bound it; a server fps silences it."""
    with use_standin("main") as trt:
        mmfast.enable()
        with caplog.at_level(logging.WARNING, logger="trtllm_mmfast.integrations.tensorrt_llm"):
            for _ in range(2):
                _, extra = _chat(trt, model, url)
            _chat(trt, model, url, media_io_kwargs={"video": {"fps": 2}})
        counted = mmfast.stats().get("every_frame_videos")
    warned = [r for r in caplog.records if "every frame of its clip" in r.getMessage()]
    assert len(warned) == 1 and "media_io_kwargs" in warned[0].getMessage() and counted == 2
    assert int(extra["multimodal_data"]["video"]["video_grid_thw"][0, 0]) * 2 == CLIP.num_frames  # all 40 frames
