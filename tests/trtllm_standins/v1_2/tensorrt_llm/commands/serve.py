"""STAND-IN for ``tensorrt_llm.commands.serve`` (a test fixture, not TensorRT-LLM code), 1.2.x.

Real file: tensorrt_llm/commands/serve.py, 1.2.x (inferred from the Oct 2025 / Feb 2026 main versions
that bracket the release/1.2 cut; TRTLLM_HOOKS.md §1.4; commit not stored).

Mirrored: ``main`` is a ``DefaultGroup`` (a first argument that is not a subcommand goes to
``serve``); ``--media_io_kwargs`` (JSON), ``--custom_module_dirs`` (UNVERIFIED for 1.2.x), no
worker flags, no ``--num_serve_frontends``; ``launch_server`` runs ``asyncio.run`` (no uvloop).
Simplified / STAND-IN INSTRUMENTATION: ``serve`` records what it received in ``RECEIVED`` (raw
args) and ``CALLS`` (parsed params) and starts nothing; ``--custom_module_dirs`` is recorded,
not imported.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, List, Optional

import click

RECEIVED: List[List[str]] = []
CALLS: List[Dict[str, Any]] = []


@click.command("serve")
@click.argument("model", type=str)
@click.option("--host", type=str, default="localhost")
@click.option("--port", type=int, default=8000)
@click.option("--backend", type=click.Choice(["pytorch", "trt", "_autodeploy"]), default="pytorch")
@click.option("--tp_size", type=int, default=1)
@click.option("--max_batch_size", type=int, default=2048)
@click.option("--num_postprocess_workers", type=int, default=0)
@click.option("--trust_remote_code", is_flag=True, default=False)
@click.option("--config", "--extra_llm_api_options", "extra_llm_api_options", type=str, default=None)
@click.option("--chat_template", type=str, default=None)
@click.option("--tool_parser", type=str, default=None)
@click.option("--media_io_kwargs", type=str, default=None)
@click.option("--custom_module_dirs", type=str, multiple=True)
def serve(model: str, media_io_kwargs: Optional[str], **kwargs: Any) -> None:
    """Running an OpenAI API compatible server (stand-in: records and returns)."""
    CALLS.append({"model": model, "media_io_kwargs": json.loads(media_io_kwargs) if media_io_kwargs else None, **kwargs})


@click.command("disaggregated")
@click.option("-c", "--config_file", type=str)
def disaggregated(config_file: Optional[str]) -> None:
    CALLS.append({"subcommand": "disaggregated", "config_file": config_file})


class DefaultGroup(click.Group):
    """Routes a first argument that is not a subcommand to ``serve``."""

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        RECEIVED.append(list(args))
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: click.Context, args: List[str]):
        if args and args[0] not in self.commands:
            return "serve", self.commands["serve"], args
        return super().resolve_command(ctx, args)


main = DefaultGroup(commands={"serve": serve, "disaggregated": disaggregated})


def launch_server(host: str, port: int, llm_args: dict, tool_parser=None, chat_template=None, metadata_server_cfg=None,
                  server_role=None, disagg_cluster_config=None, multimodal_server_config=None) -> None:
    async def server(host: str, port: int) -> None:
        return None

    asyncio.run(server(host, port))
