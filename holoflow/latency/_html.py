"""``report.html``: the summary tables and the plots on one page that needs no network."""

from __future__ import annotations

import base64
import html
import math
from typing import Any

from holoflow.latency._plots import PLOTS
from holoflow.latency._stats import PathStats, operator_order
from holoflow.latency._table import describe_run

__all__ = ["report_html"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1060px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.92em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.route { text-align: left; font-family: monospace; font-size: 0.9em; }
img { max-width: 100%; border: 1px solid #eee; }
p.note { background: #fff6d6; padding: 0.5em 0.8em; }
"""

_EXPLAIN = {
    "latency_over_time": (
        "Each message's end-to-end latency against the time it left the source, one line per "
        "path. The grey band is the warm-up, left out of every number. Steps show a change of "
        "regime, isolated spikes a stall (a slow operator, the garbage collector, another process)."
    ),
    "latency_distribution": (
        "Left: how many counted messages took how long (dashed line: median, dotted: p99). "
        "Right: the fraction of messages at most that late; the further right the curve's top "
        "reaches, the longer the tail."
    ),
    "operator_breakdown": (
        "The main path's median and p99 frames (or the operators' p50 and p99 times), split "
        "operator by operator into the wait in its input queue (hatched) and its compute "
        "(solid). The widest segment is where to look first."
    ),
    "jitter": (
        "Top: how much each message's latency differs from the previous one's; a steady pipeline "
        "stays near zero. Bottom: time between consecutive messages reaching the end of the path; "
        "at a paced source it should stay on the dashed source period."
    ),
}


def _ms(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def _paths_table(stats: list[PathStats]) -> str:
    head = "".join(
        f"<th>{c}</th>"
        for c in ("path", "frames", "p50", "p90", "p99", "max", "mean", "std", "p99&minus;p50", "fps")
    )
    rows = []
    for s in stats:
        cells = [s.frames, *(_ms(v) for v in (s.p50, s.p90, s.p99, s.max, s.mean, s.std, s.spread))]
        cells.append("-" if s.fps is None else f"{s.fps:.1f}")
        rows.append(f"<tr><td>{s.label}</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    routes = "".join(
        f"<tr><td>{s.label}</td><td class='route'>"
        f"{html.escape(' → '.join(s.operators) or 'source frame id stamped, read back rendered')}</td></tr>"
        for s in stats
    )
    return (
        f"<table><tr>{head}</tr>{''.join(rows)}</table>"
        f"<p>Latencies in ms; std and p99&minus;p50 measure the jitter.</p><table>{routes}</table>"
    )


def _operators_table(stats: list[PathStats], operator_times: dict[str, Any]) -> str:
    head = (
        "<tr><th>operator</th><th>runs</th><th>compute p50</th><th>compute p99</th>"
        "<th>queue p50</th><th>queue p99</th></tr>"
    )
    rows = []
    for op in operator_order(stats, operator_times):
        times = operator_times.get(op)
        if times is None:
            continue
        keys = ("compute_ms_p50", "compute_ms_p99", "queue_ms_p50", "queue_ms_p99")
        cells = "".join(f"<td>{_ms(times.get(k))}</td>" for k in keys)
        rows.append(f"<tr><td>{html.escape(op)}</td><td>{int(times.get('computes', 0))}</td>{cells}</tr>")
    return f"<h2>Operators (ms)</h2><table>{head}{''.join(rows)}</table>"


def report_html(
    stats: list[PathStats],
    operator_times: dict[str, Any] | None,
    info: dict[str, Any],
    plots: dict[str, bytes],
    linked: bool,
    notes: list[str],
    data_files: list[str],
) -> str:
    """The page: what ran, the tables, each plot with what it shows, ``notes``, links to
    ``data_files``. Plots are ``<img>`` links to ``<stem>.png`` beside the page when ``linked``,
    else embedded as base64."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>holoflow latency: {html.escape(str(info.get('app', '')))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>holoflow latency report</h1>",
        f"<p>{html.escape(describe_run(info))}</p>",
    ]
    when = [f"{key}: {html.escape(str(info[key]))}" for key in ("started", "wall_s", "host") if key in info]
    if when:
        parts.append(f"<p>{'; '.join(when)}</p>")
    parts += [f"<p class='note'>{html.escape(note)}</p>" for note in notes]
    parts += ["<h2>Paths</h2>", _paths_table(stats)]
    e2e = info.get("end_to_end_frames")
    if e2e:
        parts.append(
            f"<p>End-to-end: {e2e['stamped']} frames stamped, {e2e['read']} read back from the rendered "
            f"output, {e2e['unreadable']} rendered frames unreadable, {e2e['missing']} never seen.</p>"
        )
    if operator_times:
        parts.append(_operators_table(stats, operator_times))
    for stem, title in PLOTS.items():
        if stem not in plots:
            continue
        if linked:
            source = f"{stem}.png"
        else:
            source = "data:image/png;base64," + base64.b64encode(plots[stem]).decode("ascii")
        parts += [
            f"<h2>{html.escape(title)}</h2>",
            f"<p>{html.escape(_EXPLAIN[stem])}</p>",
            f"<img src='{source}' alt='{html.escape(title)}'>",
        ]
    if data_files:
        links = ", ".join(f"<a href='{name}'>{name}</a>" for name in data_files)
        parts.append(f"<h2>Raw records</h2><p>{links}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
