"""STAND-IN for the ``trtllm-serve`` console script (entry point ``tensorrt_llm.commands.serve:main``).

A test fixture: run it as a FILE (``python trtllm_serve.py MODEL --num_serve_frontends 3``) with
a stand-in on ``PYTHONPATH`` (``standin.standin_env(generation)``), so that the multi-frontend
launcher's ``[sys.executable] + sys.argv`` re-executes this same script. Mirrors the console script TensorRT-LLM installs for
``tensorrt_llm/commands/serve.py`` (read @3d23e51c6b0e40da415b957a5781fef9d5790f15).
"""

import sys

from tensorrt_llm.commands.serve import main

if __name__ == "__main__":
    sys.exit(main())
