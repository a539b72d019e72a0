"""Video loading: sources and their policies, samplers, decoder backends, and the load path's steps."""

from .api import load_video
from .fetch_guard import FetchPolicy, server_fetch_policy
from .limits import Limits
from .policy import SourcePolicy, server_policy
from .reader import OpenedVideo, open_video
from .registry import available as available_backends
from .registry import names as backend_names
from .sampling import Qwen3VLSampler, UniformSampler, get_sampler
from .source import MediaSource, resolve_source, resolve_source_async

__all__ = [
    "FetchPolicy",
    "Limits",
    "MediaSource",
    "OpenedVideo",
    "Qwen3VLSampler",
    "SourcePolicy",
    "UniformSampler",
    "available_backends",
    "backend_names",
    "get_sampler",
    "load_video",
    "open_video",
    "resolve_source",
    "resolve_source_async",
    "server_fetch_policy",
    "server_policy",
]
