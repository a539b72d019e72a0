"""The multi-turn chat workload (``sweep --workload multiturn``): end to end with the
repeat-video cache on and off, its exact hit counts, its outputs and its config errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("torchvision")
pytest.importorskip("blake3")

from click.testing import CliRunner  # noqa: E402

from trtllm_mmfast.bench import multiturn  # noqa: E402
from trtllm_mmfast.bench.config import MULTITURN_DEFAULTS, SweepConfig, load_config  # noqa: E402
from trtllm_mmfast.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SESSIONS, TURNS = 2, 3


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TRTLLM_MMFAST_CACHE", str(tmp_path / "clips"))
    return tmp_path / "clips"


@pytest.fixture
def tiny_run(tmp_path, cache_dir):
    """2 sessions x 3 turns on 96x64 2 s clips, cache on and off, through the CLI."""
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "sweep", "--workload", "multiturn", "--size", "96x64", "--duration", "2", "--sessions", str(SESSIONS),
        "--turns", str(TURNS), "--cache", "on,off", "--out", str(out), "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    return out, result.output, json.loads((out / "multiturn.json").read_text())


def test_runs_end_to_end_with_cache_on_and_off(tiny_run):
    out, output, data = tiny_run
    assert "| fps | conc | cache |" in output and "hit ratio" in output
    assert (out / "multiturn.md").read_text().startswith("| fps | conc | cache |")
    try:
        import matplotlib.image
    except ImportError:  # the plot is optional (perf extra); everything else is not
        assert not (out / "multiturn.png").exists()
    else:
        assert matplotlib.image.imread(out / "multiturn.png").shape[0] > 100
    assert data["workload"] == "multiturn" and {"cpu_count", "versions", "git_sha"} <= set(data["system"])
    assert data["config"]["sessions"] == SESSIONS and data["config"]["turns"] == TURNS
    rows = {(r["cache"], r["turns"]): r for r in data["rows"]}
    assert set(rows) == {(c, t) for c in ("on", "off") for t in ("1", ">=2")}
    for (_cache, turns), r in rows.items():
        assert r["errors"] == 0 and r["requests"] == SESSIONS * (1 if turns == "1" else TURNS - 1)
        assert r["p50_e2e_s"] > 0 and r["p99_e2e_s"] >= r["p50_e2e_s"]
    assert len(data["samples"]) == 2 * SESSIONS * TURNS
    assert all(s["ok"] and s["frames_out"] == 4 for s in data["samples"])  # 2 s at 2 fps
    for p in data["points"]:
        assert p["turn2_p99_over_turn1_p50"] > 0 and p["turn2_p99_over_turn1_p99"] > 0
    # every turn's model inputs match across cache settings; a hit matched the cold turn
    assert data["checks"] == {"on_equals_off_turns": SESSIONS * TURNS, "hit_equals_cold": True}
    with open(out / "multiturn.csv") as f:
        csv_rows = list(csv.DictReader(f))
    assert len(csv_rows) == 4 and {"cache", "turns", "p50_e2e_s", "p99_e2e_s", "hit_ratio"} <= set(csv_rows[0])


def test_sessions_use_distinct_videos_by_default(tiny_run):
    _, _, data = tiny_run
    seeds = [v["generated"]["seed"] for v in data["videos"]]
    assert seeds == list(range(SESSIONS)) and len({v["path"] for v in data["videos"]}) == SESSIONS


def test_cache_stats_are_exact(tiny_run):
    _, _, data = tiny_run
    on = next(p for p in data["points"] if p["cache"] == "on")
    off = next(p for p in data["points"] if p["cache"] == "off")
    # Per session and per kind (frames, processed): turn 1 misses, each later turn hits. Distinct
    # videos, one session at a time: no session hits another's entries, nothing is joined.
    lookups = 2 * SESSIONS * TURNS
    stats = on["cache_stats"]
    assert stats["misses"] == 2 * SESSIONS and stats["hits"] == 2 * SESSIONS * (TURNS - 1)
    assert stats["joins"] == stats["evictions"] == stats["oversize"] == 0
    assert stats["entries"] == 2 * SESSIONS and 0 < stats["bytes"] <= stats["max_bytes"] == 2 * 1024**3
    assert stats["hits"] + stats["misses"] == lookups
    assert on["hit_ratio"] == pytest.approx((TURNS - 1) / TURNS) == on["expected_hit_ratio"]
    assert on["resent_equal"] is True
    assert off["cache_stats"] is None and off["hit_ratio"] is None and off["resent_equal"] is None  # no cache
    rows = [r for r in data["rows"] if r["cache"] == "off"]
    assert all(r["hit_ratio"] is None for r in rows)


def test_shared_video_hits_across_sessions(tmp_path, cache_dir):
    cfg = load_config(None, workload="multiturn", width=64, height=48, duration_s=1.0, sessions=2, turns=2,
                      cache=["on"], shared_video=True, out_dir=str(tmp_path), plots=False)
    result = multiturn.run_multiturn(cfg, progress=False, echo=lambda s: None)
    (point,) = result.points
    assert point["cache_stats"]["misses"] == 2 and point["cache_stats"]["hits"] == 6  # only the first turn misses
    assert point["hit_ratio"] == pytest.approx(3 / 4) == point["expected_hit_ratio"]
    assert result.checks["on_equals_off_turns"] == 0  # only one setting ran: nothing to compare


def test_mismatch_fails_loudly():
    torch = pytest.importorskip("torch")
    ref = {"pixel_values_videos": torch.zeros(4, 3), "video_grid_thw": torch.tensor([[1, 2, 2]])}
    bad = {**ref, "pixel_values_videos": torch.ones(4, 3)}
    multiturn._check_equal(ref, dict(ref), tuple(ref), "same")
    with pytest.raises(multiturn.CacheMismatchError, match="pixel_values_videos differs"):
        multiturn._check_equal(ref, bad, tuple(ref), "hit")
    samples = [{"cache": c, "fps": 2.0, "concurrency": 1, "session": 0, "turn": 1, "inputs_digest": d}
               for c, d in (("on", "a"), ("off", "b"))]
    with pytest.raises(multiturn.CacheMismatchError, match="differ between cache on and off"):
        multiturn.check_on_equals_off(samples)


def test_prompts_follow_the_conversation():
    assert multiturn.prompt_for(1).count("<|video_pad|>") == 1 and "Question 1:" in multiturn.prompt_for(1)
    third = multiturn.prompt_for(3)
    assert third.count("<|video_pad|>") == 1 and "Answer 2." in third and "Question 3:" in third


def test_quick_config_is_the_embedded_multiturn_default():
    cfg = load_config(REPO / "configs" / "multiturn-quick.yaml")
    assert cfg == load_config(None, workload="multiturn")
    assert (cfg.width, cfg.height, cfg.duration_s, cfg.sessions, cfg.turns) == (374, 374, 10.0, 4, 4)
    assert cfg.cache == ["on", "off"] and cfg.cache_bytes == 2 * 1024**3 and cfg.shared_video is False
    assert cfg.fps == MULTITURN_DEFAULTS["fps"] and cfg.concurrency == [1]
    assert load_config(None) == SweepConfig().validate() and SweepConfig().workload == "grid"  # default unchanged


@pytest.mark.parametrize("overrides, match", [
    ({"turns": 0}, "turns must be a whole number >= 1, got 0"),
    ({"sessions": -2}, "sessions must be a whole number >= 1, got -2"),
    ({"cache": ["on", "maybe"]}, "unknown: \\['maybe'\\]"),
    ({"cache": []}, "cache must list distinct values"),
    ({"cache": ["on", "on"]}, "\\['on', 'on'\\]"),
    ({"cache_bytes": "lots"}, "invalid cache_bytes 'lots'"),
    ({"target": "http"}, "multiturn workload runs in process"),
    ({"workload": "chat"}, "workload must be one of grid, multiturn, image, got 'chat'"),
])
def test_config_errors_name_the_value(overrides, match):
    with pytest.raises(ValueError, match=match):
        load_config(None, **{"workload": "multiturn", **overrides})


def test_cli_errors_and_help():
    r = CliRunner().invoke(main, ["sweep", "--workload", "multiturn", "--cache", "on,sometimes"])
    assert r.exit_code == 2 and "sometimes" in r.output
    r = CliRunner().invoke(main, ["sweep", "--workload", "multiturn", "--turns", "0"])
    assert r.exit_code == 2 and "--turns" in r.output
    r = CliRunner().invoke(main, ["sweep", "--help"])
    assert r.exit_code == 0
    for words in ("--workload", "--sessions", "--turns", "--cache", "distinct clips", "--width 1280 --height 720"):
        assert words in r.output, words
