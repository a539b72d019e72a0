"""STAND-IN for ``tensorrt_llm.commands.serve`` (main): the ``trtllm-serve`` click group.

Imports ``uvloop`` and runs the server with ``uvloop.run``; ``serve`` has the native
``--num_input_processor_workers`` / ``--num_media_load_workers`` flags. The stand-in
``serve`` records what it received in ``RECEIVED`` (raw args) and ``CALLS`` (parsed params).
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

import click
import uvloop

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
@click.option("--num_input_processor_workers", type=int, default=8)
@click.option("--num_media_load_workers", type=int, default=8)
@click.option("--trust_remote_code", is_flag=True, default=False)
@click.option("--config", "--extra_llm_api_options", "extra_llm_api_options", type=str, default=None)
@click.option("--chat_template", type=str, default=None)
@click.option("--tool_parser", type=str, default=None)
@click.option("--media_io_kwargs", type=str, default=None)
@click.option("--custom_module_dirs", type=str, multiple=True)
@click.option("--served_model_name", type=str, default=None)
def serve(model: str, media_io_kwargs: Optional[str], **kwargs: Any) -> None:
    """Running an OpenAI API compatible server (stand-in: records and returns)."""
    CALLS.append({"model": model, "media_io_kwargs": json.loads(media_io_kwargs) if media_io_kwargs else None, **kwargs})


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


def launch_server(host: str, port: int, llm_args: dict, **kwargs: Any) -> None:
    async def server(host: str, port: int, sockets=None) -> None:
        return None

    uvloop.run(server(host, port, sockets=[]))
