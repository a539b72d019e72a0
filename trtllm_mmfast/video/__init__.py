"""Video loading: sources, samplers, decoder backends, and the load path's steps."""

from .api import load_video
from .limits import Limits
from .reader import OpenedVideo, open_video
from .registry import available as available_backends
from .registry import names as backend_names
from .sampling import Qwen3VLSampler, UniformSampler, get_sampler

__all__ = [
    "Limits",
    "OpenedVideo",
    "Qwen3VLSampler",
    "UniformSampler",
    "available_backends",
    "backend_names",
    "get_sampler",
    "load_video",
    "open_video",
]
