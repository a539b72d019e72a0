"""Fast wrappers around HF multimodal processors (Qwen3-VL first)."""
