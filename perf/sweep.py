"""The perf sweep as a script: same as `trtllm-mmfast sweep` (one implementation, trtllm_mmfast.bench).

    python perf/sweep.py --config configs/sweep-quick.yaml [--fps 1,2] [--concurrency 1,8] ...
"""

import sys

from trtllm_mmfast.bench.cli import sweep

if __name__ == "__main__":
    sys.exit(sweep.main(args=sys.argv[1:], prog_name="perf/sweep.py"))
