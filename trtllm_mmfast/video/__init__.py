"""Video loading: sources, samplers, decoder backends."""

from .api import load_video
from .backend import available as available_backends
from .backend import names as backend_names
from .limits import Limits
from .sampling import Qwen3VLSampler, UniformSampler, get_sampler

__all__ = ["Limits", "Qwen3VLSampler", "UniformSampler", "available_backends", "backend_names", "get_sampler", "load_video"]
