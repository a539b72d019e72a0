"""Video loading: sources and their policies, samplers, decoder backends."""

from .api import load_video
from .backend import available as available_backends
from .backend import names as backend_names
from .fetch_guard import FetchPolicy, server_fetch_policy
from .limits import Limits
from .policy import SourcePolicy, server_policy
from .sampling import Qwen3VLSampler, UniformSampler, get_sampler
from .source import MediaSource, resolve_source, resolve_source_async

__all__ = [
    "FetchPolicy",
    "Limits",
    "MediaSource",
    "Qwen3VLSampler",
    "SourcePolicy",
    "UniformSampler",
    "available_backends",
    "backend_names",
    "get_sampler",
    "load_video",
    "resolve_source",
    "resolve_source_async",
    "server_fetch_policy",
    "server_policy",
]
