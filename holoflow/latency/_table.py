"""The summary as text: a heading, the table of paths and the table of operators."""

from __future__ import annotations

import math
from typing import Any

from holoflow.latency._stats import PathStats, operator_order

__all__ = ["describe_gc", "describe_run", "summary_text"]

_PATH_COLUMNS = ("frames", "p50", "p90", "p99", "max", "mean", "std", "p99-p50", "fps")


def _ms(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def describe_run(info: dict[str, Any]) -> str:
    """One line saying what ran: app, frames, warm-up, pacing, scheduler (the keys of
    ``info`` that are present)."""
    parts = [str(info.get("app", "latency report"))]
    if "frames" in info:
        parts.append(f"{info['frames']} frames ({info.get('warmup', 0)} warm-up)")
    fps = info.get("fps")
    if fps is not None:
        parts.append(f"paced at {fps:g} fps" if fps else "unpaced")
    elif "frames" in info:
        parts.append("the app's own pacing")
    if info.get("scheduler"):
        parts.append(f"{info['scheduler']} scheduler")
    if info.get("end_to_end"):
        parts.append("end-to-end")
    return ", ".join(parts)


def describe_gc(gc_info: dict[str, Any]) -> str:
    """One line on the garbage collector (``info["gc"]`` of ``run_latency``): collections per
    generation and the longest pause during the counted frames when known, and in the whole run."""

    def numbers(part: dict[str, Any]) -> tuple[str, float]:
        counts = list(part.get("collections") or [0, 0, 0])
        per_generation = ", ".join(f"{n} gen-{g}" for g, n in enumerate(counts))
        return per_generation, max(part.get("pause_ms_max") or [0.0])

    policy = gc_info.get("policy")
    where = f" (gc_policy {policy})" if policy else ""
    whole, whole_pause = numbers(gc_info)
    counted = gc_info.get("counted_frames")
    if not isinstance(counted, dict):
        return (
            f"garbage collector{where}: {whole} collections while the app ran; "
            f"longest pause {whole_pause:.2f} ms"
        )
    during, pause = numbers(counted)
    return (
        f"garbage collector{where}: {during} collections during the counted frames, longest pause "
        f"{pause:.2f} ms; in the whole run {whole}, longest {whole_pause:.2f} ms"
    )


def summary_text(
    stats: list[PathStats], operator_times: dict[str, Any] | None = None, info: dict[str, Any] | None = None
) -> str:
    """The summary: what ran, one row per path (latency percentiles, jitter, rate), the path
    names, the end-to-end read-back counts, the garbage collections when ``info`` has them, and
    one row per operator when ``operator_times`` has them."""
    info = info or {}
    lines = [f"holoflow latency: {describe_run(info)}", ""]
    lines.append("Latency per path (ms); jitter: std and p99-p50; fps: frames/s at the end of the path")
    lines.append(f"{'path':<5}" + "".join(f"{c:>9}" for c in _PATH_COLUMNS))
    for s in stats:
        values = (s.p50, s.p90, s.p99, s.max, s.mean, s.std, s.spread)
        fps = "-" if s.fps is None else f"{s.fps:.1f}"
        lines.append(f"{s.label:<5}{s.frames:>9}" + "".join(f"{_ms(v):>9}" for v in values) + f"{fps:>9}")
    if not stats:
        lines.append("(no records)")
    lines.append("")
    for s in stats:
        route = " > ".join(s.operators) if s.operators else "source frame id stamped, read back rendered"
        lines.append(f"{s.label}: {route}")
    e2e = info.get("end_to_end_frames")
    if e2e:
        lines.append(
            f"end-to-end: {e2e['stamped']} frames stamped, {e2e['read']} read back, "
            f"{e2e['unreadable']} rendered frames unreadable, {e2e['missing']} never seen"
        )
    gc_info = info.get("gc")
    if isinstance(gc_info, dict) and gc_info.get("collections"):
        lines.append(describe_gc(gc_info))
    ops = operator_order(stats, operator_times)
    if operator_times:
        lines += ["", "Operators (ms)                 compute           queue"]
        lines.append(f"{'operator':<28}{'runs':>6}{'p50':>9}{'p99':>9}{'p50':>9}{'p99':>9}")
        for op in ops:
            times = operator_times.get(op)
            if times is None:
                continue
            row = [times.get(k) for k in ("compute_ms_p50", "compute_ms_p99", "queue_ms_p50", "queue_ms_p99")]
            lines.append(
                f"{op[:27]:<28}{int(times.get('computes', 0)):>6}" + "".join(f"{_ms(v):>9}" for v in row)
            )
    return "\n".join(lines) + "\n"
