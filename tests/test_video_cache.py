"""The repeat-video cache end to end: ``load_video(..., cache=)``, ``wrap(..., cache=)`` and
the TensorRT-LLM integration (stand-ins): a hit decodes nothing and runs no HF video
processing, gives the cold result (and stock transformers'), and nothing but the same
source bytes with the same settings can hit."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from conftest import clip_bytes, reference_frames  # noqa: E402
from trtllm_harness import PROMPT_TEXT, VIDEO_PLACEHOLDER, data_url, make_processor, messages  # noqa: E402
from trtllm_harness import server as make_server  # noqa: E402
from trtllm_mmfast import load_video, load_video_async  # noqa: E402
from trtllm_mmfast.cache import VideoCache  # noqa: E402
from trtllm_mmfast.errors import InvalidMediaError  # noqa: E402
from trtllm_mmfast.integrations import tensorrt_llm as mmfast  # noqa: E402
from trtllm_mmfast.processors.qwen3_vl import sampler_for, wrap  # noqa: E402
from trtllm_mmfast.processors.tiny import tiny_processor  # noqa: E402
from trtllm_mmfast.synth import ClipSpec  # noqa: E402
from trtllm_standins.standin import use_standin  # noqa: E402

SPEC = ClipSpec(width=96, height=64, num_frames=90, fps=30, gop=30, bframes=2)
OTHER = ClipSpec(width=96, height=64, num_frames=90, fps=30, gop=30, bframes=2, seed=7)
PROMPT = VIDEO_PLACEHOLDER + "{}"


@pytest.fixture(scope="module")
def clip() -> bytes:
    return clip_bytes(SPEC)


@pytest.fixture
def counted(monkeypatch):
    """Counts of backend opens (probe + decode) and HF video-processor runs."""
    import trtllm_mmfast.video.api as api
    from transformers.video_processing_utils import BaseVideoProcessor

    calls = {"open": 0, "video_processor": 0}
    real_open, real_pre = api.open_video, BaseVideoProcessor.preprocess

    def spy_open(*a, **k):
        calls["open"] += 1
        return real_open(*a, **k)

    def spy_pre(self, *a, **k):
        calls["video_processor"] += 1
        return real_pre(self, *a, **k)

    monkeypatch.setattr(api, "open_video", spy_open)
    monkeypatch.setattr(BaseVideoProcessor, "preprocess", spy_pre)
    return calls


def _in_threads(fn, n: int) -> None:
    threads = [threading.Thread(target=fn) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _same(a, b, keys=("input_ids", "pixel_values_videos", "video_grid_thw")):
    return all(torch.equal(a[k], b[k]) for k in keys)


# ---- library: load_video + wrap ----------------------------------------------------------


def test_hit_decodes_nothing_runs_no_video_processor_and_equals_cold_and_stock(clip, counted):
    cache = VideoCache(64 << 20)
    hf = tiny_processor()
    fast = wrap(hf, cache=cache)
    cold = fast(text=[PROMPT.format("first question")], videos=load_video(clip, sampler=sampler_for(hf), cache=cache))
    assert counted == {"open": 1, "video_processor": 1}
    hit_video = load_video(clip, sampler=sampler_for(hf), cache=cache)
    hit = fast(text=[PROMPT.format("a second, longer question")], videos=hit_video)
    assert counted == {"open": 1, "video_processor": 1}  # nothing decoded or processed again
    assert torch.equal(hit["pixel_values_videos"], cold["pixel_values_videos"])
    assert torch.equal(hit["video_grid_thw"], cold["video_grid_thw"])
    # the text side ran: input_ids follow the new prompt, exactly as stock transformers gives them
    frames = reference_frames(clip)
    meta = {"total_num_frames": 90, "fps": 30.0, "duration": 3.0, "frames_indices": list(range(90))}
    stock = tiny_processor()(text=[PROMPT.format("a second, longer question")], videos=[frames], video_metadata=[meta],
                             do_sample_frames=True, return_tensors="pt")
    assert _same(hit, stock)
    assert cache.stats()["hits"] == 2 and cache.stats()["misses"] == 2


def _padded(a: bytes, b: bytes) -> tuple[bytes, bytes]:
    """The two clips at one length (trailing bytes after the last box are ignored by demuxers)."""
    n = max(len(a), len(b))
    return a + b"\0" * (n - len(a)), b + b"\0" * (n - len(b))


def test_the_miss_matrix(clip, counted):
    cache = VideoCache(64 << 20)
    hf = tiny_processor()
    base = load_video(clip, cache=cache, sampler=sampler_for(hf))
    changed = clip.replace(b"Lavf", b"Lavg", 1)  # one byte of the encoder tag: same pixels, other bytes
    assert len(changed) == len(clip) and changed != clip
    same_len_a, same_len_b = _padded(clip, clip_bytes(OTHER))
    variants = {
        "fps": dict(source=clip, fps=1),
        "num_frames": dict(source=clip, num_frames=8),
        "sampler": dict(source=clip, sampler="uniform", fps=30, num_frames=10),
        "one byte changed": dict(source=changed),
        "same length, other video": dict(source=same_len_b),
        "padded": dict(source=same_len_a),
    }
    opens = counted["open"]
    for name, kw in variants.items():
        kw.setdefault("sampler", sampler_for(hf))
        got = load_video(cache=cache, **kw)
        opens += 1
        assert counted["open"] == opens, f"{name}: a hit"
        same_source = name in ("fps", "num_frames", "sampler")
        assert got is not base and (got.metadata.source_digest == base.metadata.source_digest) == same_source, name
    assert cache.stats()["hits"] == 0
    # other processor configuration: the processed entry does not serve it
    a, b = tiny_processor(), tiny_processor()
    b.video_processor.image_mean = [0.0, 0.0, 0.0]  # another normalisation: other pixel values
    out_a = wrap(a, cache=cache)(text=[PROMPT.format("q")], videos=base)
    runs = counted["video_processor"]
    out_b = wrap(b, cache=cache)(text=[PROMPT.format("q")], videos=base)
    assert counted["video_processor"] == runs + 1
    assert not torch.equal(out_a["pixel_values_videos"], out_b["pixel_values_videos"])  # a hit would have been wrong


def test_eviction_under_the_byte_budget_and_no_leak(clip):
    one = load_video(clip, cache=None).nbytes
    cache = VideoCache(int(one * 2.5))  # room for two clips' frames
    first = load_video(clip, cache=cache)
    ref = weakref.ref(first.frames)
    load_video(clip, cache=cache, num_frames=90)
    load_video(clip, cache=cache, fps=4)
    assert cache.stats()["evictions"] >= 1 and cache.stats()["bytes"] <= cache.max_bytes
    del first
    gc.collect()
    assert ref() is None  # the evicted frames are freed
    load_video(clip, cache=cache)
    assert cache.stats()["misses"] == 4


def test_single_flight_eight_identical_requests_decode_once(clip, counted):
    cache = VideoCache(64 << 20)
    barrier = threading.Barrier(8)
    out, errors = [], []

    def one():
        barrier.wait()
        try:
            out.append(load_video(clip, cache=cache))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    _in_threads(one, 8)
    assert not errors and len(out) == 8 and all(v is out[0] for v in out)
    assert counted["open"] == 1
    s = cache.stats()
    assert s["misses"] == 1 and s["hits"] + s["joins"] == 7


def test_single_flight_failure_reaches_every_waiter_and_is_not_cached(counted):
    cache = VideoCache(64 << 20)
    bad = b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 200
    barrier = threading.Barrier(8)
    errors = []

    def one():
        barrier.wait()
        try:
            load_video(bad, cache=cache)
        except InvalidMediaError as e:
            errors.append(e)

    _in_threads(one, 8)
    assert len(errors) == 8 and len(cache) == 0
    opened = counted["open"]
    assert 1 <= opened <= 8  # one flight, or a few after it failed: never a cached failure
    with pytest.raises(InvalidMediaError):
        load_video(bad, cache=cache)
    assert counted["open"] == opened + 1  # the next request tries again


def test_concurrent_mixed_workload_gives_uncached_results(clip):
    other = clip_bytes(OTHER)
    cache = VideoCache(int(load_video(clip).nbytes * 3))  # small: evictions happen
    refs = {(src, fps): load_video(src, fps=fps).frames for src in (clip, other) for fps in (1, 2, 4)}
    failures = []

    seeds = iter(range(6))

    def worker():
        rng = np.random.default_rng(next(seeds))
        for _ in range(12):
            src, fps = list(refs)[rng.integers(len(refs))]
            got = load_video(src, fps=fps, cache=cache)
            if not np.array_equal(got.frames, refs[(src, fps)]):
                failures.append((fps, len(src)))

    _in_threads(worker, 6)
    s = cache.stats()
    assert failures == [] and s["bytes"] <= s["max_bytes"]
    assert s["hits"] + s["misses"] + s["joins"] == 6 * 12


def test_async_hit_holds_no_frame_budget(clip):
    from trtllm_mmfast.runtime import budget

    cache = VideoCache(64 << 20)

    async def two():
        a = await load_video_async(clip, cache=cache)
        b = await load_video_async(clip, cache=cache)
        return a, b

    a, b = asyncio.run(two())
    assert a is b and budget.frame_budget().in_use == 0  # cached frames are the cache's, not the budget's


# ---- the TensorRT-LLM integration: a multi-turn chat ------------------------------------------


@pytest.mark.parametrize("policy", ["hf", "trtllm"])
def test_a_chat_resending_its_video_pays_once(model_dir, clip, counted, policy):
    url = data_url(clip)
    with use_standin("main") as trt:
        mmfast.enable(video_sampling=policy, video_cache_bytes="64MiB")
        srv = make_server(trt, make_processor(model_dir))
        turns = [asyncio.run(srv.chat_multimodal(messages(url, f"Question {i}: {PROMPT_TEXT}"))) for i in range(3)]
        srv.shutdown()
        assert counted == {"open": 1, "video_processor": 1}
        cache = mmfast.stats()["video_cache"]
        # frames + processed, turns 2 and 3; plus turn 1's second processor call: main's hashing
        # wrapper refuses the one-array "np" frames and re-runs the plain processor (a processed hit)
        assert cache["hits"] == 5 and cache["misses"] == 2
    with use_standin("main") as trt:  # stock, turn 3's prompt: the same model inputs
        stock_srv = make_server(trt, make_processor(model_dir))
        if policy == "trtllm":
            stock = asyncio.run(stock_srv.chat_multimodal(messages(url, f"Question 2: {PROMPT_TEXT}")))
            assert turns[2][0] == stock[0]
            for key in ("pixel_values_videos", "video_grid_thw"):
                assert torch.equal(turns[2][1]["multimodal_data"]["video"][key], stock[1]["multimodal_data"]["video"][key])
        stock_srv.shutdown()
    assert turns[0][0] != turns[2][0]  # the text side followed each turn's question


def test_cache_option_is_validated_reported_and_can_be_off(monkeypatch):
    with use_standin("main"):
        assert "per process" in mmfast.plan().settings["video_cache"]
        with pytest.raises(ValueError, match="video_cache_bytes|byte"):
            mmfast.enable(video_cache_bytes="lots")
        assert not mmfast.is_enabled()
        mmfast.enable(video_cache_bytes=0)
        assert mmfast.stats()["video_cache"] is None and mmfast.plan().settings["video_cache"] == "off"
        mmfast.disable()
        monkeypatch.setenv("TRTLLM_MMFAST_VIDEO_CACHE_BYTES", "1MiB")
        mmfast.enable()
        assert mmfast.stats()["video_cache"]["max_bytes"] == 1 << 20


def test_the_other_sampling_policy_misses(model_dir, clip, counted):
    """Same bytes, same request, the other policy: other frames reach the model, so no hit."""
    url = data_url(clip)
    with use_standin("main") as trt:
        mmfast.enable(video_sampling="hf", video_cache_bytes="64MiB")
        srv = make_server(trt, make_processor(model_dir))
        hf_turn = asyncio.run(srv.chat_multimodal(messages(url)))
        mmfast.enable(video_sampling="trtllm", video_cache_bytes="64MiB")  # while enabled: same cache, other policy
        trt_turn = asyncio.run(srv.chat_multimodal(messages(url)))
        srv.shutdown()
        cache = mmfast.stats()["video_cache"]
    # the one hit: turn 1's second processor call (main's hashing wrapper falls back on "np" arrays)
    assert counted == {"open": 2, "video_processor": 2} and cache["hits"] == 1 and cache["misses"] == 4
    assert not torch.equal(hf_turn[1]["multimodal_data"]["video"]["video_grid_thw"],
                           trt_turn[1]["multimodal_data"]["video"]["video_grid_thw"])


def test_a_chat_resending_other_mm_processor_kwargs_decodes_them_once(model_dir, clip, counted):
    """Turns asking for fps=1 re-plan the loaded frames: the extra frames are decoded once."""
    url = data_url(clip)
    with use_standin("main") as trt:
        mmfast.enable(video_cache_bytes="64MiB")
        srv = make_server(trt, make_processor(model_dir))
        turns = [asyncio.run(srv.chat_multimodal(messages(url, f"Q{i}"), mm_processor_kwargs={"fps": 1})) for i in range(3)]
        srv.shutdown()
        assert counted == {"open": 1, "video_processor": 1}  # one load, one HF video processing
        assert mmfast.stats()["replanned_videos"] == 1 and mmfast.stats()["replanned_frames"] > 0  # one re-plan decode
    frames = reference_frames(clip)
    meta = {"total_num_frames": 90, "fps": 30.0, "duration": 3.0, "frames_indices": list(range(90))}
    stock = tiny_processor()(text=[VIDEO_PLACEHOLDER + "Q2"], videos=[frames], video_metadata=[meta],
                             do_sample_frames=True, fps=1, return_tensors="pt")
    assert torch.equal(turns[2][1]["multimodal_data"]["video"]["pixel_values_videos"], stock["pixel_values_videos"])
    assert turns[2][0] == stock["input_ids"][0].tolist()


def test_a_new_cache_from_enable_reaches_processors_built_before(model_dir, clip, counted):
    url = data_url(clip)
    with use_standin("main") as trt:
        mmfast.enable(video_cache_bytes="64MiB")
        srv = make_server(trt, make_processor(model_dir))  # its processor holds the 64 MiB cache
        asyncio.run(srv.chat_multimodal(messages(url)))
        mmfast.enable(video_cache_bytes="32MiB")  # a new, empty cache
        asyncio.run(srv.chat_multimodal(messages(url)))
        asyncio.run(srv.chat_multimodal(messages(url)))
        new = mmfast.stats()["video_cache"]
        assert new["max_bytes"] == 32 << 20 and new["misses"] == 2 and new["hits"] == 2  # frames + processed
        mmfast.enable(video_cache_bytes=0)  # off: nothing cached, nothing served from the old one
        runs = counted["video_processor"]
        asyncio.run(srv.chat_multimodal(messages(url)))
        srv.shutdown()
        assert mmfast.stats()["video_cache"] is None and counted["video_processor"] == runs + 1
