"""The image workload (``sweep --workload image``): one image per request, concurrency x mode.

Modes (both baselines reimplemented from TensorRT-LLM's source facts, see ``image/decode.py``):

- ``stock`` (1.2.x): ``async_load_image(url, format="pt")`` decodes in the coroutine, on the
  event loop (``_load_and_convert_image`` then ``ToTensor``), and the HF processor runs inside
  ``generate_async``, on the loop too; ``do_rescale=False`` (the frames are floats).
- ``trtllm-main``: ``ImageMediaIO(format="pt")`` in the media-load pool (the same decode and
  ``ToTensor``; Qwen-VL models on main ask no image format), the processor in the
  input-processing pool, no ``_merge_kwargs`` memo.
- ``fast``: our ``load_image`` (decoded once into uint8 HWC) and ``chw_float`` (TensorRT-LLM's
  ``"pt"`` tensor from it with one float buffer) in the media-load pool, the fast processor
  (memo) in the input-processing pool.

All three give the model the same inputs: before measuring, one request per image through
each is compared (``torch.equal`` ``input_ids``, ``pixel_values``, ``image_grid_thw``);
a difference raises ``ModelInputsMismatchError``. Images: ``--image`` files, else one
generated ``width`` x ``height`` JPEG of realistic content (``footage``: a real photo).
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from ._common import LoadRun, ModelInputsMismatchError, Point, SweepResult, closed_loop, differing_keys, summarize

__all__ = ["IMAGE_MODES", "ImagePath", "prepare_images", "run_images"]

IMAGE_MODES = ("stock", "trtllm-main", "fast")
PROMPT = "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Describe the image.<|im_end|>\n"
_MODEL_INPUTS = ("input_ids", "pixel_values", "image_grid_thw")


class ImagePath:
    """``load(data)`` and ``process(image)`` of one request in ``mode`` (blocking functions)."""

    def __init__(self, mode: str, processor_factory: Callable[[], Any]) -> None:
        from ..processors import registry

        if mode not in IMAGE_MODES:
            raise ValueError(f"unknown image mode {mode!r}; valid: {', '.join(IMAGE_MODES)}")
        self.mode = mode
        self.hf = processor_factory()  # one instance per mode: a memo never leaks across modes
        self.fast = registry.get(registry.family_of(self.hf).name).wrap(self.hf) if mode == "fast" else None

    def load(self, data: bytes) -> Any:
        from ..image import chw_float, decode_image, open_rgb

        if self.fast is not None:
            return chw_float(decode_image(data))
        from torchvision.transforms import ToTensor

        image = open_rgb(data)  # TensorRT-LLM's _load_and_convert_image (open, load, RGB)
        try:
            return ToTensor()(image)
        finally:
            image.close()

    def process(self, image: Any) -> Any:
        call = self.fast if self.fast is not None else self.hf
        return call(text=[PROMPT], images=[image], videos=None, padding=True, do_rescale=False, return_tensors="pt")

    @staticmethod
    def tokens_out(out: Any) -> int:
        return int(out["input_ids"].shape[-1])


def prepare_images(cfg: Any) -> list[tuple[str, bytes]]:
    """(name, bytes) of the images to send: ``cfg.images`` files, else one generated JPEG."""
    if cfg.images:
        return [(p, Path(p.removeprefix("file://")).read_bytes()) for p in cfg.images]
    import numpy as np
    from PIL import Image

    from ..footage import footage_frame, photo

    pixels = footage_frame(photo(), cfg.width, cfg.height, 3, 10, np.random.default_rng(cfg.seed))
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=90)
    return [(f"generated {cfg.width}x{cfg.height} JPEG", buf.getvalue())]


def check_equal(paths: dict[str, ImagePath], images: list[tuple[str, bytes]]) -> None:
    for label, data in images:
        outs = {m: p.process(p.load(data)) for m, p in paths.items()}
        ref_mode, ref = next(iter(outs.items()))
        for m, out in outs.items():
            bad = differing_keys(ref, out, _MODEL_INPUTS)
            if bad:
                raise ModelInputsMismatchError(f"image mode {m} and {ref_mode} differ in {bad} on {label}")


async def _point(path: ImagePath, point: Point, data: bytes, n: int, max_s: float) -> LoadRun:
    from ..runtime import executors

    loop = asyncio.get_running_loop()
    on_loop = path.mode == "stock"  # 1.2: decode in the coroutine, processor in generate_async

    async def one(rid: int) -> dict[str, Any]:
        t0 = time.perf_counter()
        sample: dict[str, Any] = {**asdict(point), "request": rid, "ok": False}
        try:
            if on_loop:
                image = path.load(data)
                t1 = time.perf_counter()
                out = path.process(image)
            else:
                image = await loop.run_in_executor(executors.media_load_pool(), path.load, data)
                t1 = time.perf_counter()
                out = await loop.run_in_executor(executors.input_processing_pool(), path.process, image)
            t2 = time.perf_counter()
            sample.update(ok=True, load_s=t1 - t0, process_s=t2 - t1, e2e_s=t2 - t0, tokens=path.tokens_out(out))
        except Exception as e:  # a failed request is a data point
            sample.update(error=f"{type(e).__name__}: {e}", e2e_s=time.perf_counter() - t0)
        return sample

    return await closed_loop(point.concurrency, n, max_s, one)


def run_images(cfg: Any, *, progress: bool = True, echo: Callable[[str], None] = print) -> SweepResult:
    """Measure every image mode of ``cfg.modes`` (default all three) at each concurrency."""
    from ..runtime import executors
    from ..runtime.loop import run
    from ..versions import system_info
    from .sweep import _processor_factory

    modes = [m for m in cfg.modes if m in IMAGE_MODES] or list(IMAGE_MODES)
    images = prepare_images(cfg)
    result = SweepResult(config=asdict(cfg), system=system_info(), video={"images": [label for label, _ in images]})
    factory = _processor_factory(cfg)
    executors.configure(media_load_workers=cfg.media_load_workers, input_processing_workers=cfg.input_processing_workers)
    try:
        paths = {m: ImagePath(m, factory) for m in modes}
        check_equal(paths, images)
        for m in modes:
            for c in cfg.concurrency:
                point, total = Point(m, 0.0, c), LoadRun([], 0.0)
                for _, data in images:
                    total += run(_point(paths[m], point, data, cfg.requests_for(c), cfg.max_seconds_per_point))
                row = summarize(point, total)
                tokens = [s["tokens"] for s in total.samples if s["ok"]]
                row["tokens"] = tokens[0] if tokens else None
                result.points.append(row)
                result.samples += total.samples
    finally:
        executors.shutdown()
    _write(cfg, result, echo)
    return result


def markdown_table(points: list[dict[str, Any]]) -> str:
    base = {p["concurrency"]: p for p in points if p["mode"] == "trtllm-main"}
    lines = ["| mode | conc | req/s | e2e p50 ms | p99 ms | load p50 ms | process p50 ms | tokens | req/s vs trtllm-main |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p in points:
        b = base.get(p["concurrency"], {})
        ratio = f"{p['req_per_s'] / b['req_per_s']:.2f}x" if b.get("req_per_s") and p.get("req_per_s") else "-"
        ms = [f"{p.get(k, 0) * 1e3:.1f}" for k in ("p50_e2e_s", "p99_e2e_s", "p50_load_s", "p50_process_s")]
        lines.append(f"| {p['mode']} | {p['concurrency']} | {p['req_per_s']:.2f} | " + " | ".join(ms) + f" | {p['tokens']} | {ratio} |")
    return "\n".join(lines)


def _write(cfg: Any, result: SweepResult, echo: Callable[[str], None]) -> None:
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = markdown_table(result.points)
    note = "model inputs checked identical across modes (torch.equal input_ids, pixel_values, image_grid_thw)"
    (out / "images.md").write_text(f"{table}\n\n{note}\n")
    result.files = {"json": str(out / "images.json"), "markdown": str(out / "images.md")}
    with open(result.files["json"], "w") as f:
        json.dump(asdict(result), f, indent=1, default=str)
    echo(f"\nimage workload ({cfg.model_family}), {result.video['images']}\n")
    echo(table + f"\n\n{note}\n")
    for k, v in result.files.items():
        echo(f"{k:<9} {v}")
