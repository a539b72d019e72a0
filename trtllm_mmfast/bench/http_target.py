"""The sweep's ``http`` target: streaming ``/v1/chat/completions`` with a ``video_url``.

Works against ``trtllm-serve`` (with or without trtllm-mmfast) or any OpenAI-compatible
server. Per request: TTFT (first content chunk), TPOT ((end - first) / (chunks - 1)),
end-to-end latency; per point, requests/s. Loopback only unless ``allow_remote``.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import socket
import time
import urllib.parse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .config import SweepConfig
from ._common import LoadRun, Point, SweepResult, closed_loop, progress_bar, summarize

__all__ = ["chat_request", "run_http", "stream_one"]


def _check_loopback(url: str, allow_remote: bool) -> None:
    host = urllib.parse.urlsplit(url).hostname
    if not host:
        raise ValueError(f"--url needs a host, got {url!r}")
    if allow_remote:
        return
    addrs = {info[4][0] for info in socket.getaddrinfo(host, None)}
    if not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs):
        raise ValueError(f"{host} is not a loopback address ({sorted(addrs)}); pass --allow-remote to send requests there")


def video_url_for(cfg: SweepConfig, name: str, data: bytes) -> str:
    if cfg.video_url_form == "http":
        return name
    if cfg.video_url_form == "file":
        return Path(name).resolve().as_uri()
    return "data:video/mp4;base64," + base64.b64encode(data).decode()


def chat_request(cfg: SweepConfig, video_url: str, fps: float, osl: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": cfg.model,
        "messages": [{"role": "user", "content": [
            {"type": "video_url", "video_url": {"url": video_url}},
            {"type": "text", "text": "Describe the video."},
        ]}],
        "max_tokens": osl,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if cfg.fps_field != "none":
        body[cfg.fps_field] = {"video": {"fps": fps}} if cfg.fps_field == "media_io_kwargs" else {"fps": fps}
    return body


async def stream_one(session: Any, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """Send one streaming request; return timings (seconds) and chunk counts."""
    t0 = time.perf_counter()
    first: float | None = None
    last = t0
    chunks = 0
    usage_tokens: int | None = None
    async with session.post(url, json=body) as resp:
        if resp.status != 200:
            text = (await resp.text())[:200]
            raise RuntimeError(f"HTTP {resp.status}: {text}")
        buf = b""
        async for raw in resp.content.iter_any():
            buf += raw
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.strip()
                if not line.startswith(b"data:"):
                    continue
                payload = line[5:].strip()
                if payload == b"[DONE]":
                    continue
                event = json.loads(payload)
                if event.get("usage") and event["usage"].get("completion_tokens") is not None:
                    usage_tokens = int(event["usage"]["completion_tokens"])
                for choice in event.get("choices") or []:
                    delta = choice.get("delta") or {}
                    if delta.get("content") or choice.get("text"):
                        now = time.perf_counter()
                        first = first if first is not None else now
                        last = now
                        chunks += 1
    end = time.perf_counter()
    if first is None:
        raise RuntimeError("the stream carried no content")
    tokens = usage_tokens if usage_tokens is not None else chunks
    return {
        "ttft_s": first - t0,
        "e2e_s": end - t0,
        "tpot_s": (last - first) / (chunks - 1) if chunks > 1 else None,
        "chunks": chunks,
        "output_tokens": tokens,
    }


async def _http_point(cfg: SweepConfig, point: Point, video_urls: list[str], n_requests: int) -> LoadRun:
    import aiohttp

    endpoint = cfg.url.rstrip("/") + "/v1/chat/completions"
    timeout = aiohttp.ClientTimeout(total=cfg.request_timeout_s)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def one(rid: int) -> dict[str, Any]:
            sample: dict[str, Any] = {**asdict(point), "request": rid, "ok": False, "video": rid % len(video_urls)}
            body = chat_request(cfg, video_urls[rid % len(video_urls)], point.fps, point.osl)
            t0 = time.perf_counter()
            try:
                sample.update(await stream_one(session, endpoint, body), ok=True)
            except (aiohttp.ClientError, asyncio.TimeoutError, RuntimeError, ValueError) as e:
                sample.update(error=f"{type(e).__name__}: {e}", e2e_s=time.perf_counter() - t0)
            return sample

        return await closed_loop(point.concurrency, n_requests, cfg.max_seconds_per_point, one)


def run_http(cfg: SweepConfig, videos: list[tuple[str, bytes]], result: SweepResult, *, progress: bool) -> None:
    from ..runtime.loop import run

    _check_loopback(cfg.url, cfg.allow_remote)
    urls = [video_url_for(cfg, name, data) for name, data in videos]
    # The server decides how it preprocesses: the mode is a label for what the server runs.
    mode = cfg.modes[0] if len(cfg.modes) == 1 else "server"
    points = [Point(mode, f, c, o) for f in cfg.fps for c in cfg.concurrency for o in cfg.osl]
    bar = progress_bar(len(points), progress)
    for point in points:
        measured = run(_http_point(cfg, point, urls, cfg.requests_for(point.concurrency)))
        result.samples += measured.samples
        result.points.append(summarize(point, measured))  # no loop lag: the loop that matters is the server's
        bar.update(1)
    bar.close()
