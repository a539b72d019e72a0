"""``trtllm_mmfast.integrations.tensorrt_llm`` against stand-in TensorRT-LLM packages.

The stand-ins (tests/trtllm_standins/) mirror the hook points of TensorRT-LLM 1.2.x and of
main as recorded in TRTLLM_HOOKS.md; a real TensorRT-LLM is never imported.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import types

import numpy as np
import pytest
import torch

from trtllm_harness import standin_fixture
from trtllm_harness import PROMPT_TEXT, VIDEO_PLACEHOLDER, is_main, load, messages, mod
from trtllm_harness import data_url as _data_url
from trtllm_harness import make_processor as _make_processor
from trtllm_harness import server as _server
from trtllm_mmfast import load_video
from trtllm_mmfast.integrations import tensorrt_llm as mmfast
from trtllm_mmfast.processors.qwen3_vl import sampler_for, wrap
from trtllm_mmfast.video.sampling import qwen3_vl_indices, uniform_indices
from trtllm_standins.standin import use_standin

_MAIN_STATUS = {
    "video_loader": "applied",
    "image_loader": "applied",
    "media_load_pool": "applied",
    "input_processing_pool": "already native",
    "qwen3_vl_input_processor": "applied",
    "qwen2_vl_input_processor": "applied",
    "event_loop": "already native",
}
EXPECTED_STATUS = {
    "main_2026h1": _MAIN_STATUS,
    "v1_2": {
        "video_loader": "applied",
        "image_loader": "applied",
        "media_load_pool": "applied",
        "input_processing_pool": "not found",
        "qwen3_vl_input_processor": "applied",
        "qwen2_vl_input_processor": "applied",
        "event_loop": "applied",
    },
    "main": _MAIN_STATUS,
}


trtllm = standin_fixture()


@pytest.fixture(scope="session")
def data_url(small_clip):
    return _data_url(small_clip)


_mod = mod
_is_main = is_main
_load = load
_messages = messages


def _snapshot(trt) -> dict:
    """The objects enable() may replace, by identity."""
    registry = _mod("tensorrt_llm.inputs.registry")
    modeling = _mod("tensorrt_llm._torch.models.modeling_qwen3vl")
    chat_utils = _mod("tensorrt_llm.serve.chat_utils")
    snap = {
        "processor": registry.INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type[modeling.Qwen3VLModel],
        "placeholders": registry.MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholder_metadata("qwen3_vl"),
        "policy": type(asyncio.get_event_loop_policy()),
    }
    if _is_main(trt):
        media_io = _mod("tensorrt_llm.inputs.media_io")
        snap |= {
            "registry": media_io.MEDIA_IO_REGISTRY,
            "chat_registry": chat_utils.MEDIA_IO_REGISTRY,
            "inputs_registry": _mod("tensorrt_llm.inputs").MEDIA_IO_REGISTRY,
            "executor": media_io.BaseMediaIO._executor,
        }
    else:
        snap["async_load_video"] = chat_utils.async_load_video
    return snap


# ---- enable / plan / disable ----------------------------------------------------------------


def test_plan_reports_without_patching(trtllm):
    before = _snapshot(trtllm)
    report = mmfast.plan()
    assert report.dry_run and report.generation == ("main" if _is_main(trtllm) else "1.2")
    assert {h.name: h.status for h in report.hooks} == EXPECTED_STATUS[trtllm.STANDIN]
    assert "would apply" in str(report)
    assert _snapshot(trtllm) == before and not mmfast.is_enabled()


def test_enable_applies_every_hook_and_disable_restores_them(trtllm):
    before = _snapshot(trtllm)
    report = mmfast.enable()
    assert not report.dry_run and report.version == trtllm.__version__
    assert {h.name: h.status for h in report.hooks} == EXPECTED_STATUS[trtllm.STANDIN]
    after = _snapshot(trtllm)
    modeling = _mod("tensorrt_llm._torch.models.modeling_qwen3vl")
    fast = after["processor"]
    assert fast is not before["processor"] and issubclass(fast, modeling.Qwen3VLInputProcessorBase)
    assert fast.support_mm_disagg and fast._registered_model_type == "qwen3_vl"
    assert after["placeholders"] == before["placeholders"]  # re-registered with the same metadata
    if _is_main(trtllm):
        media_io = _mod("tensorrt_llm.inputs.media_io")
        assert isinstance(after["registry"], types.MappingProxyType)
        assert after["registry"]["video"] is not media_io.VideoMediaIO
        assert issubclass(after["registry"]["video"], media_io.VideoMediaIO)
        assert after["registry"]["image"] is not media_io.ImageMediaIO and issubclass(after["registry"]["image"], media_io.ImageMediaIO)
        assert after["chat_registry"] is after["registry"] is after["inputs_registry"]
        assert after["executor"] is not None and after["executor"] is not before["executor"]
        assert after["policy"] is before["policy"]
    else:
        assert after["async_load_video"] is not before["async_load_video"]
        assert after["async_load_video"].__mmfast_hook__
        assert after["policy"].__module__.startswith("uvloop")

    assert mmfast.disable() is True
    assert _snapshot(trtllm) == before
    assert not mmfast.is_enabled() and mmfast.disable() is False


def test_enable_is_idempotent(trtllm):
    first = mmfast.enable()
    patched = _snapshot(trtllm)
    assert mmfast.enable(media_load_workers=3) is first
    assert _snapshot(trtllm) == patched  # nothing patched twice
    mmfast.disable()
    assert _snapshot(trtllm) != patched


def test_unrecognised_api_fails_naming_what_it_looked_for_and_patches_nothing(monkeypatch):
    with use_standin("main") as trt:
        chat_utils = _mod("tensorrt_llm.serve.chat_utils")
        monkeypatch.delattr(chat_utils, "_make_media_io")
        before = _snapshot(trt)
        with pytest.raises(mmfast.UnsupportedTensorRTLLMError) as err:
            mmfast.enable()
        msg = str(err.value)
        assert "chat_utils._make_media_io [MISSING]" in msg and "media_io.BaseMediaIO.set_executor [found]" in msg
        assert "'1.2' layout" in msg and "no tensorrt_llm.inputs.media_io [MISSING]" in msg
        assert "nothing was patched" in msg
        assert _snapshot(trt) == before and not mmfast.is_enabled()


def test_a_failing_hook_rolls_back_the_others(monkeypatch, trtllm):
    registry = _mod("tensorrt_llm.inputs.registry")
    before = _snapshot(trtllm)

    class ReadOnlyRegistry:  # the input-processor hook cannot wrap this registry's table
        def __init__(self, table):
            object.__setattr__(self, "_input_processors_cls_by_model_type", table)

        def __setattr__(self, name, value):
            raise RuntimeError("registry is read-only today")

    table = registry.INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type
    monkeypatch.setattr(registry, "INPUT_PROCESSOR_REGISTRY", ReadOnlyRegistry(table))
    with pytest.raises(RuntimeError, match="read-only today"):
        mmfast.enable()
    assert _snapshot(trtllm) == before and not mmfast.is_enabled()


def test_missing_tensorrt_llm_is_reported():
    with use_standin(None):
        with pytest.raises(mmfast.TensorRTLLMNotFoundError, match=r"pip install 'trtllm-mmfast\[trtllm\]'"):
            mmfast.enable()
        assert mmfast.summary() == {"installed": False, "hint": "pip install 'trtllm-mmfast[trtllm]'"}
        assert "tensorrt_llm" not in sys.modules


def test_bad_options_fail_before_anything_is_patched(trtllm):
    before = _snapshot(trtllm)
    with pytest.raises(ValueError, match="media_load_workers"):
        mmfast.enable(media_load_workers=0)
    with pytest.raises(ValueError, match="unknown video backend"):
        mmfast.enable(video_backend="nope")
    assert _snapshot(trtllm) == before and not mmfast.is_enabled()


# ---- a Qwen3-VL request end to end ------------------------------------------------------------


def test_qwen3_vl_request_matches_our_pipeline(trtllm, model_dir, small_clip, data_url):
    """Loader + input processor through the stand-in chat server == wrap(p)(..., load_video(...))."""
    mmfast.enable()
    processor = _make_processor(model_dir)
    assert type(processor).__name__ == "FastQwen3VLInputProcessor"
    server = _server(trtllm, processor)
    token_ids, extra = asyncio.run(server.chat_multimodal(_messages(data_url)))

    from transformers import AutoProcessor

    hf = AutoProcessor.from_pretrained(str(model_dir), local_files_only=True)
    video = load_video(small_clip, sampler=sampler_for(hf))
    sep = _mod("tensorrt_llm.inputs.registry").MULTIMODAL_PLACEHOLDER_REGISTRY.get_placeholder_metadata("qwen3_vl").placeholders_separator
    ours = wrap(hf)(text=VIDEO_PLACEHOLDER + sep + PROMPT_TEXT, videos=video)
    assert token_ids == processor._postprocess(ours["input_ids"][0]).tolist()  # 1.2 remaps media token ids
    got = extra["multimodal_data"]["video"]
    assert torch.equal(got["pixel_values_videos"], ours["pixel_values_videos"])
    assert torch.equal(got["video_grid_thw"], ours["video_grid_thw"])
    if _is_main(trtllm) and trtllm.STANDIN == "main":
        # main's "np" frames are one (N,H,W,3) array, which its find_mm_token_lengths refuses
        # ("Video must be a list of frames"): hashing is off, for stock as for us
        # (tests/test_integration_token_counts.py compares the two).
        assert "multimodal_hashes" not in extra and processor.multimodal_hashing_supported is False
    else:
        assert len(extra["multimodal_hashes"]["video"]) == 1  # TensorRT-LLM's hashing took our frames
    if _is_main(trtllm):
        server.shutdown()


@pytest.mark.parametrize(
    ("kwargs", "expect"),
    [
        ({}, {}),  # neither given: the processor's own fps (2)
        ({"fps": 1}, {"fps": 1}),
        ({"num_frames": 6}, {"num_frames": 6}),
        ({"fps": 4, "num_frames": 5}, {"num_frames": 5}),  # num_frames caps the count at fps
        ({"fps": 1, "num_frames": 64}, {"fps": 1}),  # cap not reached
        ({"num_frames": 0}, {}),  # <= 0: not given
    ],
)
def test_sampling_follows_the_qwen3_vl_processor(trtllm, model_dir, data_url, kwargs, expect):
    mmfast.enable()
    processor = _make_processor(model_dir)
    vd = asyncio.run(_load(trtllm, data_url, **kwargs))
    hf = processor.processor.video_processor
    want = qwen3_vl_indices(90, 30.0, default_fps=hf.fps, min_frames=hf.min_frames, max_frames=hf.max_frames, **expect)
    assert vd.metadata["frames_indices"] == want.tolist()
    assert set(vd.metadata) == {"total_num_frames", "fps", "duration", "frames_indices"}
    assert vd.metadata["total_num_frames"] == 90 and vd.metadata["fps"] == pytest.approx(30.0)


def test_pt_frames_for_the_fast_processor_are_uint8_views(trtllm, model_dir, small_clip, data_url):
    mmfast.enable()
    processor = _make_processor(model_dir)  # held, as the LLM holds it (the loader only keeps a weakref)
    vd = asyncio.run(_load(trtllm, data_url, format="pt"))
    assert isinstance(vd.frames, mmfast.FrameList)
    frames = vd.frames.video.frames
    assert all(f.dtype == torch.uint8 and f.shape == (3, 64, 96) for f in vd.frames)
    assert vd.frames[0].data_ptr() == frames.ctypes.data  # a view, no copy
    assert torch.equal(vd.frames[1], torch.from_numpy(frames[1]).permute(2, 0, 1))
    del processor
    vd = asyncio.run(_load(trtllm, data_url, format="pt"))  # no fast processor left: TensorRT-LLM's contract
    assert vd.frames[0].dtype == torch.float32 and len(vd.frames) == 10


def test_other_models_keep_trtllm_sampling_and_formats(trtllm, small_clip, data_url):
    """No fast Qwen3-VL processor in the process: TensorRT-LLM's uniform sampling and formats."""
    mmfast.enable()
    want = uniform_indices(90, 30.0, fps=30, num_frames=10)
    ref = load_video(small_clip, sampler="uniform", fps=30, num_frames=10).frames
    pt = asyncio.run(_load(trtllm, data_url))  # TensorRT-LLM's defaults: 10 frames, "pt"
    assert pt.metadata["frames_indices"] == want.tolist()
    assert all(f.dtype == torch.float32 and f.shape == (3, 64, 96) and f.is_contiguous() for f in pt.frames)
    ref_t = torch.from_numpy(ref).permute(0, 3, 1, 2).float()
    ref_t = ref_t * (1 / 255) if _is_main(trtllm) else ref_t / 255  # main scales by 1/255, 1.2 ToTensor divides
    assert torch.equal(torch.stack(list(pt.frames)), ref_t)
    np_frames = asyncio.run(_load(trtllm, data_url, format="np", num_frames=4))
    assert np.array_equal(np.stack(np_frames.frames), load_video(small_clip, sampler="uniform", fps=30, num_frames=4).frames)
    pil = asyncio.run(_load(trtllm, data_url, format="pil", num_frames=2))
    assert np.array_equal(np.asarray(pil.frames[0]), np_frames.frames.video.frames[0])
    with pytest.raises(ValueError, match="format must be one of"):
        asyncio.run(_load_strict(trtllm, data_url, format="bogus"))


async def _load_strict(trt, url, **kw):
    """Like _load, but 1.2's chat path swallows errors; call the loader itself."""
    chat_utils = _mod("tensorrt_llm.serve.chat_utils")
    if _is_main(trt):
        return await chat_utils._make_media_io("video", None, {"video": kw}).async_load(url)
    return await chat_utils.async_load_video(url, **kw)


def test_videos_not_from_our_loader_take_the_stock_path(trtllm, model_dir, small_clip, monkeypatch):
    mmfast.enable()
    processor = _make_processor(model_dir)
    modeling = _mod("tensorrt_llm._torch.models.modeling_qwen3vl")
    base = modeling.Qwen3VLInputProcessorBase
    calls = []
    monkeypatch.setattr(base, "_preprocess", lambda self, *a: calls.append(a) or "stock")
    video_data = _mod("tensorrt_llm.inputs").VideoData
    frames = load_video(small_clip, num_frames=4).frames
    vd = video_data(frames=list(frames), metadata={"fps": 30.0, "total_num_frames": 90, "duration": 3.0, "frames_indices": [0, 1, 2, 3]})
    assert processor._preprocess("x", {"video": [vd]}, {}) == "stock" and len(calls) == 1


def test_float_images_next_to_our_videos(trtllm, model_dir, small_clip, data_url):
    """TensorRT-LLM's "pt" images are float [0, 1]; our videos are uint8: rescaled per modality."""
    mmfast.enable()
    processor = _make_processor(model_dir)
    vd = asyncio.run(_load(trtllm, data_url))
    image = torch.rand(3, 56, 84)
    text = "<|vision_start|><|image_pad|><|vision_end|>" + VIDEO_PLACEHOLDER + PROMPT_TEXT
    got = processor._preprocess(text, {"image": [image], "video": [vd]}, {})

    from transformers import AutoProcessor

    hf = AutoProcessor.from_pretrained(str(model_dir), local_files_only=True)
    want = wrap(hf)(text=[text], images=[image], videos=[vd.frames.video], images_kwargs={"do_rescale": False}, padding=True)
    for key in ("input_ids", "pixel_values", "pixel_values_videos", "video_grid_thw"):
        assert torch.equal(got[key], want[key]), key


# ---- where the work runs ------------------------------------------------------------------


def _record_decode_threads(monkeypatch) -> list:
    """Thread names that ran load_video (sync in main's media IO, via the async pipeline in 1.2)."""
    import trtllm_mmfast.runtime.pipeline as pipeline
    import trtllm_mmfast.video.api as api

    names = []
    real = api.load_video

    def spy(*args, **kwargs):
        names.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "load_video", spy)
    monkeypatch.setattr(pipeline, "load_video", spy)
    return names


def test_decode_runs_in_a_media_load_pool_not_on_the_loop(trtllm, model_dir, data_url, monkeypatch):
    names = _record_decode_threads(monkeypatch)
    mmfast.enable(media_load_workers=2)
    processor = _make_processor(model_dir)
    asyncio.run(_load(trtllm, data_url))
    assert names[-1].startswith("mmfast-media-")  # our pool (main: via BaseMediaIO.set_executor)
    if _is_main(trtllm):  # the server installs its own, natively sized pool
        server = _server(trtllm, processor)
        asyncio.run(server.chat_multimodal(_messages(data_url)))
        assert names[-1].startswith("trtllm_media_load")
        server.shutdown()


def test_main_request_kwargs_merge_as_trtllm_does(model_dir, data_url):
    """Server default num_frames=8; a request giving only fps drops it (VideoMediaIO.merge_kwargs)."""
    with use_standin("main"):
        mmfast.enable()
        processor = _make_processor(model_dir)
        server = _server(types.SimpleNamespace(STANDIN="main"), processor, media_io_kwargs={"video": {"num_frames": 8}})
        chat_utils = _mod("tensorrt_llm.serve.chat_utils")
        cfg = server.multimodal_server_config
        assert cfg.media_io_kwargs["video"] == {"format": "np", "num_frames": 8}  # the flag merged into the preferred kwargs
        io = chat_utils._make_media_io("video", cfg, None)
        assert len(asyncio.run(io.async_load(data_url)).frames) == 8
        io = chat_utils._make_media_io("video", cfg, {"video": {"fps": 1, "format": "np"}})
        vd = asyncio.run(io.async_load(data_url))
        want = qwen3_vl_indices(90, 30.0, fps=1)
        assert vd.metadata["frames_indices"] == want.tolist()
        # newest main's "np": ONE (N,H,W,3) uint8 array, a view of our decoded frames
        assert isinstance(vd.frames, np.ndarray) and vd.frames.shape == (len(want), 64, 96, 3) and vd.frames.dtype == np.uint8
        assert np.shares_memory(vd.frames, vd.frames.video.frames)
        server.shutdown()


def test_main_file_url_and_http_bytes(clip_file, small_clip, monkeypatch):
    monkeypatch.setenv("TRTLLM_MMFAST_ALLOWED_MEDIA_ROOTS", str(clip_file.parent))  # server policy: no local files by default
    with use_standin("main"):
        mmfast.enable()
        chat_utils = _mod("tensorrt_llm.serve.chat_utils")
        media_io = _mod("tensorrt_llm.inputs.media_io")
        want = load_video(small_clip, sampler="uniform", fps=30, num_frames=10).frames
        for url in (clip_file.as_uri(), str(clip_file)):
            vd = asyncio.run(chat_utils._make_media_io("video", None, {"video": {"format": "np"}}).async_load(url))
            assert np.array_equal(np.stack(vd.frames), want)

        async def fake_get(url, **kwargs):  # TensorRT-LLM's safe client, not modelled by the stand-in
            return small_clip

        async def no_session():  # the real shared aiohttp session would outlive the test's loop
            return None

        monkeypatch.setattr(media_io, "_safe_aiohttp_get", fake_get)
        monkeypatch.setattr(media_io, "_get_aiohttp_session", no_session)
        vd = asyncio.run(chat_utils._make_media_io("video", None, {"video": {"format": "np"}}).async_load("https://x.test/v.mp4"))
        assert np.array_equal(np.stack(vd.frames), want)


def test_v1_2_http_fetches_into_memory(small_clip, monkeypatch):
    """1.2: http(s) bytes fetched with aiohttp and decoded without a temporary file."""
    monkeypatch.setenv("TRTLLM_MMFAST_FETCH_ALLOW", "127.0.0.1")  # the SSRF guard refuses loopback by default
    aiohttp_web = pytest.importorskip("aiohttp.web")
    import tempfile

    def no_tempfiles(*a, **k):
        raise AssertionError("a temporary file was created")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_tempfiles)
    monkeypatch.setattr(tempfile, "mkstemp", no_tempfiles)

    async def clip(request):
        return aiohttp_web.Response(body=small_clip, content_type="video/mp4")

    async def run():
        app = aiohttp_web.Application()
        app.router.add_get("/clip.mp4", clip)
        runner = aiohttp_web.AppRunner(app)
        await runner.setup()
        site = aiohttp_web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            chat_utils = _mod("tensorrt_llm.serve.chat_utils")
            ok = await chat_utils.async_load_video(f"http://127.0.0.1:{port}/clip.mp4", format="np")
            with pytest.raises(Exception, match="404"):
                await chat_utils.async_load_video(f"http://127.0.0.1:{port}/missing.mp4")
            return ok
        finally:
            await runner.cleanup()

    with use_standin("v1_2"):
        mmfast.enable()
        vd = asyncio.run(run())
    assert np.array_equal(np.stack(vd.frames), load_video(small_clip, sampler="uniform", fps=30, num_frames=10).frames)


def test_v1_2_runs_the_server_loop_on_uvloop():
    with use_standin("v1_2"):
        from trtllm_mmfast.runtime.loop import is_uvloop

        mmfast.enable()

        async def probe():
            return is_uvloop()

        assert asyncio.run(probe()) is True  # what trtllm-serve 1.2's asyncio.run now gets
        mmfast.disable()
        assert asyncio.run(probe()) is False


def test_v1_2_loader_keeps_the_stock_signature():
    with use_standin("v1_2"):
        import inspect

        chat_utils = _mod("tensorrt_llm.serve.chat_utils")
        stock = inspect.signature(chat_utils.async_load_video)
        mmfast.enable()
        ours = inspect.signature(chat_utils.async_load_video)
        assert inspect.iscoroutinefunction(chat_utils.async_load_video)
        assert [(p.name, p.default) for p in ours.parameters.values()] == [
            (p.name, p.default) for p in stock.parameters.values()
        ]


def test_frame_list_survives_pickling(trtllm, model_dir, data_url):
    import pickle

    mmfast.enable()
    processor = _make_processor(model_dir)
    vd = asyncio.run(_load(trtllm, data_url, format="np"))
    back = pickle.loads(pickle.dumps(vd.frames))
    assert isinstance(back, (mmfast.FrameList, mmfast.FrameArray)) and type(back) is type(vd.frames)
    got, want = mmfast.loaded_clip(back), mmfast.loaded_clip(vd.frames)
    assert got.request == want.request and got.source == want.source  # can still re-plan after a round trip
    assert back.video.metadata == vd.frames.video.metadata
    assert np.array_equal(np.stack(back), vd.frames.video.frames)
    del processor


def test_report_lists_each_hook(trtllm):
    report = mmfast.enable()
    assert [h.name for h in report.hooks] == list(EXPECTED_STATUS[trtllm.STANDIN])
    assert report["qwen3_vl_input_processor"].status == "applied"
    with pytest.raises(KeyError, match="no hook"):
        report["nope"]
    d = report.as_dict()
    assert d["generation"] in ("1.2", "main") and len(d["hooks"]) == 7
