"""Sweep configuration: a YAML file (configs/*.yaml) plus command-line overrides.

One config type for all workloads: ``grid`` (the default fps x concurrency x mode sweep),
``multiturn`` (chat sessions resending one video every turn, cache on vs off; see
``multiturn.py``) and ``image`` (one image per request; see ``images.py``). Keys a workload does not read are ignored by it, as ``osl`` is inproc.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["CACHE_SETTINGS", "IMAGE_DEFAULTS", "MULTITURN_DEFAULTS", "WORKLOADS", "SweepConfig", "load_config"]

WORKLOADS = ("grid", "multiturn", "image")
CACHE_SETTINGS = ("on", "off")
# What `workload: multiturn` changes when the YAML / command line leaves it unset: one fps and
# one concurrency (the grid's defaults would multiply a chat run by 9 for no new question),
# its own out dir, and time for a point (all its sessions) at 720p 30 s.
# configs/multiturn-quick.yaml spells out exactly these.
MULTITURN_DEFAULTS: dict[str, Any] = {
    "fps": [2.0], "concurrency": [1], "out_dir": "results/multiturn-quick", "max_seconds_per_point": 600.0,
}
# What `workload: image` changes when unset: a 1080p image, its own modes and out dir.
IMAGE_DEFAULTS: dict[str, Any] = {
    "width": 1920, "height": 1080, "modes": ["stock", "trtllm-main", "fast"], "concurrency": [1, 4, 16],
    "out_dir": "results/images-quick",
}


@dataclass
class SweepConfig:
    """Defaults are the quick sweep (configs/sweep-quick.yaml); the README's first command runs it."""

    target: Literal["inproc", "http"] = "inproc"
    workload: Literal["grid", "multiturn"] = "grid"
    # grid
    fps: list[float] = field(default_factory=lambda: [1.0, 2.0, 4.0])
    concurrency: list[int] = field(default_factory=lambda: [1, 4, 16])
    modes: list[str] = field(default_factory=lambda: ["stock", "trtllm-main", "fast-trtllm", "fast"])
    osl: list[int] = field(default_factory=lambda: [1])  # http target only
    # generated video ("moving shapes" H.264), unless `videos` names files / URLs
    width: int = 374
    height: int = 374
    duration_s: float = 10.0
    video_fps: float = 30.0
    gop: int | None = None  # None: x264's default (250)
    seed: int = 0
    videos: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # workload image: files (else one generated JPEG)
    # load per point: requests = max(requests_per_concurrency * concurrency, min_requests)
    requests_per_concurrency: int = 2
    min_requests: int = 4
    max_seconds_per_point: float = 60.0
    # runtime
    media_load_workers: int | None = None
    input_processing_workers: int | None = None
    processor: str | None = None  # HF processor dir; None: the offline tiny processor of `model_family`
    model_family: str = "qwen3_vl"  # the tiny processor's: qwen3_vl, qwen2_vl, qwen2_5_vl (a processor dir names its own)
    out_dir: str = "results/sweep-quick"
    plots: bool = True
    # http target
    url: str = "http://127.0.0.1:8000"
    model: str = "default"
    video_url_form: Literal["data", "file", "http"] = "data"
    fps_field: Literal["media_io_kwargs", "mm_processor_kwargs", "none"] = "media_io_kwargs"
    allow_remote: bool = False  # the http target talks to loopback only unless this is set
    request_timeout_s: float = 300.0
    # multiturn workload: `sessions` chats of `turns` turns, each turn resending the video
    sessions: int = 4
    turns: int = 4
    cache: list[str] = field(default_factory=lambda: ["on", "off"])  # measured side by side, in this order
    cache_bytes: int | str = 2 * 1024**3  # the shared VideoCache's budget (int, or "2GiB", "512M", ...)
    shared_video: bool = False  # False: one clip per session (seed + i), so sessions never hit each other

    def requests_for(self, concurrency: int) -> int:
        return max(self.requests_per_concurrency * concurrency, self.min_requests)

    def validate(self) -> "SweepConfig":
        from .modes import get_mode

        if self.target not in ("inproc", "http"):
            raise ValueError(f"target must be 'inproc' or 'http', got {self.target!r}")
        for m in self.modes:
            get_mode(m)
        from ..processors.tiny import TINY_FAMILIES

        if self.model_family not in TINY_FAMILIES:
            raise ValueError(f"model_family must be one of {', '.join(sorted(TINY_FAMILIES))}, got {self.model_family!r}")
        for name in ("fps", "concurrency", "osl"):
            values = getattr(self, name)
            if not values or any(v <= 0 for v in values):
                raise ValueError(f"{name} must be a non-empty list of positive numbers, got {values!r}")
        if self.width < 16 or self.height < 16 or self.duration_s <= 0 or self.video_fps <= 0:
            raise ValueError("video width/height must be >= 16 and duration_s/video_fps > 0")
        if self.workload not in WORKLOADS:
            raise ValueError(f"workload must be one of {', '.join(WORKLOADS)}, got {self.workload!r}")
        if self.workload == "multiturn":
            self._validate_multiturn()
        if self.video_url_form == "http" and not all(v.startswith(("http://", "https://")) for v in self.videos or [""]):
            raise ValueError("video_url_form 'http' needs `videos` given as http(s) URLs")
        return self

    def _validate_multiturn(self) -> None:
        from ..cache import parse_bytes

        if self.target != "inproc":
            raise ValueError(f"the multiturn workload runs in process (target 'inproc'), got target {self.target!r}")
        for name in ("sessions", "turns"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        # YAML 1.1 reads a bare `on` / `off` as true / false: take them as meant; one value: a list of one
        self.cache = [self.cache] if isinstance(self.cache, (str, bool)) else self.cache
        self.cache = [("on" if c else "off") if isinstance(c, bool) else c for c in self.cache]
        bad = [c for c in self.cache if c not in CACHE_SETTINGS]
        if not self.cache or bad or len(set(self.cache)) != len(self.cache):
            raise ValueError(f"cache must list distinct values from {', '.join(CACHE_SETTINGS)}; "
                             f"got {self.cache!r}" + (f" (unknown: {bad})" if bad else ""))
        self.cache_bytes = parse_bytes(self.cache_bytes, name="cache_bytes")  # idempotent: an int stays


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
    defaults = {"multiturn": MULTITURN_DEFAULTS, "image": IMAGE_DEFAULTS}.get(values.get("workload"), {})
    for key, value in defaults.items():
        values.setdefault(key, value)
    known = {f.name for f in dataclasses.fields(SweepConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown sweep config keys {unknown}; valid: {sorted(known)}")
    return SweepConfig(**values).validate()
