"""``trtllm-mmfast serve`` and ``info`` against stand-in TensorRT-LLM packages (never a real one)."""

from __future__ import annotations

import importlib
import json

import pytest
from click.testing import CliRunner

from trtllm_mmfast.cli import main
from trtllm_mmfast.integrations import tensorrt_llm as mmfast
from trtllm_harness import standin_fixture
from trtllm_standins.standin import use_standin

MEDIA_IO = '{"video": {"fps": 1}}'
PASSTHROUGH = ["--host", "0.0.0.0", "--tp_size", "2", "--media_io_kwargs", MEDIA_IO, "--trust_remote_code", "--port=8001"]


trtllm = standin_fixture()


@pytest.fixture
def no_trtllm():
    with use_standin(None):
        yield


@pytest.fixture
def runner(monkeypatch):
    for var in ("TRTLLM_MMFAST_MEDIA_LOAD_WORKERS", "TRTLLM_MMFAST_INPUT_PROCESSING_WORKERS"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner()


def _serve_module():
    return importlib.import_module("tensorrt_llm.commands.serve")


def test_serve_forwards_unknown_args_verbatim_and_maps_worker_flags(trtllm, runner):
    serve = _serve_module()
    args = ["serve", "Qwen/Qwen3-VL-8B-Instruct", *PASSTHROUGH[:4], "--media-load-workers", "4", *PASSTHROUGH[4:]]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    forwarded = ["Qwen/Qwen3-VL-8B-Instruct", *PASSTHROUGH]
    if trtllm.STANDIN_LAYOUT == "main":  # native flags: our counts go there too (input: the default 8)
        forwarded += ["--num_media_load_workers", "4", "--num_input_processor_workers", "8"]
    assert serve.RECEIVED == [forwarded]
    call = serve.CALLS[-1]
    assert call["model"] == "Qwen/Qwen3-VL-8B-Instruct" and call["host"] == "0.0.0.0" and call["port"] == 8001
    assert call["tp_size"] == 2 and call["trust_remote_code"] is True and call["media_io_kwargs"] == {"video": {"fps": 1}}
    assert mmfast.is_enabled()  # hooks were in place when trtllm-serve ran
    assert "video_loader" in result.output and "applied" in result.output  # the report, on stderr


def test_serve_worker_flags_come_from_the_environment_too(runner, monkeypatch):
    monkeypatch.setenv("TRTLLM_MMFAST_INPUT_PROCESSING_WORKERS", "3")
    with use_standin("main"):
        result = runner.invoke(main, ["serve", "m", "--input-processing-workers", "5"])
        assert result.exit_code == 0, result.output
        assert _serve_module().CALLS[-1]["num_input_processor_workers"] == 5  # flag beats env
        result = runner.invoke(main, ["serve", "m"])
        assert _serve_module().CALLS[-1]["num_input_processor_workers"] == 3


def test_serve_resize_on_decode_flag_reaches_enable_and_the_frontends(runner, monkeypatch):
    from trtllm_mmfast.integrations import tensorrt_llm
    from trtllm_mmfast.integrations.tensorrt_llm import _settings

    seen = []
    real = tensorrt_llm.reexec_argv
    monkeypatch.setattr(tensorrt_llm, "reexec_argv", lambda model, args, ours: seen.append(ours) or real(model, args, ours))
    with use_standin("main"):
        assert runner.invoke(main, ["serve", "m"]).exit_code == 0
        assert _settings.settings.resize_on_decode is True  # the default
        result = runner.invoke(main, ["serve", "m", "--resize-on-decode", "off"])
        assert result.exit_code == 0, result.output
        assert _settings.settings.resize_on_decode is False and "resize_on_decode" in result.output
        assert seen[-1]["resize_on_decode"] == "off"  # extra frontends re-run with the same flag
        assert runner.invoke(main, ["serve", "m", "--resize-on-decode", "maybe"]).exit_code == 2


def test_serve_keeps_a_native_worker_flag_and_refuses_both(runner):
    with use_standin("main"):
        serve = _serve_module()
        result = runner.invoke(main, ["serve", "m", "--num_media_load_workers", "6"])
        assert result.exit_code == 0, result.output
        assert serve.RECEIVED[-1] == ["m", "--num_media_load_workers", "6", "--num_input_processor_workers", "8"]
        result = runner.invoke(main, ["serve", "m", "--media-load-workers", "2", "--num_media_load_workers=6"])
        assert result.exit_code == 2
        assert "--media-load-workers or --num_media_load_workers, not both" in result.output


def test_serve_forwards_trtllm_serve_subcommands(runner):
    with use_standin("v1_2"):
        result = runner.invoke(main, ["serve", "disaggregated", "-c", "disagg.yaml"])
        assert result.exit_code == 0, result.output
        assert _serve_module().RECEIVED == [["disaggregated", "-c", "disagg.yaml"]]
        assert _serve_module().CALLS[-1] == {"subcommand": "disaggregated", "config_file": "disagg.yaml"}


@pytest.mark.parametrize("flag", ["--media-load-workers", "--input-processing-workers"])
@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_serve_rejects_bad_worker_counts_naming_the_flag(trtllm, runner, flag, value):
    result = runner.invoke(main, ["serve", "m", flag, value])
    assert result.exit_code == 2
    assert f"Invalid value for '{flag}'" in result.output
    assert _serve_module().RECEIVED == [] and not mmfast.is_enabled()


def test_serve_rejects_an_unknown_video_backend(trtllm, runner):
    result = runner.invoke(main, ["serve", "m", "--video-backend", "nope"])
    assert result.exit_code == 2 and "'--video-backend'" in result.output and "unknown video backend" in result.output
    assert not mmfast.is_enabled()


def test_serve_without_tensorrt_llm_is_one_line_and_exit_2(no_trtllm, runner):
    result = runner.invoke(main, ["serve", "Qwen/Qwen3-VL-8B-Instruct", "--port", "8000"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "pip install 'trtllm-mmfast[trtllm]'" in result.output and "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_serve_help_explains(runner):
    result = runner.invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for text in ("trtllm-serve", "--media-load-workers", "--input-processing-workers", "--video-backend", "--video-sampling",
                 "TRTLLM_MMFAST_VIDEO_SAMPLING", "--num_serve_frontends", "--resize-on-decode", "TRTLLM_MMFAST_RESIZE_ON_DECODE",
                 "--num_media_load_workers", "passed to trtllm-serve untouched", "trtllm-mmfast[trtllm]"):
        assert text in result.output, text


def test_info_without_tensorrt_llm(no_trtllm, runner):
    result = runner.invoke(main, ["info"])
    assert result.exit_code == 0, result.output
    assert "tensorrt_llm:\n  not installed" in result.output
    data = json.loads(runner.invoke(main, ["info", "--json"]).output)
    assert data["tensorrt_llm"] == {"installed": False, "hint": "pip install 'trtllm-mmfast[trtllm]'"}


def test_info_shows_generation_and_planned_hooks(trtllm, runner):
    result = runner.invoke(main, ["info"])
    assert result.exit_code == 0, result.output
    generation = trtllm.STANDIN_LAYOUT
    assert f"TensorRT-LLM {trtllm.__version__} ({generation} layout): hooks enable() would apply" in result.output
    assert "video_sampling             hf:" in result.output  # the active policy, and what stock does
    assert "qwen3_vl_input_processor   would apply" in result.output
    assert not mmfast.is_enabled()  # a dry run
    data = json.loads(runner.invoke(main, ["info", "--json"]).output)["tensorrt_llm"]
    assert data["installed"] and data["dry_run"] and data["generation"] == generation
    assert [h["name"] for h in data["hooks"]] == [
        "video_loader", "image_loader", "media_load_pool", "input_processing_pool", "qwen3_vl_input_processor", "qwen2_vl_input_processor",
        "event_loop",
    ]
