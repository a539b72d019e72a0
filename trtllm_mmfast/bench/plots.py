"""Sweep plots: throughput and p50/p99 latency vs concurrency, and the fast/stock speed-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_sweep"]


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
            style = "--" if mode == "stock" else "-"
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

    by = {(p["mode"], p["fps"], p["concurrency"], p["osl"]): p for p in points}
    ratios: dict[tuple[float, int], tuple[list[int], list[float]]] = {}
    for (mode, fps, conc, osl), p in sorted(by.items(), key=lambda kv: kv[0][2]):
        s = by.get(("stock", fps, conc, osl))
        if mode == "fast" and s and s.get("req_per_s") and p.get("req_per_s"):
            xs, ys = ratios.setdefault((fps, osl), ([], []))
            xs.append(conc)
            ys.append(p["req_per_s"] / s["req_per_s"])
    if ratios:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for (fps, osl), (xs, ys) in ratios.items():
            ax.plot(xs, ys, marker="o", label=f"fps={fps:g}" + (f" osl={osl}" if http else ""))
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrency")
        ax.set_ylabel("throughput fast / stock")
        ax.set_title("speed-up of trtllm-mmfast over stock TensorRT-LLM 1.2.x preprocessing")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        files["speedup_plot"] = str(out_dir / "speedup.png")
        fig.savefig(files["speedup_plot"], dpi=110)
        plt.close(fig)
    return files
