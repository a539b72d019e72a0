"""Benchmark machinery shared by `trtllm-mmfast sweep` and the scripts in perf/."""
