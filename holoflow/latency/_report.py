"""``write_report``: the report folder from latency records (a pure function of its inputs)."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from holoflow.latency._html import report_html
from holoflow.latency._plots import plots_unavailable, render_plots
from holoflow.latency._records import RECORD_KEYS, check_records
from holoflow.latency._stats import PathStats, frame_breakdowns, main_path, path_stats
from holoflow.latency._table import summary_text

__all__ = ["FORMATS", "Report", "write_report"]

FORMATS = ("html", "png", "csv", "json")
"""What a report can hold besides ``summary.txt``: ``report.html``, the plots as PNG files,
``records.csv`` and ``records.json``."""


@dataclass(frozen=True)
class Report:
    """What :func:`write_report` wrote."""

    directory: Path
    """The report folder."""
    files: list[Path]
    """Every file written, ``summary.txt`` first."""
    summary: str
    """The text of ``summary.txt`` (the table the command prints)."""
    stats: list[PathStats]
    """The numbers of the table, one per path."""
    notes: list[str]
    """What could not be done (plots without matplotlib, a breakdown without operator times)."""


def _formats(formats: str | Iterable[str]) -> list[str]:
    wanted = [f.strip() for f in formats.split(",")] if isinstance(formats, str) else list(formats)
    unknown = sorted(set(wanted) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown report format {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    return wanted


def _no_nan(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def _write_csv(path: Path, records: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(RECORD_KEYS)
        for r in records:
            hops = json.dumps(r["hops"], separators=(",", ":")) if r["hops"] else ""
            writer.writerow(
                [
                    r["path"],
                    r["index"],
                    "true" if r["counted"] else "false",
                    "" if r["start_ns"] is None else r["start_ns"],
                    "" if r["end_ns"] is None else r["end_ns"],
                    f"{r['latency_ms']:.6f}",
                    hops,
                ]
            )


def write_report(
    records: list[dict[str, Any]],
    directory: str | os.PathLike[str],
    *,
    operator_times: dict[str, Any] | None = None,
    info: dict[str, Any] | None = None,
    formats: str | Iterable[str] = FORMATS,
) -> Report:
    """Write the latency report of ``records`` into ``directory`` (made if missing).

    ``summary.txt`` is always written; ``formats`` (names of :data:`FORMATS`, or one
    comma-separated string) adds ``report.html``, the PNG plots (``latency_over_time.png``,
    ``latency_distribution.png``, ``operator_breakdown.png`` when the records have hop times or
    ``operator_times`` is given, ``jitter.png``), ``records.csv`` and ``records.json``. Without
    matplotlib the plots are skipped and :attr:`Report.notes` says how to get them; the page
    then holds the tables only.

    Parameters
    ----------
    records : list of dict
        Latency records (keys of ``holoflow.latency.RECORD_KEYS``); ``counted`` ones make the
        numbers, the others show as warm-up.
    directory : path
        The report folder; files of the same names are replaced.
    operator_times : dict, optional
        ``DataFlowTracker.operator_times()``: compute and queue times per operator.
    info : dict, optional
        What ran (``app``, ``frames``, ``warmup``, ``fps``, ``scheduler``, ``end_to_end``,
        ``started``, ``wall_s``, ``end_to_end_frames``...): shown in the heading and written to
        ``records.json``; must be JSON-serialisable.

    Returns
    -------
    Report

    Raises
    ------
    ValueError
        For an unknown format or a record that lacks a key or has a wrong type.
    """
    wanted = _formats(formats)
    check_records(records)
    info = dict(info or {})
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    stats = path_stats(records)
    summary = summary_text(stats, operator_times, info)
    notes: list[str] = []
    files = [folder / "summary.txt"]
    files[0].write_text(summary, encoding="utf-8")

    plots: dict[str, bytes] = {}
    if "png" in wanted or "html" in wanted:
        missing = plots_unavailable()
        if missing is not None:
            notes.append(f"plots skipped: {missing}")
        else:
            breakdowns = frame_breakdowns(records, stats, operator_times)
            main = main_path(stats)
            if not breakdowns and main is not None:
                notes.append(
                    "no per-operator breakdown: the records have no hop times and no operator times "
                    "were given (track with operator timing on)"
                )
            plots = render_plots(
                records, stats, breakdowns, main.label if main else "", _fps(info.get("fps"))
            )
    if "png" in wanted:
        for stem, png in plots.items():
            path = folder / f"{stem}.png"
            path.write_bytes(png)
            files.append(path)
    data_files = []
    if "csv" in wanted:
        _write_csv(folder / "records.csv", records)
        data_files.append("records.csv")
    if "json" in wanted:
        document = {
            "info": info,
            "summary": [{k: _no_nan(v) for k, v in asdict(s).items()} for s in stats],
            "operator_times": operator_times or {},
            "records": records,
        }
        (folder / "records.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        data_files.append("records.json")
    files += [folder / name for name in data_files]
    if "html" in wanted:
        page = report_html(stats, operator_times, info, plots, "png" in wanted, notes, data_files)
        (folder / "report.html").write_text(page, encoding="utf-8")
        files.append(folder / "report.html")
    return Report(folder, files, summary, stats, notes)


def _fps(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and value > 0 else None
