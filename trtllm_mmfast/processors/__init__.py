"""Fast wrappers around HF multimodal processors, one module per model family:
``qwen3_vl`` (Qwen3-VL, Qwen3-VL-MoE) and ``qwen2_vl`` (Qwen2-VL, Qwen2.5-VL); ``registry``
tells which family a processor belongs to (``family_of``) and imports it (``get``)."""
