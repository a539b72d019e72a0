"""The nvdec backend (PyNvVideoCodec): what runs on a CPU machine, and CUDA tests for a GPU one.

CPU: unavailability and its message, the registry and ``info`` listing, ``auto`` never picking it,
and the backend's own logic (index mapping, batching, session pool, VRAM budget, fallback
decisions) against ``fakes/pynvvideocodec_standin.py``, a labelled STAND-IN of PyNvVideoCodec's
``SimpleDecoder`` (the real one needs an NVIDIA driver). The stand-in's pixels are PyAV's, so
its frames must equal the pyav backend's exactly: that checks the copying and the frame identity.

CUDA (``@cuda``: skipped without a GPU and a loadable PyNvVideoCodec; ``perf/gpu_check.sh`` runs
them): the real decoder against pyav: the same indices, pixels within ``MAX_ABS_DIFF`` /
``MEAN_ABS_DIFF`` (NVDEC's YUV->RGB is not swscale's), and the Qwen3-VL processor's outputs on
the GPU within ``PROCESSOR_MEAN_TOL`` / ``PROCESSOR_MAX_TOL`` of the CPU path's.
"""

from __future__ import annotations

import json
import logging
import threading

import numpy as np
import pytest
from conftest import clip_bytes

import fakes.pynvvideocodec_standin as standin
from trtllm_mmfast import load_video
from trtllm_mmfast.errors import BackendUnavailableError, InvalidMediaError, MediaTooLargeError
from trtllm_mmfast.runtime import vram
from trtllm_mmfast.synth import ClipSpec
from trtllm_mmfast.video import nvdec_backend, open_video, registry
from trtllm_mmfast.video._nvdec_caps import CodecFacts, NvdecCaps, fallback_reason, probe
from trtllm_mmfast.video.nvdec_backend import NvdecBackend, identity_problem, plan_batches
from trtllm_mmfast.video.source import MediaSource

STANDIN = "nvdec-standin"
MAX_ABS_DIFF = 48  # NVDEC vs swscale, 8-bit 4:2:0: different chroma upsampling at colour edges
MEAN_ABS_DIFF = 3.0
# The processor's pixel_values are (x / 255 - 0.5) / 0.5: a pixel difference d is 2d / 255 there;
# the bicubic resize can overshoot a little at edges (x 1.5 on the max).
PROCESSOR_MEAN_TOL = 2 * MEAN_ABS_DIFF / 255
PROCESSOR_MAX_TOL = 1.5 * 2 * MAX_ABS_DIFF / 255


def clip(**kw) -> ClipSpec:
    return ClipSpec(**{"width": 96, "height": 64, "num_frames": 90, "fps": 30, "gop": 30, "bframes": 3, **kw})


@pytest.fixture
def fake(monkeypatch):
    """The stand-in registered as a backend, with fresh stats, budgets, pools and fallback counts."""
    monkeypatch.setitem(registry._added, STANDIN, "fakes.pynvvideocodec_standin")  # registered for this test only
    standin.reset()
    vram.reset()
    nvdec_backend.reset_fallbacks()
    yield standin
    vram.reset()
    nvdec_backend.reset_fallbacks()


def both(data: bytes, **sampling) -> tuple:
    a = load_video(data, backend=STANDIN, device="cpu", **sampling)
    b = load_video(data, backend="pyav", **sampling)
    return a, b


# ---- unavailable here: the reason, the error, the listing ----------------------------------

def _real_gpu() -> bool:
    return nvdec_backend.BACKEND.unavailable_reason() is None


cuda = pytest.mark.skipif(not _real_gpu(), reason=f"nvdec unavailable: {nvdec_backend.BACKEND.unavailable_reason()}")
no_gpu = pytest.mark.skipif(_real_gpu(), reason="a usable NVDEC is present")


@no_gpu
def test_unavailable_without_the_driver_names_the_reason_and_the_extra(small_clip):
    reason = registry.available()["nvdec"]
    assert reason is not None and reason.startswith("PyNvVideoCodec cannot be loaded")
    try:
        import PyNvVideoCodec  # noqa: F401
    except RuntimeError as e:  # the wheel is installed, the driver is not: the case
        assert "libnvidia-encode.so.1" in str(e) and "libnvidia-encode.so.1" in reason
    except ImportError:
        assert "ModuleNotFoundError" in reason
    with pytest.raises(BackendUnavailableError, match=r"'nvdec' is not available \(PyNvVideoCodec .*trtllm-mmfast\[nvdec\]"):
        load_video(small_clip, fps=2, backend="nvdec")
    with pytest.raises(BackendUnavailableError):
        open_video(small_clip, backend="nvdec", device="cuda:0")


def test_reason_is_the_first_line_of_the_import_error():
    def no_driver():
        raise RuntimeError("Failed to load NVENC library: libnvidia-encode.so.1: cannot open shared object file\n\n=== TROUBLESHOOTING STEPS ===\n...")

    b = NvdecBackend(library=no_driver, cuda_check=lambda: None)
    assert b.unavailable_reason() == (
        "PyNvVideoCodec cannot be loaded: RuntimeError: Failed to load NVENC library: libnvidia-encode.so.1: "
        "cannot open shared object file"
    )
    assert NvdecBackend(library=lambda: standin, cuda_check=lambda: "torch sees no CUDA device").unavailable_reason() == (
        "torch sees no CUDA device"
    )


@no_gpu
def test_info_lists_nvdec_as_unavailable_with_its_reason():
    from click.testing import CliRunner

    from trtllm_mmfast.cli import main

    out = CliRunner().invoke(main, ["info"]).output
    line = next(x for x in out.splitlines() if x.strip().startswith("nvdec"))
    assert "unavailable: PyNvVideoCodec cannot be loaded" in line


def test_registry_lists_nvdec_and_auto_never_picks_it(monkeypatch, fake):
    assert "nvdec" in registry.names() and registry.BUILTIN["nvdec"] == "trtllm_mmfast.video.nvdec_backend"
    backend = registry.get("nvdec")
    assert backend.auto is False and backend.extra == "nvdec"
    monkeypatch.setattr(type(backend), "unavailable_reason", lambda self: None)  # as on a GPU machine
    assert registry.resolve("auto").name == "pyav"
    assert registry.available()[STANDIN] is None and registry.resolve("auto").name == "pyav"


# ---- frame identity, batching, repeats -------------------------------------------------------

@pytest.mark.parametrize("sampling", [{"fps": 2}, {"fps": 10}, {"num_frames": 8}, {"num_frames": 200}])
def test_same_indices_and_frames_as_pyav(fake, sampling, no_leaks):
    data = clip_bytes(clip(num_frames=120, gop=12))
    a, b = both(data, **sampling)
    assert a.metadata.frames_indices == b.metadata.frames_indices
    assert a.metadata.backend == STANDIN and a.metadata.total_num_frames == b.metadata.total_num_frames
    assert np.array_equal(a.frames, b.frames)
    assert nvdec_backend.fallbacks() == {} and fake.STATS.batches >= 1


def test_batches_hold_at_most_batch_frames_and_cover_each_target_once(fake, monkeypatch):
    monkeypatch.setattr(fake.BACKEND, "batch_frames", 4)
    data = clip_bytes(clip(num_frames=120, gop=12))
    with open_video(data, backend=STANDIN, device="cpu") as video:
        idx = video.sample(num_frames=30)
        got = video.decode(idx)
        again = video.decode(np.array([3, 3, 50, 119]))  # a second decode of the same opened video
    want = load_video(data, backend="pyav", num_frames=30)
    assert np.array_equal(got.frames, want.frames)
    assert again.metadata.frames_indices == (3, 3, 50, 119) and np.array_equal(again.frames[0], again.frames[1])
    sizes = fake.STATS.batch_sizes
    assert max(sizes) <= 4 and sum(sizes) == len(set(idx.tolist())) + 3
    assert plan_batches([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    with pytest.raises(ValueError):
        plan_batches([1], 0)


def test_identity_problem_names_the_first_wrong_frame():
    from fractions import Fraction

    assert identity_problem([1, 5], [10, 50], [10, 50]) is None
    assert identity_problem([1, 5], [10], [10, 50]) == "identity: NVDEC returned 1 of 2 frames asked for"
    assert identity_problem([1, 5], [10, 60], [10, 50]).startswith("identity: frame 5 came back with pts 60")
    tb = Fraction(1, 15360)  # 30 fps: 512 ticks a frame
    want = [512 * 1, 512 * 5, 512 * 7]
    assert identity_problem([1, 5, 7], [33, 167, 233], want, tb) is None  # ms, rounded
    assert identity_problem([1, 5, 7], [33, 166, 233], want, tb) is None  # ms, truncated
    assert identity_problem([1, 5, 7], [67, 200, 267], want, tb).startswith("identity: frame 1")  # one frame later, in ms
    assert identity_problem([1, 5, 7], [33, 167, 233], want) is not None  # no time base: only exact pts match


def test_pts_in_milliseconds_still_identify_the_frames(fake, no_leaks):
    fake.FAULTS.pts_in_ms = True
    a, b = both(clip_bytes(clip()), fps=10)
    assert np.array_equal(a.frames, b.frames) and nvdec_backend.fallbacks() == {}, nvdec_backend.fallback_examples()
    fake.FAULTS.pts_shift = 1
    both(clip_bytes(clip()), fps=10)
    assert nvdec_backend.fallbacks() == {"identity": 1}
    assert "NVDEC pts of this batch" in nvdec_backend.fallback_examples()["identity"]


# ---- fallbacks: decisions, counted, logged once, same result as pyav ------------------------

def facts(**kw) -> CodecFacts:
    return CodecFacts(**{"codec": "h264", "profile": "High", "pix_fmt": "yuv420p", "bit_depth": 8, "chroma": "420",
                         "width": 1920, "height": 1080, **kw})


@pytest.mark.parametrize(("kw", "kind"), [
    ({}, None),
    ({"codec": "hevc", "width": 3840, "height": 2160}, None),
    ({"codec": "mpeg4"}, "codec"),
    ({"profile": "High 4:4:4 Predictive", "pix_fmt": "yuv444p", "chroma": "444"}, "profile"),
    ({"bit_depth": 10, "pix_fmt": "yuv420p10le"}, "bit_depth"),  # H.264 10-bit: never on NVDEC
    ({"codec": "hevc", "bit_depth": 10, "pix_fmt": "yuv420p10le"}, "bit_depth"),  # off by default
    ({"codec": "hevc", "pix_fmt": "yuv422p", "chroma": "422"}, "chroma"),
    ({"width": 4098, "height": 2160}, "size"),
    ({"width": 32, "height": 32}, "size"),
    ({"width": 1921}, "size"),
    ({"rotation": 90}, "rotation"),
])  # fmt: skip
def test_fallback_reason_table(kw, kind):
    reason = fallback_reason(facts(**kw))
    assert (reason.partition(":")[0] if reason else None) == kind


def test_high_bit_depth_and_444_when_switched_on():
    caps = NvdecCaps(high_bit_depth=True, yuv444=True)
    assert fallback_reason(facts(codec="hevc", bit_depth=10, pix_fmt="yuv420p10le"), caps) is None
    assert fallback_reason(facts(codec="hevc", chroma="444", pix_fmt="yuv444p"), caps) is None
    assert fallback_reason(facts(bit_depth=10, pix_fmt="yuv420p10le"), caps).startswith("bit_depth")  # H.264 still not


def test_probe_reads_codec_depth_chroma_and_rotation():
    from test_parallel_decode import remux

    assert probe(MediaSource(data=clip_bytes(clip()))) == facts(width=96, height=64)
    f = probe(MediaSource(data=clip_bytes(clip(width=64, height=48, pix_fmt="yuv420p10le"))))
    assert (f.bit_depth, f.chroma, f.pix_fmt) == (10, "420", "yuv420p10le")
    assert probe(MediaSource(data=clip_bytes(clip(pix_fmt="yuv444p")))).chroma == "444"
    assert probe(MediaSource(data=remux(clip_bytes(clip()), "mp4", rotate=90))).rotation in (90, -90, 270)


def _fallback_inputs() -> dict[str, bytes]:
    from test_parallel_decode import remux

    data = clip_bytes(clip())
    return {
        "codec": clip_bytes(clip(codec="mpeg4", gop=12, bframes=2)),
        "bit_depth": clip_bytes(clip(width=160, height=144, codec="libx265", pix_fmt="yuv420p10le", num_frames=30)),
        "chroma": clip_bytes(clip(width=160, height=144, codec="libx265", pix_fmt="yuv422p", num_frames=30)),
        "profile": clip_bytes(clip(pix_fmt="yuv444p")),  # H.264 High 4:4:4 Predictive
        "size": clip_bytes(clip(width=32, height=32, num_frames=30)),  # under H.264's 48x16 minimum
        "rotation": remux(data, "mp4", rotate=90),
        "damaged": (cut := clip_bytes(clip(faststart=True)))[: len(cut) * 2 // 3],  # truncated
    }


@pytest.mark.parametrize("kind", ["codec", "bit_depth", "chroma", "profile", "size", "rotation", "damaged"])
def test_what_nvdec_cannot_do_decodes_on_the_cpu_with_the_same_result(fake, kind, caplog, no_leaks):
    data = _fallback_inputs()[kind]
    with caplog.at_level(logging.WARNING, logger="trtllm_mmfast.video.nvdec_backend"):
        a, b = both(data, fps=10)
        a2, _ = both(data, fps=5)
    assert a.metadata.frames_indices == b.metadata.frames_indices and np.array_equal(a.frames, b.frames)
    assert len(a2) > 0 and nvdec_backend.fallbacks() == {kind: 2}
    assert fake.STATS.batches == 0  # NVDEC was never asked
    notes = [r for r in caplog.records if r.name == "trtllm_mmfast.video.nvdec_backend"]
    assert len(notes) == 1 and f"{kind}:" in notes[0].getMessage()  # logged once per kind


@pytest.mark.parametrize(("fault", "kind"), [
    ({"count_offset": 1}, "identity"),
    ({"pts_shift": 1}, "identity"),
    ({"short_by": 1}, "identity"),
    ({"raise_on_decode": "CUDA_ERROR_INVALID_VALUE\nmore"}, "decode_error"),
    ({"raise_on_open": "SimpleDecoder constructor failed: unsupported"}, "decode_error"),
])  # fmt: skip
def test_an_nvdec_result_that_cannot_be_trusted_falls_back(fake, fault, kind, no_leaks):
    for k, v in fault.items():
        setattr(fake.FAULTS, k, v)
    a, b = both(clip_bytes(clip()), fps=10)
    assert a.metadata.frames_indices == b.metadata.frames_indices and np.array_equal(a.frames, b.frames)
    assert nvdec_backend.fallbacks() == {kind: 1}


def test_host_frames_by_default_so_the_cache_and_callers_of_numpy_work(fake, no_leaks):
    from trtllm_mmfast.cache import VideoCache

    data, cache = clip_bytes(clip()), VideoCache(64 << 20)
    first = load_video(data, fps=5, backend=STANDIN, cache=cache)  # no device: numpy, decoded by "NVDEC"
    again = load_video(data, fps=5, backend=STANDIN, cache=cache)
    assert isinstance(first.frames, np.ndarray) and np.array_equal(first.frames, load_video(data, fps=5).frames)
    assert np.array_equal(again.frames, first.frames) and fake.STATS.batches == 1  # the repeat came from the cache


def test_bad_input_is_still_invalid_media(fake, no_leaks):
    with pytest.raises(InvalidMediaError):
        load_video(b"not a video at all" * 100, fps=2, backend=STANDIN, device="cpu")


# ---- sessions: bounded per GPU, reused; spills always removed -------------------------------

def test_session_pool_bounds_and_reuses_sessions():
    made, lent, peak, lock = [], [0], [0], threading.Lock()
    pool = vram.SessionPool(lambda: made.append(object()) or made[-1], limit=2)

    def work():
        for _ in range(5):
            with pool.borrow():
                with lock:
                    lent[0] += 1
                    peak[0] = max(peak[0], lent[0])
                with lock:
                    lent[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) <= 2 and peak[0] <= 2 and pool.stats.reused == 30 - len(made)
    with pytest.raises(KeyError), pool.borrow():
        raise KeyError("a failed decode")
    assert pool.stats.discarded == 1 and pool.size <= 1
    with pytest.raises(ValueError):
        vram.SessionPool(object, limit=0)


def test_concurrent_requests_share_a_bounded_set_of_decoders(fake, monkeypatch, no_leaks):
    monkeypatch.setenv(vram.ENV_SESSIONS, "2")
    data = [clip_bytes(clip(seed=s)) for s in range(3)]
    want = [load_video(d, fps=5, backend="pyav").frames for d in data]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(3):
                got = load_video(data[(i + j) % 3], fps=5, backend=STANDIN, device="cpu")
                assert np.array_equal(got.frames, want[(i + j) % 3])
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    pool = vram.session_pool(0, "nvdec", object)
    assert fake.STATS.constructed == pool.stats.created <= 2 and pool.stats.peak_busy <= 2
    assert fake.STATS.reconfigured == 18 - fake.STATS.constructed  # re-pointed at each request's spill


def test_without_session_reuse_decoders_are_made_from_bytes_without_a_spill(fake, monkeypatch, no_leaks):
    monkeypatch.setattr(fake.BACKEND, "reuse_sessions", False)
    spilled = []
    monkeypatch.setattr(nvdec_backend.tempfile, "mkstemp", lambda *a, **k: spilled.append(1))
    a, b = both(clip_bytes(clip()), fps=5)
    a2, _ = both(clip_bytes(clip()), fps=5)
    assert np.array_equal(a.frames, b.frames) and spilled == []
    assert fake.STATS.constructed == 2 and fake.STATS.reconfigured == 0


def test_a_path_source_is_decoded_from_its_file(fake, clip_file, no_leaks):
    a = load_video(clip_file, fps=5, backend=STANDIN, device="cpu")
    assert np.array_equal(a.frames, load_video(clip_file, fps=5, backend="pyav").frames)


# ---- the VRAM budget -------------------------------------------------------------------------

def test_vram_budget_default_and_configuration(monkeypatch):
    vram.reset()
    assert vram.vram_budget(3, free_bytes=lambda i: 1000).limit == 250  # a quarter of what is free
    monkeypatch.setenv(vram.ENV_VRAM_FRACTION, "0.5")
    assert vram.vram_budget(4, free_bytes=lambda i: 1000).limit == 500
    monkeypatch.setenv(vram.ENV_VRAM_BYTES, "123")
    assert vram.vram_budget(5, free_bytes=lambda i: 1000).limit == 123
    monkeypatch.setenv(vram.ENV_VRAM_BYTES, "lots")
    with pytest.raises(ValueError, match="TRTLLM_MMFAST_NVDEC_VRAM_BYTES='lots'"):
        vram.vram_budget(6, free_bytes=lambda i: 1000)
    vram.set_vram_budget(3, 77)
    assert vram.vram_budget(3).limit == 77
    assert [vram.cuda_index(d) for d in ("cuda", "cuda:2", 1)] == [0, 2, 1]
    with pytest.raises(ValueError):
        vram.cuda_index("gpu0")
    vram.reset()


@pytest.fixture
def fake_gpu(monkeypatch):
    """STAND-IN for a GPU's memory: ``CudaAllocator`` hands out CPU tensors and the device check
    passes, so ``device="cuda:0"`` exercises the reader's VRAM-budget path on this machine."""
    import torch

    from trtllm_mmfast.video import _nvdec_memory

    monkeypatch.setattr(_nvdec_memory.DeviceSpec, "check", lambda self: None)
    monkeypatch.setattr(_nvdec_memory.CudaAllocator, "empty",
                        lambda self, n, h, w: torch.empty((n, h, w, 3), dtype=torch.uint8))  # fmt: skip
    vram.reset()
    yield
    vram.reset()


def test_device_frames_hold_the_vram_budget_until_released(fake_gpu):
    import torch

    from trtllm_mmfast.runtime import release_frames

    vram.set_vram_budget(0, 10 * 1024**2)
    data = clip_bytes(clip())
    got = load_video(data, fps=5, backend="pyav", device="cuda:0")  # a CPU backend: copied over once
    want = load_video(data, fps=5, backend="pyav")
    assert isinstance(got.frames, torch.Tensor) and np.array_equal(got.frames.numpy(), want.frames)
    assert vram.vram_budget(0).in_use == want.frames.nbytes
    assert release_frames(got) and vram.vram_budget(0).in_use == 0
    with pytest.raises(ValueError, match="resize_for= resizes on the CPU"):
        load_video(data, fps=5, backend="pyav", device="cuda:0", resize_for=object())


def test_a_burst_waits_for_the_budget_instead_of_exceeding_it(fake, fake_gpu, monkeypatch, no_leaks):
    from trtllm_mmfast.runtime import release_frames

    frame = 96 * 64 * 3
    monkeypatch.setenv(vram.ENV_SESSIONS, "2")
    monkeypatch.setattr(fake.BACKEND, "batch_bytes", 3 * frame)  # 3 frames a batch
    data = clip_bytes(clip())
    want = load_video(data, fps=10, backend="pyav").frames
    vram.set_vram_budget(0, want.nbytes)  # one request's frames at a time: the other seven wait
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(2):
                video = load_video(data, fps=10, backend=STANDIN, device="cuda:0")
                assert np.array_equal(video.frames.numpy(), want)
                release_frames(video)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    budget = vram.vram_budget(0)
    assert errors == [] and budget.in_use == 0 and budget.peak == want.nbytes  # used, never exceeded
    assert max(fake.STATS.batch_sizes) == 3
    assert 0 < fake.STATS.peak_held_bytes <= 2 * 3 * frame  # library frames: one batch per session at most


def test_a_request_larger_than_the_whole_budget_fails_fast(fake, fake_gpu, no_leaks):
    vram.set_vram_budget(0, 96 * 64 * 3 * 5)
    with pytest.raises(MediaTooLargeError, match="VRAM budget of cuda:0"):
        load_video(clip_bytes(clip()), fps=2, backend=STANDIN, device="cuda:0")  # 6 frames
    assert vram.vram_budget(0).in_use == 0


def test_a_fallback_after_allocation_reuses_the_frames_reserved(fake, fake_gpu, no_leaks):
    fake.FAULTS.pts_shift = 1  # NVDEC's frames are refused after the output was allocated
    vram.set_vram_budget(0, 10 * 1024**2)
    data = clip_bytes(clip())
    got = load_video(data, fps=10, backend=STANDIN, device="cuda:0")
    want = load_video(data, fps=10, backend="pyav")
    assert np.array_equal(got.frames.numpy(), want.frames) and nvdec_backend.fallbacks() == {"identity": 1}
    assert vram.vram_budget(0).in_use == want.frames.nbytes  # reserved once, not twice


def test_device_option_errors_here(small_clip):
    with pytest.raises(ValueError, match="device must be 'cpu', 'pinned', 'cuda' or 'cuda:N'"):
        load_video(small_clip, fps=2, device="gpu")
    if not _real_gpu():
        import torch

        if not torch.cuda.is_available():
            with pytest.raises(ValueError, match="needs a CUDA device"):
                load_video(small_clip, fps=2, device="pinned")
    with pytest.raises(ValueError, match="cache= holds host frames"):
        from trtllm_mmfast.cache import VideoCache

        load_video(small_clip, fps=2, device="cuda", cache=VideoCache(1 << 20))


def test_tensor_frames_and_device_kwarg_pass_through_the_fast_processor(small_clip):
    """What a GPU path relies on, checked on the CPU: frames as a torch tensor (nvdec's type) and
    ``device=`` (transformers' video processor option) go through the fast Qwen3-VL processor,
    with outputs equal to the numpy frames' path."""
    import torch

    from trtllm_mmfast.processors.qwen3_vl import wrap
    from trtllm_mmfast.processors.tiny import tiny_processor
    from trtllm_mmfast.types import VideoFrames

    fast = wrap(tiny_processor())
    video = load_video(small_clip, fps=2)
    as_tensor = VideoFrames(torch.from_numpy(video.frames.copy()), video.metadata)
    text = "<|vision_start|><|video_pad|><|vision_end|>describe"
    want = fast(text=[text], videos=[video], return_tensors="pt")
    got = fast(text=[text], videos=[as_tensor], return_tensors="pt", device="cpu")
    assert set(got) == set(want) and all(torch.equal(got[k], want[k]) for k in want)


# ---- CUDA: the real decoder (perf/gpu_check.sh) ---------------------------------------------

def _diff(a: np.ndarray, b: np.ndarray) -> tuple[int, float]:
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return int(d.max()), float(d.mean())


@cuda
@pytest.mark.parametrize("spec", [clip(width=320, height=240), clip(width=640, height=360, gop=250, bframes=0),
                                  clip(width=320, height=240, codec="libx265", gop=30)])  # fmt: skip
def test_cuda_same_indices_as_pyav_and_pixels_within_tolerance(spec):
    import torch

    nvdec_backend.reset_fallbacks()
    data = clip_bytes(spec)
    for sampling in ({"fps": 2}, {"num_frames": 16}):
        got = load_video(data, backend="nvdec", device="cuda:0", **sampling)
        want = load_video(data, backend="pyav", **sampling)
        assert isinstance(got.frames, torch.Tensor) and got.frames.device.type == "cuda"
        assert got.frames.dtype == torch.uint8 and got.frames.is_contiguous()
        assert got.metadata.frames_indices == want.metadata.frames_indices
        mx, mean = _diff(got.frames.cpu().numpy(), want.frames)
        assert mx <= MAX_ABS_DIFF and mean <= MEAN_ABS_DIFF, (mx, mean)
    assert nvdec_backend.fallbacks() == {}, "NVDEC was expected to decode these itself"


@cuda
def test_cuda_host_and_pinned_copies_equal_the_device_frames():
    data = clip_bytes(clip(width=320, height=240))
    dev = load_video(data, backend="nvdec", device="cuda:0", fps=2).frames.cpu().numpy()
    host = load_video(data, backend="nvdec", device="cpu", fps=2).frames
    pinned = load_video(data, backend="nvdec", device="pinned", fps=2).frames
    assert isinstance(host, np.ndarray) and np.array_equal(host, dev) and np.array_equal(pinned, dev)


@cuda
def test_cuda_processor_outputs_within_tolerance_of_the_cpu_path():
    import torch

    from trtllm_mmfast.processors.qwen3_vl import wrap
    from trtllm_mmfast.processors.tiny import tiny_processor

    fast = wrap(tiny_processor())
    data = clip_bytes(clip(width=320, height=240))
    text = "<|vision_start|><|video_pad|><|vision_end|>describe"
    kw = {"return_tensors": "pt"}
    gpu = fast(text=[text], videos=[load_video(data, backend="nvdec", device="cuda:0", fps=2)], device="cuda:0", **kw)
    cpu = fast(text=[text], videos=[load_video(data, backend="pyav", fps=2)], **kw)
    assert gpu["pixel_values_videos"].device.type == "cuda"
    assert torch.equal(gpu["video_grid_thw"].cpu(), cpu["video_grid_thw"]) and torch.equal(gpu["input_ids"].cpu(), cpu["input_ids"])
    diff = (gpu["pixel_values_videos"].float().cpu() - cpu["pixel_values_videos"].float()).abs()
    assert float(diff.mean()) <= PROCESSOR_MEAN_TOL and float(diff.max()) <= PROCESSOR_MAX_TOL, (float(diff.mean()), float(diff.max()))


# ---- perf/bench_nvdec.py runs here: the pyav side alone, and every nvdec step on the stand-in --

def _bench():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "perf" / "bench_nvdec.py"
    spec = importlib.util.spec_from_file_location("bench_nvdec", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@no_gpu
def test_bench_dry_run_measures_pyav_and_says_why_nvdec_was_skipped(tmp_path, capsys):
    out = _bench().main(["--quick", "--out", str(tmp_path / "b.json")])
    assert out["nvdec"].startswith("unavailable: PyNvVideoCodec cannot be loaded")
    assert [(r["backend"], r["concurrency"]) for r in out["load"]] == [("pyav", 1), ("pyav", 2)]
    assert all(r["requests"] == r["concurrency"] * 2 and r["cpu_s_per_request"] > 0 for r in out["load"])
    assert "nvdec skipped: PyNvVideoCodec" in capsys.readouterr().err
    assert json.loads((tmp_path / "b.json").read_text())["load"] == out["load"]


def test_bench_nvdec_steps_on_the_standin(fake, fake_gpu, tmp_path):
    budget_gib = 2 * 640 * 360 * 3 * 4 / 2**30  # two quick-4K requests' frames at once, at most
    vram.set_vram_budget(0, 1 << 30)  # the load phase's (a real GPU's default: a quarter of what is free)
    out = _bench().main(["--quick", "--out", str(tmp_path / "b.json"), "--nvdec-backend", STANDIN, "--nvdec-device", "cuda:0",
                         "--burst", "6", "--burst-budget-gib", str(budget_gib)])  # fmt: skip
    assert {r["backend"] for r in out["load"]} == {"pyav", "nvdec"} and all(r["error_count"] == 0 for r in out["load"])
    assert out["pixels"]["same_indices"] and out["pixels"]["max_abs_diff"] == 0  # the stand-in's pixels are PyAV's
    assert set(out["ratios_nvdec_over_pyav"]) == {"1", "2"} and "cpu_s_per_request_at_most_one_fifth" in out["targets"]
    b = out["burst_4k"]
    assert b["all_finished"] and b["error_count"] == 0 and 0 < b["budget_peak_gib"] <= budget_gib
    assert out["fallbacks"] == {} and out["targets"]["burst_zero_oom"]
