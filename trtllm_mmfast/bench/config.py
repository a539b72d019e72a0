"""Sweep configuration: a YAML file (configs/*.yaml) plus command-line overrides."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["SweepConfig", "load_config"]


@dataclass
class SweepConfig:
    """Defaults are the quick sweep (configs/sweep-quick.yaml); the README's first command runs it."""

    target: Literal["inproc", "http"] = "inproc"
    # grid
    fps: list[float] = field(default_factory=lambda: [1.0, 2.0, 4.0])
    concurrency: list[int] = field(default_factory=lambda: [1, 4, 16])
    modes: list[str] = field(default_factory=lambda: ["stock", "fast"])
    osl: list[int] = field(default_factory=lambda: [1])  # http target only
    # generated video ("moving shapes" H.264), unless `videos` names files / URLs
    width: int = 374
    height: int = 374
    duration_s: float = 10.0
    video_fps: float = 30.0
    gop: int | None = None  # None: x264's default (250)
    seed: int = 0
    videos: list[str] = field(default_factory=list)
    # load per point: requests = max(requests_per_concurrency * concurrency, min_requests)
    requests_per_concurrency: int = 2
    min_requests: int = 4
    max_seconds_per_point: float = 60.0
    # runtime
    media_load_workers: int | None = None
    input_processing_workers: int | None = None
    processor: str | None = None  # HF processor dir; None: the offline tiny Qwen3-VL processor
    out_dir: str = "results/sweep-quick"
    plots: bool = True
    # http target
    url: str = "http://127.0.0.1:8000"
    model: str = "default"
    video_url_form: Literal["data", "file", "http"] = "data"
    fps_field: Literal["media_io_kwargs", "mm_processor_kwargs", "none"] = "media_io_kwargs"
    allow_remote: bool = False  # the http target talks to loopback only unless this is set
    request_timeout_s: float = 300.0

    def requests_for(self, concurrency: int) -> int:
        return max(self.requests_per_concurrency * concurrency, self.min_requests)

    def validate(self) -> "SweepConfig":
        from .modes import get_mode

        if self.target not in ("inproc", "http"):
            raise ValueError(f"target must be 'inproc' or 'http', got {self.target!r}")
        for m in self.modes:
            get_mode(m)
        for name in ("fps", "concurrency", "osl"):
            values = getattr(self, name)
            if not values or any(v <= 0 for v in values):
                raise ValueError(f"{name} must be a non-empty list of positive numbers, got {values!r}")
        if self.width < 16 or self.height < 16 or self.duration_s <= 0 or self.video_fps <= 0:
            raise ValueError("video width/height must be >= 16 and duration_s/video_fps > 0")
        if self.video_url_form == "http" and not all(v.startswith(("http://", "https://")) for v in self.videos or [""]):
            raise ValueError("video_url_form 'http' needs `videos` given as http(s) URLs")
        return self


def load_config(path: str | Path | None = None, **overrides: Any) -> SweepConfig:
    """Read a YAML config (unknown keys are an error) and apply non-None overrides."""
    values: dict[str, Any] = {}
    if path is not None:
        import yaml

        with open(path) as f:
            values = yaml.safe_load(f) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{path}: expected a mapping at the top level")
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(SweepConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown sweep config keys {unknown}; valid: {sorted(known)}")
    return SweepConfig(**values).validate()
