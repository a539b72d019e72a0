"""STAND-IN for TensorRT-LLM main in the 2026 ``hash_source`` window (a test fixture).

Real file: tensorrt_llm/__init__.py; package glue only (``__version__``, ``STANDIN``, the fallback
``__path__`` below), none of its own code mirrored.

Mirrors ``tensorrt_llm`` where inputs/media_io.py, inputs/multimodal_data.py and
serve/openai_server.py are @0142b193cc0252aeca5d69eacd619d03276e9dcf: ``VideoMediaIO(hash_source=False)``
and ``OpenAIServer.__init__`` injecting ``media_io_kwargs["video"]["hash_source"] = True``
(setdefault) when ``generator.args.kv_cache_config.enable_block_reuse`` is true.

Only those modules live here. Every other module falls back to ``../../main/tensorrt_llm``
(this package's ``__path__`` — and that of ``inputs`` / ``serve`` — is extended with main's
directory, so ``tensorrt_llm._torch``, ``tensorrt_llm.commands``, ``inputs.registry``,
``inputs.utils``, ``inputs.multimodal`` and ``serve.chat_utils`` are main's files, imported under
the same ``tensorrt_llm.*`` names). Simplified: those shared modules are the newest main's
versions, not their 0142b193 versions (not in the facts); e.g. ``MultimodalServerConfig`` has
the CPU-limit fields, which this window's server ignores.
"""

import os as _os

__version__ = "1.3.0rc5"
STANDIN = "main_2026h1"
STANDIN_LAYOUT = "main"  # stand-in marker: the API layout ("1.2" or "main")

_MAIN_ROOT = _os.path.join(_os.path.dirname(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))),
                           "main", "tensorrt_llm")
__path__.append(_MAIN_ROOT)  # noqa: F821  (a package's __path__)


def _run_main_module(namespace: dict, relpath: str) -> None:
    """Run main's stand-in file ``relpath`` in ``namespace`` (this window's module: its own
    classes and globals, relative imports resolved here), keeping the namespace's docstring.
    A window module then redefines only what differs at its commit."""
    path = _os.path.join(_MAIN_ROOT, relpath)
    with open(path) as f:
        code = compile(f.read(), path, "exec")
    doc = namespace.get("__doc__")
    exec(code, namespace)
    namespace["__doc__"] = doc


def _fall_back_to_main(namespace: dict, subpackage: str) -> None:
    """Extend a subpackage's ``__path__`` with main's copy and run main's ``__init__`` in it."""
    namespace["__path__"].append(_os.path.join(_MAIN_ROOT, subpackage))
    _run_main_module(namespace, _os.path.join(subpackage, "__init__.py"))
