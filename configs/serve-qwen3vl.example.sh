#!/usr/bin/env bash
# Example: serve Qwen3-VL with trtllm-serve through trtllm-mmfast (needs a GPU machine with
# TensorRT-LLM installed: pip install 'trtllm-mmfast[trtllm]').
set -euo pipefail

MODEL=${MODEL:-Qwen/Qwen3-VL-8B-Instruct}
PORT=${PORT:-8000}

# What would be hooked on this install (dry run, nothing is patched):
trtllm-mmfast info

# trtllm-mmfast owns --media-load-workers / --input-processing-workers / --video-backend;
# every other option goes to trtllm-serve untouched. On TensorRT-LLM versions whose
# trtllm-serve has --num_media_load_workers / --num_input_processor_workers, the counts are
# passed on to those too. Env alternatives: TRTLLM_MMFAST_MEDIA_LOAD_WORKERS,
# TRTLLM_MMFAST_INPUT_PROCESSING_WORKERS.
exec trtllm-mmfast -v serve "$MODEL" \
  --media-load-workers 16 \
  --input-processing-workers 8 \
  --host 0.0.0.0 --port "$PORT" \
  --backend pytorch \
  --extra_llm_api_options "$(dirname "$0")/qwen3vl-extra-llm-api-options.yaml"
  # Optional server-wide sampling (default: Qwen3-VL's own fps=2):
  #   --media_io_kwargs '{"video": {"fps": 1}}'

# A request (another shell); a data: URL, a local path / file:// URL, or http(s):
#   curl -s http://localhost:8000/v1/chat/completions -H 'Content-Type: application/json' -d '{
#     "model": "Qwen/Qwen3-VL-8B-Instruct", "max_tokens": 64,
#     "messages": [{"role": "user", "content": [
#       {"type": "video_url", "video_url": {"url": "https://example.com/clip.mp4"}},
#       {"type": "text", "text": "What happens in this video?"}]}]}'
