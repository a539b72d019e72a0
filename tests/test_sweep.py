"""The perf sweep end to end (in-process and HTTP), its config and its outputs."""

from __future__ import annotations

import asyncio
import csv
import json
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("torchvision")
pytest.importorskip("matplotlib")

from click.testing import CliRunner  # noqa: E402

from trtllm_mmfast.bench.config import SweepConfig, load_config  # noqa: E402
from trtllm_mmfast.bench.modes import MODES  # noqa: E402
from trtllm_mmfast.bench.sweep import run_sweep  # noqa: E402
from trtllm_mmfast.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TRTLLM_MMFAST_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_tiny_sweep_end_to_end(tmp_path, cache_dir):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "sweep", "--duration", "2", "--size", "96x64", "--fps", "2", "--concurrency", "1,2",
        "--modes", "stock,fast", "--out", str(out), "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    assert "| fps | conc |" in result.output and "fast/stock req/s" in result.output and "fast tokens" in result.output

    data = json.loads((out / "sweep.json").read_text())
    grid = {(p["mode"], p["fps"], p["concurrency"]) for p in data["points"]}
    assert grid == {(m, 2.0, c) for m in ("stock", "fast") for c in (1, 2)}
    assert all(p["errors"] == 0 and p["req_per_s"] > 0 for p in data["points"])
    assert {"cpu_count", "versions", "git_sha"} <= set(data["system"])
    assert data["video"]["generated"]["num_frames"] == 60
    # every sample is kept; fast sends the frames transformers would pick (2 s * 2 fps = 4)
    assert len(data["samples"]) == sum(p["requests"] for p in data["points"])
    fast = [p for p in data["points"] if p["mode"] == "fast"]
    assert all(p["frames_out"] == 4 for p in fast)
    assert all(p["tokens"] > 0 for p in data["points"])  # every row: the tokens the model gets
    # fast requests go through the server's async pipeline, which times each stage
    fast_samples = [s for s in data["samples"] if s["mode"] == "fast"]
    assert all(s["stages"]["decode"] > 0 and s["stages"]["process"] > 0 for s in fast_samples)
    assert all(p["p50_stage_decode_s"] > 0 for p in fast)

    with open(out / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {"mode", "fps", "concurrency", "req_per_s", "p50_e2e_s", "p99_e2e_s"} <= set(rows[0])

    import matplotlib.image

    for png in ("sweep.png", "speedup.png"):
        img = matplotlib.image.imread(out / png)
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert list(cache_dir.glob("clip-96x64-60f-*.mp4"))  # generated once, cached by its parameters


def test_ablation_modes_run(tmp_path, cache_dir):
    cfg = load_config(
        None, duration_s=1.0, width=64, height=48, fps=[2.0], concurrency=[1],
        modes=[m for m in MODES if m.startswith("fast-no-")], out_dir=str(tmp_path), plots=False,
    )
    result = run_sweep(cfg, progress=False, echo=lambda s: None)
    assert [p["mode"] for p in result.points] == cfg.modes
    assert all(p["errors"] == 0 for p in result.points), [s.get("error") for s in result.samples]


def test_trtllm_pair_is_checked_identical(tmp_path, cache_dir):
    cfg = load_config(
        None, duration_s=3.0, width=96, height=64, fps=[1.0, 4.0], concurrency=[1, 2],
        modes=["trtllm-main", "fast-trtllm", "fast"], out_dir=str(tmp_path), plots=False,
    )
    lines: list[str] = []
    result = run_sweep(cfg, progress=False, echo=lines.append)
    assert all(p["errors"] == 0 for p in result.points), [s.get("error") for s in result.samples]
    by = {(p["mode"], p["fps"], p["concurrency"]): p for p in result.points}
    for fps in (1.0, 4.0):
        for c in (1, 2):
            main, ours = by["trtllm-main", fps, c], by["fast-trtllm", fps, c]
            assert ours["inputs_equal_trtllm_main"] is True and "inputs_equal_trtllm_main" not in main
            assert (main["frames_out"], main["tokens"]) == (ours["frames_out"], ours["tokens"])
    # main's loader: min(10, floor(3 s * fps)) frames, then HF re-samples (no mm target): 3 -> 3 (padded to 4), 10 -> 4
    assert by["trtllm-main", 1.0, 1]["frames_out"] == 4 and by["fast", 4.0, 1]["frames_out"] == 12
    out = "\n".join(lines)
    assert "fast-trtllm/trtllm-main req/s" in out and "fast/trtllm-main p50" in out and "fast/stock" not in out
    assert "fast-trtllm == trtllm-main at fps 1, 4" in out


def test_trtllm_pair_mismatch_fails_the_sweep(tmp_path, cache_dir, monkeypatch):
    from trtllm_mmfast.bench import modes
    from trtllm_mmfast.bench.sweep import ModelInputsMismatchError

    real = modes.PolicyTrtllmPlan.plan

    def off_by_one(self, total, source_fps):  # one frame later than stock main's pick
        import dataclasses

        import numpy as np

        p = real(self, total, source_fps)
        return dataclasses.replace(p, indices=np.clip(p.indices + 1, 0, total - 1))

    monkeypatch.setattr(modes.PolicyTrtllmPlan, "plan", off_by_one)
    cfg = load_config(None, duration_s=2.0, width=64, height=48, fps=[2.0], concurrency=[1],
                      modes=["trtllm-main", "fast-trtllm"], out_dir=str(tmp_path), plots=False)
    with pytest.raises(ModelInputsMismatchError, match="pixel_values_videos"):
        run_sweep(cfg, progress=False, echo=lambda s: None)


def test_quick_config_is_the_embedded_default():
    assert load_config(REPO / "configs" / "sweep-quick.yaml") == SweepConfig().validate()
    full = load_config(REPO / "configs" / "sweep-full.yaml")
    assert full.concurrency == [1, 8, 16, 32, 64, 128, 256] and full.osl == [1, 100]
    assert set(full.modes) == set(MODES)


def test_config_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("fps: [2]\nconcurency: [1]\n")
    with pytest.raises(ValueError, match="unknown sweep config keys \\['concurency'\\]"):
        load_config(bad)
    with pytest.raises(ValueError, match="unknown sweep mode"):
        load_config(None, modes=["turbo"])
    r = CliRunner().invoke(main, ["sweep", "--fps", "two"])
    assert r.exit_code == 2 and "comma-separated numbers" in r.output
    r = CliRunner().invoke(main, ["sweep", "--modes", "fast,turbo"])
    assert r.exit_code == 2 and "unknown mode" in r.output


# -- HTTP target against a local streaming server ---------------------------------------

FIRST_DELAY, TOKEN_DELAY, TOKENS = 0.20, 0.03, 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chat_server():
    """A loopback OpenAI-style server streaming TOKENS chunks: FIRST_DELAY, then TOKEN_DELAY apart."""
    from aiohttp import web

    received: list[dict] = []

    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        received.append(body)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await asyncio.sleep(FIRST_DELAY)
        n = min(TOKENS, body["max_tokens"])
        for i in range(n):
            if i:
                await asyncio.sleep(TOKEN_DELAY)
            chunk = {"choices": [{"index": 0, "delta": {"content": f"t{i} "}}]}
            await resp.write(f"data: {json.dumps(chunk)}\n\n".encode())
        usage = {"choices": [], "usage": {"completion_tokens": n}}
        await resp.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
        return resp

    port = _free_port()
    loop = asyncio.new_event_loop()
    app = web.Application(client_max_size=64 * 2**20)
    app.router.add_post("/v1/chat/completions", completions)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", received
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_http_target_measures_ttft_and_tpot(chat_server, tmp_path, cache_dir):
    url, received = chat_server
    cfg = load_config(
        None, target="http", url=url, model="m", duration_s=1.0, width=64, height=48,
        fps=[2.0], concurrency=[1, 2], osl=[TOKENS], modes=["fast"], out_dir=str(tmp_path),
        requests_per_concurrency=2, min_requests=2,
    )
    t0 = time.perf_counter()
    result = run_sweep(cfg, progress=False, echo=lambda s: None)
    assert time.perf_counter() - t0 < 30
    assert [(p["concurrency"], p["osl"]) for p in result.points] == [(1, TOKENS), (2, TOKENS)]
    ok = [s for s in result.samples if s["ok"]]
    assert len(ok) == len(result.samples) == 2 + 4
    for s in ok:
        assert s["ttft_s"] == pytest.approx(FIRST_DELAY, abs=0.1)
        assert s["tpot_s"] == pytest.approx(TOKEN_DELAY, abs=0.02)
        assert s["e2e_s"] == pytest.approx(FIRST_DELAY + (TOKENS - 1) * TOKEN_DELAY, abs=0.15)
        assert s["output_tokens"] == TOKENS
    body = received[0]
    assert body["stream"] is True and body["max_tokens"] == TOKENS and body["media_io_kwargs"] == {"video": {"fps": 2.0}}
    part = body["messages"][0]["content"][0]
    assert part["type"] == "video_url" and part["video_url"]["url"].startswith("data:video/mp4;base64,")
    assert (tmp_path / "sweep.png").exists() and "ttft" in (tmp_path / "sweep.md").read_text()


def test_http_target_refuses_remote_hosts(tmp_path, cache_dir):
    cfg = load_config(None, target="http", url="http://192.0.2.1:8000", duration_s=1.0, width=64, height=48, out_dir=str(tmp_path))
    with pytest.raises(ValueError, match="not a loopback address"):
        run_sweep(cfg, progress=False, echo=lambda s: None)


def test_http_target_reports_server_errors(tmp_path, cache_dir):
    port = _free_port()  # nothing listens there
    cfg = load_config(None, target="http", url=f"http://127.0.0.1:{port}", duration_s=1.0, width=64, height=48,
                      fps=[2.0], concurrency=[1], out_dir=str(tmp_path), plots=False, min_requests=2)
    result = run_sweep(cfg, progress=False, echo=lambda s: None)
    assert result.points[0]["errors"] == 2 and "ClientConnectorError" in result.samples[0]["error"]
