"""The report's plots, drawn with matplotlib (imported here only, never by ``import holoflow``).

Figures are made with matplotlib's object API and its Agg canvas, so the global pyplot state and
backend of a program that imports this are left alone.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from holoflow.latency._stats import FrameBreakdown, PathStats

__all__ = ["PLOTS", "plots_unavailable", "render_plots"]

PLOTS = {
    "latency_over_time": "Latency over time",
    "latency_distribution": "Latency distribution (histogram and CDF)",
    "operator_breakdown": "Per-operator breakdown",
    "jitter": "Jitter",
}
"""The plots by file stem, with their titles."""

_INSTALL = "pip install 'holoflow[report]'"


def plots_unavailable() -> str | None:
    """Why plots cannot be drawn here (matplotlib missing, with the command that installs it),
    or None when they can."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return f"matplotlib is not installed; {_INSTALL} to get the plots"
    return None


def _figure(rows: int = 1, columns: int = 1, height: float = 4.2) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False)
    return figure, axes


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _colour(number: int) -> Any:
    from matplotlib import colormaps

    return colormaps["tab10"](number % 10)


def _legend(ax: Any, **kwargs: Any) -> None:
    """A legend when something is labelled (an empty one warns)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


def _by_path(records: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    return sorted((r for r in records if r["path"] == path), key=lambda r: r["index"])


def _latency_over_time(records: list[dict[str, Any]], stats: list[PathStats]) -> bytes:
    figure, axes = _figure()
    ax = axes[0][0]
    starts = [r["start_ns"] for r in records if r["start_ns"] is not None]
    timed = len(starts) == len(records) and bool(records)
    origin = min(starts) if timed else 0
    warm_until = None
    for number, s in enumerate(stats):
        mine = _by_path(records, s.path)
        x = np.array([(r["start_ns"] - origin) / 1e9 if timed else r["index"] for r in mine], dtype=float)
        y = np.array([r["latency_ms"] for r in mine], dtype=float)
        ax.plot(x, y, lw=0.9, marker=".", ms=2.5, color=_colour(number), label=s.label)
        first = next((i for i, r in enumerate(mine) if r["counted"]), len(mine))
        if first:  # the warm-up: the messages before the first counted one
            warm_until = max(warm_until if warm_until is not None else x[first - 1], x[first - 1])
    if warm_until is not None:
        ax.axvspan(ax.get_xlim()[0], warm_until, color="0.85", zorder=0, label="warm-up (not counted)")
    ax.set_xlabel("time since the first frame left the source (s)" if timed else "message number")
    ax.set_ylabel("latency (ms)")
    top = max((r["latency_ms"] for r in records), default=1.0)
    ax.set_ylim(0, 1.25 * top)  # room for the legend above the lines
    ax.grid(alpha=0.3)
    _legend(ax, loc="upper right", fontsize="small", ncol=4)
    ax.set_title("Latency of every message, per path")
    return _png(figure)


def _distribution(records: list[dict[str, Any]], stats: list[PathStats]) -> bytes:
    figure, axes = _figure(1, 2)
    hist, cdf = axes[0]
    counted = [r["latency_ms"] for r in records if r["counted"]]
    bins = np.histogram_bin_edges(counted or [0.0, 1.0], bins=60)
    for number, s in enumerate(stats):
        ms = np.sort([r["latency_ms"] for r in _by_path(records, s.path) if r["counted"]])
        if not ms.size:
            continue
        colour = _colour(number)
        label = f"{s.label} (p50 {s.p50:.1f}, p99 {s.p99:.1f} ms)"
        hist.hist(ms, bins=bins, histtype="step", lw=1.3, color=colour, label=s.label)
        cdf.plot(ms, np.arange(1, ms.size + 1) / ms.size, color=colour, lw=1.3, label=label)
        for value, style, q in ((s.p50, "--", 0.5), (s.p99, ":", 0.99)):
            hist.axvline(value, color=colour, ls=style, lw=1)
            cdf.plot([value], [q], "o", color=colour, ms=4)
    hist.set_xlabel("latency (ms)")
    hist.set_ylabel("messages")
    hist.set_title("Histogram (dashed: p50, dotted: p99)")
    cdf.axhline(0.5, color="0.6", lw=0.6)
    cdf.axhline(0.99, color="0.6", lw=0.6)
    cdf.set_xlabel("latency (ms)")
    cdf.set_ylabel("fraction of messages at most this late")
    cdf.set_ylim(0, 1.02)
    cdf.set_title("Cumulative distribution (dots: p50 and p99)")
    for ax in (hist, cdf):
        ax.grid(alpha=0.3)
        _legend(ax, fontsize="small", loc="best")
    return _png(figure)


def _breakdown(breakdowns: list[FrameBreakdown], path_label: str) -> bytes:
    figure, axes = _figure(height=1.6 + 0.9 * len(breakdowns))
    ax = axes[0][0]
    operators: list[str] = []
    for b in breakdowns:
        operators += [op for op, _, _ in b.segments if op not in operators]
    for row, b in enumerate(breakdowns):
        left = 0.0
        for op, queue, compute in b.segments:
            colour = _colour(operators.index(op))
            ax.barh(row, queue, 0.6, left=left, color=colour, alpha=0.35, hatch="//", edgecolor=colour)
            left += queue
            ax.barh(row, compute, 0.6, left=left, color=colour, edgecolor="white", lw=0.5)
            left += compute
        ax.text(left, row, f" {b.latency_ms:.1f} ms", va="center", fontsize="small")
    ax.set_yticks(range(len(breakdowns)), [b.title for b in breakdowns])
    ax.invert_yaxis()
    ax.set_xlabel("ms (hatched: waiting in the operator's input queue; solid: compute)")
    ax.set_title(f"Where the time goes on {path_label}, operator by operator")
    from matplotlib.patches import Patch

    handles = [Patch(color=_colour(i), label=op) for i, op in enumerate(operators)]
    ax.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="x", alpha=0.3)
    ax.margins(x=0.12)
    return _png(figure)


def _jitter(records: list[dict[str, Any]], stats: list[PathStats], fps: float | None) -> bytes:
    figure, axes = _figure(2, 1, height=6.0)
    change, gaps = axes[0][0], axes[1][0]
    any_gap = False
    for number, s in enumerate(stats):
        mine = [r for r in _by_path(records, s.path) if r["counted"]]
        if len(mine) < 2:
            continue
        colour = _colour(number)
        index = np.array([r["index"] for r in mine])
        ms = np.array([r["latency_ms"] for r in mine], dtype=float)
        change.plot(index[1:], np.diff(ms), lw=0.8, color=colour, label=s.label)
        ends = [(r["index"], r["end_ns"]) for r in mine if r["end_ns"] is not None]
        if len(ends) >= 2:
            any_gap = True
            ends.sort(key=lambda e: e[1])
            gap = np.diff([e[1] for e in ends]) / 1e6
            gaps.plot([e[0] for e in ends[1:]], gap, lw=0.8, color=colour, label=s.label)
    change.axhline(0, color="0.4", lw=0.8)
    change.set_ylabel("latency change (ms)")
    change.set_title("Frame-to-frame change of latency")
    if fps:
        gaps.axhline(1000 / fps, color="0.2", ls="--", lw=1, label=f"source period ({1000 / fps:.1f} ms)")
    if not any_gap:
        gaps.text(
            0.5, 0.5, "no end times in these records", ha="center", va="center", transform=gaps.transAxes
        )
    gaps.set_ylabel("time since previous (ms)")
    gaps.set_xlabel("message number")
    gaps.set_title("Inter-arrival at the end of the path")
    for ax in (change, gaps):
        ax.grid(alpha=0.3)
        _legend(ax, fontsize="small", loc="upper right")
    return _png(figure)


def render_plots(
    records: list[dict[str, Any]],
    stats: list[PathStats],
    breakdowns: list[FrameBreakdown],
    breakdown_path: str = "",
    fps: float | None = None,
) -> dict[str, bytes]:
    """The PNG files of the report by stem (the keys of :data:`PLOTS`); the operator breakdown
    only when ``breakdowns`` has frames.

    Raises
    ------
    ImportError
        If matplotlib is missing (:func:`plots_unavailable` says so first).
    """
    plots = {
        "latency_over_time": _latency_over_time(records, stats),
        "latency_distribution": _distribution(records, stats),
    }
    if breakdowns:
        plots["operator_breakdown"] = _breakdown(breakdowns, breakdown_path)
    plots["jitter"] = _jitter(records, stats, fps)
    return plots
