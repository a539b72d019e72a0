"""``python -m trtllm_mmfast``: the ``trtllm-mmfast`` command (how trtllm-serve's extra
frontends re-enter ``trtllm-mmfast serve``)."""

from .cli import main

main()
