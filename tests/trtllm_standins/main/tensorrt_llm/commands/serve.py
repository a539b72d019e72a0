"""STAND-IN for ``tensorrt_llm.commands.serve`` (a test fixture, not TensorRT-LLM code).

Real file: tensorrt_llm/commands/serve.py @ 3d23e51c6b0e40da415b957a5781fef9d5790f15
(docs/facts/trtllm_media.md §6).

Mirrored: top-level ``import uvloop``; ``main`` is a ``DefaultGroup`` (a first argument that is
not a subcommand goes to ``serve``); the ``serve`` flags incl. ``--num_serve_frontends``
(``IntRange(1, MAX_NUM_FRONTENDS=16)``, default 1), ``--num_input_processor_workers`` /
``--num_media_load_workers`` (``IntRange(min=1)``, default 8), ``--media_io_kwargs`` (JSON; a
bad value raises ``ValueError("Invalid JSON for media_io_kwargs: ...")``),
``--max_multimodal_cpu_bytes`` / ``--max_multimodal_cpu_bytes_per_request`` (e.g. "8GiB") ->
``MultimodalServerConfig``, ``--custom_module_dirs`` imported at the start of ``serve``;
multi-frontend mode: a launcher (``--num_serve_frontends K > 1``, ``TLLM_EXECUTOR_ATTACH_INFO``
unset) re-executes ``[sys.executable] + sys.argv`` K-1 times with ``TLLM_EXECUTOR_ATTACH_INFO``
(JSON), ``TLLM_EXECUTOR_FRONTEND_ID=str(i)``, ``TLLM_DISABLE_MPI=1`` and
``TLLM_FRONTEND_READY_FD`` (``pass_fds``), waits for ``b"R"`` on each pipe (EOF / early exit ->
RuntimeError), and terminates the children in ``finally`` (terminate, wait 10 s, kill); an
attached child pops ``TLLM_FRONTEND_READY_FD`` and writes ``b"R"`` right before ``uvloop.run``.

Simplified: no LLM, no OpenAIServer, no sockets: ``launch_server`` runs an empty coroutine with
``uvloop.run``. The attach info is a stand-in dict (no executor proxy / HMAC keys); the ready
timeout env ``TLLM_FRONTEND_READY_TIMEOUT`` defaults to 60 s here (300 s in the real one);
``split_mpi_env`` drops OMPI_/PMIX_/PMI_/SLURM_/MPI_ variables; ``import_custom_module_from_dir``
(not in the facts) imports a package dir by its name (parent on ``sys.path``) or each ``*.py``.

STAND-IN INSTRUMENTATION (not TensorRT-LLM behaviour): ``serve`` appends parsed params to
``CALLS`` and ``DefaultGroup`` raw args to ``RECEIVED``; and when env ``TRTLLM_STANDIN_REPORT``
names a file, every frontend process (launcher = frontend 0, and each child) appends ONE JSON
line ``{"frontend_id", "pid", "video_media_io", "qwen3_vl_processor", "qwen3_vl_moe_processor",
"qwen2_vl_processor", "qwen2_5_vl_processor"}`` (the class names in ``MEDIA_IO_REGISTRY["video"]``
and registered for ``Qwen3VLModel`` / ``Qwen3MoeVLModel`` / ``Qwen2VLModel`` / ``Qwen2_5_VLModel``) right before it signals ready. The launcher refuses to run inside pytest or
from ``-c`` / stdin (``sys.argv[0]`` must be a script file it can re-execute).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import click
import uvloop

RECEIVED: List[List[str]] = []
CALLS: List[Dict[str, Any]] = []

MAX_NUM_FRONTENDS = 16
_MPI_PREFIXES = ("OMPI_", "PMIX_", "PMI_", "SLURM_", "MPI_")


def _parse_binary_byte_string(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]i?B|B)?\s*", value, flags=re.IGNORECASE)
    if not m:
        raise click.BadParameter(f"not a byte size: {value!r}")
    unit = (m.group(2) or "B").upper()
    powers = {"B": 0, "KB": 1, "KIB": 1, "MB": 2, "MIB": 2, "GB": 3, "GIB": 3, "TB": 4, "TIB": 4}
    base = 1000 if unit in ("KB", "MB", "GB", "TB") else 1024
    return int(m.group(1)) * base ** powers[unit]


def import_custom_module_from_dir(path: Path) -> None:
    path = Path(path)
    if (path / "__init__.py").is_file():
        sys.path.insert(0, str(path.parent))
        importlib.import_module(path.name)
        return
    for file in sorted(path.glob("*.py")):
        spec = importlib.util.spec_from_file_location(file.stem, file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[file.stem] = module
        spec.loader.exec_module(module)


class MultiFrontendMode:
    def __init__(self, num_frontends: int, is_attached_frontend: bool):
        self.num_frontends = num_frontends
        self.is_attached_frontend = is_attached_frontend

    @property
    def enabled(self) -> bool:
        return self.num_frontends > 1 or self.is_attached_frontend

    @property
    def is_launcher(self) -> bool:
        return self.num_frontends > 1 and not self.is_attached_frontend


def split_mpi_env() -> Dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_MPI_PREFIXES)}


def _standin_report() -> None:
    """STAND-IN INSTRUMENTATION: one JSON line per frontend process (see the module docstring)."""
    path = os.environ.get("TRTLLM_STANDIN_REPORT")
    if not path:
        return
    from .._torch.models import modeling_qwen2vl, modeling_qwen3vl, modeling_qwen3vl_moe
    from ..inputs.media_io import MEDIA_IO_REGISTRY
    from ..inputs.registry import INPUT_PROCESSOR_REGISTRY

    reg = INPUT_PROCESSOR_REGISTRY._input_processors_cls_by_model_type
    name = lambda cls: getattr(cls, "__name__", None)  # noqa: E731
    line = {
        "frontend_id": int(os.environ.get("TLLM_EXECUTOR_FRONTEND_ID", "0")),
        "pid": os.getpid(),
        "video_media_io": MEDIA_IO_REGISTRY["video"].__name__,
        "qwen3_vl_processor": name(reg.get(modeling_qwen3vl.Qwen3VLModel)),
        "qwen3_vl_moe_processor": name(reg.get(modeling_qwen3vl_moe.Qwen3MoeVLModel)),
        "qwen2_vl_processor": name(reg.get(modeling_qwen2vl.Qwen2VLModel)),
        "qwen2_5_vl_processor": name(reg.get(modeling_qwen2vl.Qwen2_5_VLModel)),
    }
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")


def _signal_frontend_ready() -> None:
    fd = os.environ.pop("TLLM_FRONTEND_READY_FD", None)
    if fd is None:
        return
    try:
        os.write(int(fd), b"R")
    finally:
        os.close(int(fd))


def _spawn_attached_frontends(llm: Any, num_frontends: int) -> List[subprocess.Popen]:
    argv0 = sys.argv[0] if sys.argv else ""
    runnable = argv0 == "-m" or os.path.isfile(argv0)  # `python -m pkg ...` re-executes as such
    if "pytest" in os.path.basename(argv0) or "pytest" in argv0.split(os.sep) or not runnable:
        # STAND-IN guard: re-executing pytest, "-c" or stdin would not start a frontend.
        raise RuntimeError("stand-in: the multi-frontend launcher re-executes sys.argv; run it from a script file "
                           f"(e.g. trtllm_standins/trtllm_serve.py), not inside pytest / -c / stdin (argv[0]={argv0!r})")
    attach_info = {"standin": True, "launcher_pid": os.getpid(), "num_frontends": num_frontends}
    timeout = float(os.environ.get("TLLM_FRONTEND_READY_TIMEOUT", "60"))
    children: List[subprocess.Popen] = []
    pipes: List[int] = []
    try:
        for i in range(1, num_frontends):
            read_fd, write_fd = os.pipe()
            env = split_mpi_env()
            env.update({"TLLM_EXECUTOR_ATTACH_INFO": json.dumps(attach_info), "TLLM_EXECUTOR_FRONTEND_ID": str(i),
                        "TLLM_DISABLE_MPI": "1", "TLLM_FRONTEND_READY_FD": str(write_fd)})
            try:
                children.append(subprocess.Popen([sys.executable] + sys.argv, env=env, pass_fds=(write_fd,)))
            finally:
                os.close(write_fd)
            pipes.append(read_fd)
        deadline = time.monotonic() + timeout
        for i, (child, read_fd) in enumerate(zip(children, pipes), start=1):
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError(f"frontend {i} was not ready within {timeout:.0f}s")
                ready, _, _ = select.select([read_fd], [], [], min(remaining, 0.5))
                if ready:
                    data = os.read(read_fd, 1)
                    if data == b"R":
                        break
                    raise RuntimeError(f"frontend {i} closed its ready pipe before signalling ready "
                                       f"(exit code {child.poll()})")
                if child.poll() is not None:
                    raise RuntimeError(f"frontend {i} exited with code {child.returncode} before signalling ready")
        return children
    except BaseException:
        _terminate_frontends(children)
        raise
    finally:
        for fd in pipes:
            os.close(fd)


def _terminate_frontends(children: List[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def launch_server(host: str, port: int, llm_args: dict, tool_parser: Any = None, middleware: Any = (),
                  chat_template: Any = None, metadata_server_cfg: Any = None, server_role: Any = None,
                  disagg_cluster_config: Any = None, multimodal_server_config: Any = None,
                  served_model_name: Any = None, allow_request_chat_template: bool = False,
                  num_input_processor_workers: int = 8, num_media_load_workers: int = 8,
                  multi_frontend_enabled: bool = True, internal_disagg_auth_key: Any = None,
                  report_addr: Any = None) -> None:
    async def server(host: str, port: int, sockets: Any = None) -> None:
        return None  # stand-in: no LLM / OpenAIServer / uvicorn

    _standin_report()
    _signal_frontend_ready()
    uvloop.run(server(host, port, sockets=[]))


@click.command("serve")
@click.argument("model", type=str)
@click.option("--host", type=str, default="localhost")
@click.option("--port", type=int, default=8000)
@click.option("--backend", type=click.Choice(["pytorch", "trt", "_autodeploy"]), default="pytorch")
@click.option("--tp_size", type=int, default=1)
@click.option("--max_batch_size", type=int, default=2048)
@click.option("--num_postprocess_workers", type=int, default=0)
@click.option("--num_serve_frontends", type=click.IntRange(1, MAX_NUM_FRONTENDS), default=1)
@click.option("--num_input_processor_workers", type=click.IntRange(min=1), default=8)
@click.option("--num_media_load_workers", type=click.IntRange(min=1), default=8)
@click.option("--trust_remote_code", is_flag=True, default=False)
@click.option("--config", "--extra_llm_api_options", "extra_llm_api_options", type=str, default=None)
@click.option("--chat_template", type=str, default=None)
@click.option("--tool_parser", type=str, default=None)
@click.option("--media_io_kwargs", type=str, default=None)
@click.option("--max_multimodal_cpu_bytes", type=str, default=None)
@click.option("--max_multimodal_cpu_bytes_per_request", type=str, default=None)
@click.option("--custom_module_dirs", type=click.Path(exists=True, readable=True, path_type=Path, resolve_path=True),
              multiple=True)
@click.option("--middleware", type=str, multiple=True)
@click.option("--grpc", is_flag=True, default=False)
@click.option("--served_model_name", type=str, default=None)
@click.option("--report_addr", type=str, default=None)
def serve(model: str, host: str, port: int, num_serve_frontends: int, media_io_kwargs: Optional[str],
          max_multimodal_cpu_bytes: Optional[str], max_multimodal_cpu_bytes_per_request: Optional[str],
          custom_module_dirs: tuple, **kwargs: Any) -> None:
    """Running an OpenAI API compatible server (stand-in: records, then runs nothing)."""
    from ..inputs.multimodal import MultimodalServerConfig

    for d in custom_module_dirs:
        import_custom_module_from_dir(d)
    try:
        parsed_media_io_kwargs = json.loads(media_io_kwargs) if media_io_kwargs else None
    except json.JSONDecodeError as e:
        raise ValueError(f"Invalid JSON for media_io_kwargs: {e}") from e
    mode = MultiFrontendMode(num_serve_frontends, "TLLM_EXECUTOR_ATTACH_INFO" in os.environ)
    if mode.num_frontends > 1:
        if port == 0:
            raise click.BadParameter("--port 0 cannot be used with --num_serve_frontends > 1")
        if kwargs.get("report_addr"):
            raise click.BadParameter("--report_addr cannot be used with --num_serve_frontends > 1")
    if mode.enabled:
        os.environ["TRTLLM_RESPONSES_API_DISABLE_STORE"] = "1"
    mm_cfg = MultimodalServerConfig(
        media_io_kwargs=parsed_media_io_kwargs,
        max_cpu_bytes=_parse_binary_byte_string(max_multimodal_cpu_bytes),
        max_cpu_bytes_per_request=_parse_binary_byte_string(max_multimodal_cpu_bytes_per_request))
    CALLS.append({"model": model, "host": host, "port": port, "num_serve_frontends": num_serve_frontends,
                  "media_io_kwargs": parsed_media_io_kwargs, "multimodal_server_config": mm_cfg,
                  "custom_module_dirs": custom_module_dirs, **kwargs})
    children: List[subprocess.Popen] = []
    try:
        if mode.is_launcher:
            children = _spawn_attached_frontends(None, num_serve_frontends)
        launch_server(host, port, {"model": model}, multimodal_server_config=mm_cfg,
                      num_input_processor_workers=kwargs["num_input_processor_workers"],
                      num_media_load_workers=kwargs["num_media_load_workers"],
                      multi_frontend_enabled=mode.enabled)
    finally:
        _terminate_frontends(children)


class DefaultGroup(click.Group):
    """Routes a first argument that is not a subcommand to ``serve``."""

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        RECEIVED.append(list(args))
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: click.Context, args: List[str]):
        if args and args[0] not in self.commands:
            return "serve", self.commands["serve"], args
        return super().resolve_command(ctx, args)


main = DefaultGroup(commands={"serve": serve})

if __name__ == "__main__":
    main()
