"""Sweep plots: throughput and p50/p99 latency vs concurrency, and ours over each baseline
(``RATIO_PAIRS``: fast/stock, fast-trtllm/trtllm-main at identical inputs, fast/trtllm-main)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["BASELINES", "RATIO_PAIRS", "plot_sweep"]

BASELINES = ("stock", "trtllm-main")  # drawn dashed
# (ours, baseline) pairs given a ratio (plot line, table column) when both are in the grid:
# each baseline at the inputs its own sampling gives (fast: HF-exact), and main at identical inputs.
RATIO_PAIRS = (("fast", "stock"), ("fast-trtllm", "trtllm-main"), ("fast", "trtllm-main"))


def _series(points: list[dict[str, Any]], key: str) -> dict[tuple[str, float, int], tuple[list[int], list[float]]]:
    """(mode, fps, osl) -> (concurrency values, metric values), sorted by concurrency."""
    out: dict[tuple[str, float, int], tuple[list[int], list[float]]] = {}
    for p in sorted(points, key=lambda p: p["concurrency"]):
        if p.get(key) is None:
            continue
        xs, ys = out.setdefault((p["mode"], p["fps"], p["osl"]), ([], []))
        xs.append(p["concurrency"])
        ys.append(p[key])
    return out


def plot_sweep(points: list[dict[str, Any]], out_dir: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    http = any(p["osl"] for p in points)
    lat = "ttft_s" if http else "e2e_s"
    panels = [("req_per_s", "requests / s", 1.0), (f"p50_{lat}", f"p50 {lat[:-2]} (ms)", 1e3), (f"p99_{lat}", f"p99 {lat[:-2]} (ms)", 1e3)]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for ax, (key, label, scale) in zip(axes, panels):
        for (mode, fps, osl), (xs, ys) in _series(points, key).items():
            style = "--" if mode in BASELINES else "-"
            name = f"{mode} fps={fps:g}" + (f" osl={osl}" if http else "")
            ax.plot(xs, [y * scale for y in ys], style, marker="o", label=name)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrency")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("trtllm-mmfast sweep: video preprocessing" + (" (HTTP)" if http else " (in-process)"))
    fig.tight_layout()
    files = {"plot": str(out_dir / "sweep.png")}
    fig.savefig(files["plot"], dpi=110)
    plt.close(fig)

    ratios = _ratios(points)
    if ratios:
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
        for (a, b, fps, osl), (xs, ys) in ratios.items():
            ax.plot(xs, ys, marker="o", label=f"{a} / {b} fps={fps:g}" + (f" osl={osl}" if http else ""))
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrency")
        ax.set_ylabel("throughput ours / baseline")
        ax.set_title("speed-up of trtllm-mmfast over TensorRT-LLM preprocessing (1.2.x: stock; main: trtllm-main)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        files["speedup_plot"] = str(out_dir / "speedup.png")
        fig.savefig(files["speedup_plot"], dpi=110)
        plt.close(fig)
    return files


def _ratios(points: list[dict[str, Any]]) -> dict[tuple[str, str, float, int], tuple[list[int], list[float]]]:
    """(ours, baseline, fps, osl) -> (concurrency values, req/s ratios), for the pairs in the grid."""
    by = {(p["mode"], p["fps"], p["concurrency"], p["osl"]): p for p in points}
    out: dict[tuple[str, str, float, int], tuple[list[int], list[float]]] = {}
    for a, b in RATIO_PAIRS:
        for (mode, fps, conc, osl), p in sorted(by.items(), key=lambda kv: kv[0][2]):
            s = by.get((b, fps, conc, osl))
            if mode == a and s and s.get("req_per_s") and p.get("req_per_s"):
                xs, ys = out.setdefault((a, b, fps, osl), ([], []))
                xs.append(conc)
                ys.append(p["req_per_s"] / s["req_per_s"])
    return out
