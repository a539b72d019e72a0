"""Images: TensorRT-LLM's image loader + the stock Qwen-VL processor call vs ours, side by side.

One encoded image (1080p JPEG q90, 1080p PNG, 4K JPEG) -> model inputs, for TensorRT-LLM's two
image formats:
- ``stock-pt``: TensorRT-LLM main's ``ImageMediaIO(format="pt")`` path (``inputs/media_io.py``
  @c1d898bb: PIL open + load + RGB, ``ToTensor``), then what its Qwen ``_preprocess`` calls:
  the HF processor on the float tensor with ``do_rescale=False``. The default on main and 1.2.
- ``fast-pt``: ``trtllm_mmfast.image`` (same PIL decode into one uint8 array, ``chw_float``:
  one float buffer), the same processor call. What the image-loader hook gives.
- ``stock-pil``: ``ImageMediaIO(format="pil")``, the processor on the PIL image.
- ``fast-view``: ``load_image(transparency="white")`` handed over as a zero-copy
  channels-first view (``processors._images.image_inputs``).
Median ms of the load and of the processor call (the modes interleaved in one process,
torch at one thread as in TensorRT-LLM's input-processor threads with trtllm-mmfast), peak
extra RSS of the loader alone and of loader + processor over three calls (each case in its
own process), and whether the model inputs (input_ids, pixel_values, image_grid_thw)
are byte-identical to the stock mode of the same format.

    python perf/bench_images.py [--repeats 7] [--out results/bench_images.json]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time

PROMPT = "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Describe.<|im_end|>\n"
IMAGES = {"1080p JPEG": (1920, 1080, "JPEG"), "1080p PNG": (1920, 1080, "PNG"), "4K JPEG": (3840, 2160, "JPEG")}
MODES = ("stock-pt", "fast-pt", "stock-pil", "fast-view")


def encoded(name: str) -> bytes:
    """A photo-like test image (the synthetic video frame generator's), encoded."""
    from PIL import Image

    from trtllm_mmfast.synth import synth_frame

    w, h, fmt = IMAGES[name]
    buf = io.BytesIO()
    Image.fromarray(synth_frame(w, h, 7)).save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _stock_pil(data: bytes):
    """TensorRT-LLM's ``_load_and_convert_image`` (open, load, ``convert_image_mode(..., "RGB")``)."""
    from PIL import Image

    from trtllm_mmfast.image.decode import _to_rgb  # the same mode rule ours decodes by

    im = Image.open(io.BytesIO(data))
    im.load()
    return _to_rgb(im)


def _loader(mode: str):
    from torchvision.transforms import ToTensor

    from trtllm_mmfast.image import chw_float, load_image
    from trtllm_mmfast.processors._images import image_inputs

    return {
        "stock-pt": lambda d: ToTensor()(_stock_pil(d)),
        "fast-pt": lambda d: chw_float(load_image(d)),
        "stock-pil": _stock_pil,
        "fast-view": lambda d: image_inputs([load_image(d, transparency="white")])[0],
    }[mode]


def _case(mode: str, name: str):
    """(data, load, process) for one (mode, image)."""
    from trtllm_mmfast.processors.tiny import tiny_processor

    data, load, processor = encoded(name), _loader(mode), tiny_processor()
    rescale = not mode.endswith("-pt")

    def process(img):
        return processor(text=[PROMPT], images=[img], padding=True, do_rescale=rescale, return_tensors="pt")

    return data, load, process


def run_times(name: str, repeats: int) -> list[dict]:
    """Every mode on one image, in this process, interleaved (mode after mode in each round),
    so that load on the machine falls on every mode alike."""
    import torch

    from trtllm_mmfast.bench._common import inputs_digest

    torch.set_num_threads(1)  # as in TensorRT-LLM's input-processor threads with trtllm-mmfast
    cases = {m: _case(m, name) for m in MODES}
    times: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
    digests, grids = {}, {}
    for m, (data, load, process) in cases.items():  # warm-up
        out = process(load(data))
        digests[m], grids[m] = inputs_digest(out), out["image_grid_thw"].tolist()
    for _ in range(repeats):
        for m, (data, load, process) in cases.items():
            t0 = time.perf_counter()
            img = load(data)
            t1 = time.perf_counter()
            process(img)
            times[m].append((t1 - t0, time.perf_counter() - t1))
            del img
    return [{
        "mode": m, "image": name, "encoded_bytes": len(cases[m][0]),
        "load_ms": statistics.median(a for a, _ in times[m]) * 1e3,
        "process_ms": statistics.median(b for _, b in times[m]) * 1e3,
        "total_ms": statistics.median(a + b for a, b in times[m]) * 1e3,
        "grid_thw": grids[m], "inputs_digest": digests[m], "torch_threads": 1,
    } for m in MODES]


def run_rss(mode: str, name: str, repeats: int = 3) -> dict[str, float]:
    """Peak extra RSS (MiB) of one (mode, image) in this (fresh) process: of the loader alone
    (what the image-loader hook changes) and of loader + processor call."""
    import torch

    from trtllm_mmfast.bench._common import PeakRss

    torch.set_num_threads(1)
    data, load, process = _case(mode, name)
    process(load(data))
    with PeakRss() as only_load:
        for _ in range(repeats):
            img = load(data)
            del img
    with PeakRss() as both:
        for _ in range(repeats):
            process(load(data))
    return {"load_peak_mib": only_load.mib, "peak_extra_rss_mib": both.mib}


def print_table(rows: list[dict]) -> None:
    print("| image | mode | load ms | load vs stock | processor ms | total ms | total vs stock | load peak MiB | peak MiB | grid | same as stock |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for name in IMAGES:
        by = {r["mode"]: r for r in rows if r["image"] == name}
        for m in MODES:
            r = by.get(m)
            if r is None:
                continue
            base = by.get("stock-pt" if m.endswith("-pt") else "stock-pil")
            vs = f"{r['total_ms'] / base['total_ms']:.2f}" if base else "-"
            lvs = f"{r['load_ms'] / base['load_ms']:.2f}" if base else "-"
            same = "-" if base is None else ("yes" if r["inputs_digest"] == base["inputs_digest"] else "NO")
            print(f"| {name} | {m} | {r['load_ms']:.1f} | {lvs} | {r['process_ms']:.1f} | {r['total_ms']:.1f} | {vs} "
                  f"| {r['load_peak_mib']} | {r['peak_extra_rss_mib']} | {r['grid_thw']} | {same} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--images", nargs="+", choices=list(IMAGES), default=list(IMAGES))
    ap.add_argument("--out", default="results/bench_images.json")
    ap.add_argument("--times", metavar="IMAGE", help=argparse.SUPPRESS)  # child process
    ap.add_argument("--rss", nargs=2, metavar=("MODE", "IMAGE"), help=argparse.SUPPRESS)  # child process
    args = ap.parse_args()
    if args.times:
        print(json.dumps(run_times(args.times, args.repeats)))
        return
    if args.rss:
        print(json.dumps(run_rss(*args.rss)))
        return
    from trtllm_mmfast.bench._common import write_result

    def child(*extra: str) -> object:
        res = subprocess.run([sys.executable, __file__, *extra, "--repeats", str(args.repeats)],
                             capture_output=True, text=True, check=True)
        return json.loads(res.stdout.strip().splitlines()[-1])

    rows = []
    for name in args.images:
        for row in child("--times", name):  # type: ignore[union-attr]
            row.update(child("--rss", row["mode"], name))  # type: ignore[arg-type]
            rows.append(row)
    print(f"\nOne image -> Qwen-VL model inputs (tiny processor, median of {args.repeats}, interleaved)\n")
    print_table([r for r in rows if r["image"] in args.images])
    write_result(args.out, "images", {"rows": rows})


if __name__ == "__main__":
    main()
