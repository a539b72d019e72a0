"""The sweep per model family (``--model-family``) and the image workload (``--workload image``).

The Qwen2-VL facts checked here (TensorRT-LLM main's ``modeling_qwen2vl.py``: no preferred
media kwargs, so the loader's ``"pt"`` format; ``_preprocess`` passes the request's kwargs
verbatim with no metadata) are transcribed independently of ``bench/trtllm_main.py``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

pytest.importorskip("torchvision")
pytest.importorskip("transformers")
pytest.importorskip("matplotlib")

import torch  # noqa: E402

from conftest import clip_bytes, reference_frames  # noqa: E402
from trtllm_mmfast.bench import images as bench_images  # noqa: E402
from trtllm_mmfast.bench import trtllm_main as tm  # noqa: E402
from trtllm_mmfast.bench.config import SweepConfig, load_config  # noqa: E402
from trtllm_mmfast.bench.modes import PROMPT, RequestPath, get_mode  # noqa: E402
from trtllm_mmfast.processors.tiny import tiny_processor  # noqa: E402
from trtllm_mmfast.synth import ClipSpec  # noqa: E402

SPEC = ClipSpec(width=96, height=64, num_frames=90, fps=30, gop=30, bframes=2)
VIDEO_INPUTS = ("input_ids", "pixel_values_videos", "video_grid_thw")


def test_mains_qwen2_loader_gives_pt_frames_at_its_indices():
    data = clip_bytes(SPEC)
    media = tm.request_media_io_kwargs(fps=2, family="qwen2_vl")
    assert media == {"fps": 2}  # no preferred format: VideoMediaIO's default "pt"
    video = tm.load_bytes(data, **media)
    want_idx = [int(i) for i in np.linspace(0, 89, 6, dtype=int)]  # floor(3 s * 2) = 6 frames
    assert video.metadata["frames_indices"] == want_idx
    ref = reference_frames(data)[want_idx]
    want = torch.from_numpy((ref.astype(np.float32) * np.float32(1 / 255)).transpose(0, 3, 1, 2).copy())
    assert isinstance(video.frames, list) and len(video.frames) == 6
    assert all(f.dtype == torch.float32 and f.shape == (3, 64, 96) for f in video.frames)
    assert torch.equal(torch.stack(video.frames), want)


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
def test_trtllm_main_qwen2_keeps_every_loaded_frame_and_no_metadata(family):
    data = clip_bytes(SPEC)
    path = RequestPath(get_mode("trtllm-main"), partial(tiny_processor, family=family))
    assert path.family == "qwen2_vl"
    out = path.run_once(data, 2)
    assert path.frames_out(out) == 6  # the loader's 6 frames, not re-sampled
    if family == "qwen2_5_vl":  # no metadata reaches transformers: it assumes 24 fps
        assert out["second_per_grid_ts"] == pytest.approx([2 / 24])


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
@pytest.mark.parametrize("fps", [1, 4])
def test_fast_qwen2_is_stock_transformers_sampling_the_whole_clip(family, fps, no_leaks):
    data = clip_bytes(SPEC)
    got = RequestPath(get_mode("fast"), partial(tiny_processor, family=family)).run_once(data, fps)
    hf = tiny_processor(family=family)
    full = reference_frames(data)
    meta = {"total_num_frames": SPEC.num_frames, "fps": SPEC.fps, "duration": SPEC.num_frames / SPEC.fps,
            "frames_indices": list(range(SPEC.num_frames))}
    want = hf(text=[PROMPT], videos=[full], video_metadata=[meta], do_sample_frames=True, fps=fps,
              padding=True, return_tensors="pt")
    for k in VIDEO_INPUTS + (("second_per_grid_ts",) if family == "qwen2_5_vl" else ()):
        assert torch.equal(torch.as_tensor(got[k]), torch.as_tensor(want[k])), k


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl"])
@pytest.mark.parametrize("fps,mm", [(None, {}), (1, {}), (4, {}), (2, {"do_sample_frames": True, "num_frames": 4})],
                         ids=["default", "fps1", "fps4", "mm-sample-num4"])
def test_fast_trtllm_qwen2_gives_trtllm_mains_model_inputs(family, fps, mm, no_leaks):
    data = clip_bytes(SPEC)
    factory = partial(tiny_processor, family=family)
    main = RequestPath(get_mode("trtllm-main"), factory, mm_processor_kwargs=mm).run_once(data, fps)
    ours_path = RequestPath(get_mode("fast-trtllm"), factory, mm_processor_kwargs=mm)
    ours = ours_path.run_once(data, fps)
    for k in VIDEO_INPUTS + (("second_per_grid_ts",) if family == "qwen2_5_vl" else ()):
        assert torch.equal(torch.as_tensor(main[k]), torch.as_tensor(ours[k])), k
    plan = ours_path.trtllm_plan(fps).plan(SPEC.num_frames, SPEC.fps)
    assert list(ours_path.load(data, fps).metadata.frames_indices) == plan.indices.tolist()  # only L[S] decoded


def test_model_family_config():
    assert load_config(None, model_family="qwen2_5_vl").model_family == "qwen2_5_vl"
    with pytest.raises(ValueError, match="model_family must be one of"):
        SweepConfig(model_family="llava").validate()


def _image_cfg(tmp_path, **kw):
    return load_config(None, workload="image", width=97, height=61, concurrency=[1, 2], requests_per_concurrency=2,
                       out_dir=str(tmp_path / "img"), **kw)


@pytest.mark.parametrize("family", ["qwen3_vl", "qwen2_vl"])
def test_image_workload_runs_every_mode_with_identical_inputs(tmp_path, family, no_leaks):
    cfg = _image_cfg(tmp_path, model_family=family)
    assert cfg.modes == ["stock", "trtllm-main", "fast"] and cfg.out_dir.endswith("img")
    res = bench_images.run_images(cfg, progress=False, echo=lambda s: None)
    rows = {(p["mode"], p["concurrency"]): p for p in res.points}
    assert set(rows) == {(m, c) for m in ("stock", "trtllm-main", "fast") for c in (1, 2)}
    assert all(p["errors"] == 0 and p["requests"] == 4 for p in res.points)
    assert len({p["tokens"] for p in res.points}) == 1  # every mode: the same image tokens
    assert (tmp_path / "img" / "images.md").read_text().count("| fast |") == 2


def test_image_modes_give_stock_pixel_values(tmp_path):
    cfg = _image_cfg(tmp_path)
    (label, data), = bench_images.prepare_images(cfg)
    stock, fast = (bench_images.ImagePath(m, tiny_processor) for m in ("stock", "fast"))
    a, b = stock.process(stock.load(data)), fast.process(fast.load(data))
    for k in ("input_ids", "pixel_values", "image_grid_thw"):
        assert torch.equal(a[k], b[k]), k
    assert fast.fast.memo.misses + fast.fast.memo.hits >= 1  # the fast one went through the memo


def test_image_workload_fails_on_different_model_inputs(tmp_path, monkeypatch):
    cfg = _image_cfg(tmp_path)
    real = bench_images.ImagePath.load

    def off_by_one(self, data):
        img = real(self, data)
        return img.add(1 / 255).clamp_(0, 1) if self.mode == "fast" else img

    monkeypatch.setattr(bench_images.ImagePath, "load", off_by_one)
    with pytest.raises(bench_images.ModelInputsMismatchError, match="differ in"):
        bench_images.run_images(cfg, progress=False, echo=lambda s: None)


@pytest.mark.parametrize("name", ["images-quick.yaml", "sweep-qwen2vl.yaml"])
def test_family_and_image_configs_load(name):
    from pathlib import Path

    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / name).validate()
    assert cfg.workload == ("image" if name.startswith("images") else "grid")
    assert cfg.model_family in ("qwen3_vl", "qwen2_5_vl")
