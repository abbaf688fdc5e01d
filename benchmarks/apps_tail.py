"""Benchmark: the sample apps' latency tail, paced at 30 fps on the CPU, before and after the fixes.

Each sample app runs under ``holoflow.latency.run_latency`` (300 frames paced at 30 fps, 30 of
warm-up, end-to-end mode), under the greedy and the event-based scheduler, in three
configurations:

- ``before``: what holoflow did before: ``gc_policy="none"`` and ONNX Runtime's default thread
  count (``intra_op_num_threads=0``: one per physical core);
- ``gc``: the garbage-collection policy alone (``"freeze"``), ONNX Runtime's default threads;
- ``after``: the defaults now: ``gc_policy="freeze"`` and one ONNX Runtime thread per call.

Every run is a fresh process (as the ``holoflow latency`` command is), and the configurations
take turns, so a slow drift of the machine spreads over all of them. A run starts once the
machine is quiet (other processes below 5 % of a core for 4 s); while it runs, this process
samples the CPU time of everything else, and a run during which other processes took more than
5 % of a core on average, or 25 % in any second, is thrown away and run again (at most three
times; the table marks a run kept anyway with ``*``).

For each run: p50 / p99 / max of the longest path and of the end-to-end (rendered) latency,
counted after the warm-up; the garbage collections while the app ran; each operator's compute
and queue times; the slow frames (over 1.5x the run's p50) and the operator segment that grew
most in each; how late the source's computes started against the 30 fps grid. The table gives
the median of the repeats and the spread of the ratios. The raw model calls (each shipped ONNX
model alone, paced at 30 fps, one thread and ONNX Runtime's default) come last.

Usage::

    PYTHONPATH=$PWD python3 benchmarks/apps_tail.py [--repeats 3] [--frames 300] [--name cpu]
        [--apps ultrasound_segmentation,endoscopy_tool_tracking] [--schedulers greedy,event]
        [--configs before,gc,after] [--no-models]

Results go to ``benchmarks/results/apps_tail_<name>.{txt,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _results import RESULTS, write_json

CONFIGS: dict[str, dict[str, Any]] = {
    "before": {"gc_policy": "none", "intra_op_num_threads": 0},
    "gc": {"gc_policy": "freeze", "intra_op_num_threads": 0},
    "after": {"gc_policy": "freeze", "intra_op_num_threads": 1},
}
DESCRIPTIONS = {
    "before": "gc_policy none, ONNX Runtime's default threads (holoflow before these changes)",
    "gc": "gc_policy freeze, ONNX Runtime's default threads",
    "after": "gc_policy freeze, one ONNX Runtime thread per call (the defaults now)",
}
APPS = ("ultrasound_segmentation", "endoscopy_tool_tracking")
MODELS = ("us_unet_256x256_nhwc", "tool_loc_convlstm")
FPS = 30.0
SLOW = 1.5  # a frame is slow above this many times its run's p50
QUIET_LIMIT = 5.0  # % of one core other processes may use before and during a run
BURST_LIMIT = 25.0  # % of one core other processes may use in any one second of a run


# -- the child: one run ---------------------------------------------------------------------------
def _app_class(app: str, threads: int) -> type:
    """The sample app with its InferenceOp's ONNX Runtime thread count set."""
    from holoflow.apps import app_class

    base = app_class(app)

    def inference_kwargs(self: Any, key: str) -> dict[str, Any]:
        settings: dict[str, Any] = base.inference_kwargs(self, key)
        settings["backend_options"] = {"intra_op_num_threads": threads}
        return settings

    variant = type(base.__name__, (base,), {"inference_kwargs": inference_kwargs})
    variant.__qualname__ = app
    return variant


def _hop_times(record: dict[str, Any]) -> tuple[list[str], list[float], list[float]]:
    """(operators, compute ms, queue ms) of one record's hops."""
    hops = record["hops"]
    ops = [h["operator"] for h in hops]
    compute = [(h["publish_ns"] - h["receive_ns"]) / 1e6 for h in hops]
    queue = [0.0] + [(hops[i]["receive_ns"] - hops[i - 1]["publish_ns"]) / 1e6 for i in range(1, len(hops))]
    return ops, compute, queue


def _percentiles(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, np.float64)
    return {
        "n": len(a),
        "p50": float(np.percentile(a, 50)),
        "p90": float(np.percentile(a, 90)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
    }


def run_one(app: str, scheduler: str, config: str, frames: int, warmup: int) -> dict[str, Any]:
    """One latency run; the numbers this benchmark keeps."""
    from holoflow.latency import END_TO_END, run_latency

    settings = CONFIGS[config]
    run = run_latency(
        _app_class(app, settings["intra_op_num_threads"]),
        frames=frames,
        fps=FPS,
        warmup=warmup,
        scheduler=scheduler,
        end_to_end=True,
        gc_policy=settings["gc_policy"],
    )
    paths: dict[str, list[dict[str, Any]]] = {}
    for record in run.records:
        paths.setdefault(record["path"], []).append(record)
    main = max(sorted(p for p in paths if p != END_TO_END), key=lambda p: len(p.split(",")))
    counted = sorted((r for r in paths[main] if r["counted"]), key=lambda r: r["index"])
    result: dict[str, Any] = {
        "main": _percentiles([r["latency_ms"] for r in counted]),
        "e2e": _percentiles([r["latency_ms"] for r in paths[END_TO_END] if r["counted"]]),
        "main_path": main,
        "wall_s": run.info["wall_s"],
    }
    # Collections while the counted frames ran (start-up's are left out, as its frames are).
    first, last = counted[0]["start_ns"], counted[-1]["end_ns"]
    gc_events = [e for e in run.info["gc"]["events"] if first <= e[1] <= last]
    result["gc"] = {
        "policy": run.info["gc"]["policy"],
        "collections": [sum(1 for e in gc_events if e[0] == g) for g in range(3)],
        "pause_ms_max": [max((e[2] for e in gc_events if e[0] == g), default=0.0) for g in range(3)],
    }
    ends = [r["end_ns"] for r in counted]
    result["fps"] = (len(ends) - 1) / ((ends[-1] - ends[0]) / 1e9)
    # Operators along the main path: compute and queue per counted frame.
    ops = _hop_times(counted[0])[0]
    compute = np.array([_hop_times(r)[1] for r in counted])
    queue = np.array([_hop_times(r)[2] for r in counted])
    result["operators"] = {
        op: {
            "compute_p50": float(np.median(compute[:, i])),
            "compute_p99": float(np.percentile(compute[:, i], 99)),
            "queue_p50": float(np.median(queue[:, i])),
            "queue_p99": float(np.percentile(queue[:, i], 99)),
        }
        for i, op in enumerate(ops)
    }
    # Slow frames: which segment grew most against its median, and when they ran.
    latency = np.array([r["latency_ms"] for r in counted])
    p50 = float(np.median(latency))
    growth = np.concatenate([compute - np.median(compute, 0), queue - np.median(queue, 0)], axis=1)
    names = [f"{op} compute" for op in ops] + [f"{op} queue" for op in ops]
    culprits: dict[str, int] = {}
    windows = []
    for i in np.flatnonzero(latency > SLOW * p50):
        name = names[int(np.argmax(growth[i]))]
        culprits[name] = culprits.get(name, 0) + 1
        windows.append((counted[i]["start_ns"], counted[i]["end_ns"]))
    result["slow_frames"] = {"count": len(windows), "grown_most": culprits, "windows_ns": windows}
    gc_events = [
        e for e in run.info["gc"]["events"] if counted[0]["start_ns"] <= e[1] <= counted[-1]["end_ns"]
    ]
    with_gc = sum(any(a <= e[1] <= b for e in gc_events) for a, b in windows)
    result["slow_frames"]["with_a_collection"] = with_gc
    # Pacing: lateness of each source compute against the ideal grid (relative to the earliest).
    starts = np.array([r["start_ns"] for r in counted], np.float64)
    index = np.array([r["index"] for r in counted], np.float64)
    late = (starts - index * 1e9 / FPS) / 1e6
    late -= late.min()
    result["source_lateness_ms"] = {"p50": float(np.median(late)), "p99": float(np.percentile(late, 99))}
    return result


def models_one(model: str, threads: int, calls: int) -> dict[str, Any]:
    """The shipped ONNX model alone on random inputs, ``calls`` calls paced at 30 fps."""
    from holoflow.apps._models import model_path
    from holoflow.inference import load_backend

    backend = load_backend(
        "onnxrt", str(model_path(model, "onnxrt")), device="cpu", intra_op_num_threads=threads
    )
    rng = np.random.default_rng(0)
    inputs = [rng.random([d if d > 0 else 1 for d in spec.shape], np.float32) for spec in backend.inputs]
    for _ in range(20):
        backend.infer(inputs)
    times = []
    due = time.perf_counter()
    for _ in range(calls):
        due += 1 / FPS
        time.sleep(max(due - time.perf_counter(), 0))
        began = time.perf_counter_ns()
        backend.infer(inputs)
        times.append((time.perf_counter_ns() - began) / 1e6)
    return _percentiles(times[30:])


# -- the parent: quiet machine, other processes, repeats ------------------------------------------
def _cpu_total() -> tuple[int, int]:
    """(busy, all) jiffies of the machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def _cpu_of(pid: int) -> int:
    """User + system jiffies of process ``pid`` (all its threads), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _cores() -> int:
    return os.cpu_count() or 1


def wait_until_quiet(limit: float = QUIET_LIMIT, give_up_s: float = 900.0) -> float:
    """Wait until everything but this process uses under ``limit`` % of a core for two 2-s
    windows in a row; returns the seconds waited (gives up after ``give_up_s``)."""
    began = time.monotonic()
    quiet = 0
    while quiet < 2 and time.monotonic() - began < give_up_s:
        busy0, all0 = _cpu_total()
        own0 = _cpu_of(os.getpid())
        time.sleep(2)
        busy1, all1 = _cpu_total()
        own1 = _cpu_of(os.getpid())
        share = 100 * ((busy1 - busy0) - (own1 - own0)) / max((all1 - all0) / _cores(), 1)
        quiet = quiet + 1 if share < limit else 0
    return time.monotonic() - began


def _child(args: list[str]) -> tuple[dict[str, Any], dict[str, float]]:
    """Run this script with ``args`` in a fresh process; returns (its JSON answer, the CPU that
    other processes used meanwhile: mean and worst 1-s share of one core, in %)."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))
    )
    child = subprocess.Popen(
        [sys.executable, __file__, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    samples = []
    while child.poll() is None:
        samples.append((time.monotonic(), *_cpu_total(), _cpu_of(child.pid) + _cpu_of(os.getpid())))
        time.sleep(0.1)
    out = child.stdout.read() if child.stdout else ""
    if child.returncode != 0 or not out.strip():
        raise RuntimeError(f"child {args} failed with status {child.returncode}")
    answer = json.loads(out.strip().splitlines()[-1])
    a = np.array(samples, np.float64)
    own = np.diff(a[:, 3])
    # Once the child is gone its CPU time reads 0: an interval where it fell counts nothing.
    foreign = np.where(own >= 0, np.diff(a[:, 1]) - own, 0.0)
    per_core = np.diff(a[:, 2]) / _cores()
    window = 10  # samples of 0.1 s: one second
    sums = np.convolve(foreign, np.ones(window), "valid") if len(foreign) >= window else foreign
    cores = np.convolve(per_core, np.ones(window), "valid") if len(per_core) >= window else per_core
    burst = float((100 * sums / np.maximum(cores, 1)).max()) if len(sums) else 0.0
    mean = float(100 * foreign.sum() / max(per_core.sum(), 1)) if len(foreign) else 0.0
    return answer, {"mean": max(mean, 0.0), "burst": max(burst, 0.0)}


def measured(args: list[str], retries: int = 3) -> dict[str, Any]:
    """A child run on a quiet machine; rerun while other processes disturbed it."""
    for attempt in range(retries + 1):
        waited = wait_until_quiet()
        answer, other = _child(args)
        answer["other_processes_pct"] = other
        answer["waited_s"] = round(waited, 1)
        answer["disturbed"] = other["mean"] > QUIET_LIMIT or other["burst"] > BURST_LIMIT
        answer["attempt"] = attempt + 1
        if not answer["disturbed"]:
            break
    return answer


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def summarize(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Medians of the repeats for one path (``main`` or ``e2e``), and the spread of the ratios."""
    p50 = [r[key]["p50"] for r in runs]
    p99 = [r[key]["p99"] for r in runs]
    peak = [r[key]["max"] for r in runs]
    r99 = [b / a for a, b in zip(p50, p99, strict=True)]
    rmax = [b / a for a, b in zip(p50, peak, strict=True)]
    return {
        "p50": _median(p50),
        "p99": _median(p99),
        "max": _median(peak),
        "p99_p50": _median(r99),
        "p99_p50_range": [min(r99), max(r99)],
        "max_p50": _median(rmax),
        "max_p50_range": [min(rmax), max(rmax)],
        "runs": len(runs),
    }


def _evidence(runs: list[dict[str, Any]]) -> str:
    collections = np.median([r["gc"]["collections"] for r in runs], axis=0)
    pauses = np.max([r["gc"]["pause_ms_max"] for r in runs], axis=0)
    slow = [r["slow_frames"]["count"] for r in runs]
    culprits: dict[str, int] = {}
    for r in runs:
        for name, n in r["slow_frames"]["grown_most"].items():
            culprits[name] = culprits.get(name, 0) + n
    top = ", ".join(f"{name} {n}" for name, n in sorted(culprits.items(), key=lambda x: -x[1])[:3]) or "-"
    with_gc = sum(r["slow_frames"]["with_a_collection"] for r in runs)
    ops = runs[0]["operators"]
    heavy = [op for op in ops if ops[op]["compute_p50"] > 2.0]
    times = "; ".join(
        f"{op} {_median([r['operators'][op]['compute_p50'] for r in runs]):.1f}/"
        f"{_median([r['operators'][op]['compute_p99'] for r in runs]):.1f}"
        for op in heavy
    )
    queue = max(max(v["queue_p99"] for v in r["operators"].values()) for r in runs)
    late = _median([r["source_lateness_ms"]["p99"] for r in runs])
    other = max(r["other_processes_pct"]["mean"] for r in runs)
    fps = min(r["fps"] for r in runs)
    gc_text = ", ".join(f"gen{g} {collections[g]:.0f} (max {pauses[g]:.2f} ms)" for g in range(3))
    return (
        f"      gc during the counted frames, per run: {gc_text}\n"
        f"      compute p50/p99 ms: {times}; worst queue p99 {queue:.2f} ms; "
        f"source start lateness p99 {late:.2f} ms; lowest fps {fps:.1f}\n"
        f"      slow frames (>{SLOW}x p50) per run: {slow}; grown most: {top}; with a collection: {with_gc}; "
        f"other processes <= {other:.1f}% of a core"
    )


def _span(values: list[float]) -> str:
    return f"[{values[0]:.2f}-{values[1]:.2f}]"


def table(results: dict[str, Any], header: list[str]) -> str:
    lines = [*header, ""]
    lines.append(
        f"{'app':<24}{'sched':<7}{'config':<8}{'path':<5}{'p50':>8}{'p99':>8}{'max':>8}"
        f"{'p99/p50':>9}{'(range)':>13}{'max/p50':>9}{'(range)':>13}"
    )
    for app, by_scheduler in results["apps"].items():
        for scheduler, by_config in by_scheduler.items():
            for config, entry in by_config.items():
                for key, label in (("main", "main"), ("e2e", "E2E")):
                    s = entry["summary"][key]
                    mark = "*" if any(r["disturbed"] for r in entry["runs"]) else ""
                    lines.append(
                        f"{app:<24}{scheduler:<7}{config + mark:<8}{label:<5}{s['p50']:8.2f}{s['p99']:8.2f}"
                        f"{s['max']:8.2f}{s['p99_p50']:9.2f}"
                        f"{_span(s['p99_p50_range']):>13}{s['max_p50']:9.2f}{_span(s['max_p50_range']):>13}"
                    )
                lines.append(_evidence(entry["runs"]))
            lines.append("")
    if results.get("models"):
        lines.append("raw model calls, paced at 30 fps (ms; median of the repeats): p50 / p99 / max")
        for model, by_threads in results["models"].items():
            for threads, runs in by_threads.items():
                label = "one thread" if threads == "1" else "ONNX Runtime's default threads"
                p50, p99, peak = (_median([r[k] for r in runs]) for k in ("p50", "p99", "max"))
                lines.append(
                    f"  {model:<22}{label:<32}{p50:7.2f}{p99:7.2f}{peak:7.2f}   p99/p50 {p99 / p50:.2f}"
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--apps", default=",".join(APPS))
    parser.add_argument("--schedulers", default="greedy,event")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--no-models", action="store_true", help="skip the raw model calls")
    parser.add_argument("--name", default="cpu", help="results file suffix")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: one run in this process
    args = parser.parse_args()
    if args.one:
        job = json.loads(args.one)
        if job["kind"] == "model":
            print(json.dumps(models_one(job["model"], job["threads"], args.frames)))
        else:
            print(json.dumps(run_one(job["app"], job["scheduler"], job["config"], args.frames, args.warmup)))
        return

    apps = args.apps.split(",")
    schedulers = args.schedulers.split(",")
    configs = args.configs.split(",")
    results: dict[str, Any] = {
        "apps": {a: {s: {c: {"runs": []} for c in configs} for s in schedulers} for a in apps}
    }
    started = time.time()
    for repeat in range(args.repeats):
        for app in apps:
            for scheduler in schedulers:
                for config in configs:
                    job = {"kind": "app", "app": app, "scheduler": scheduler, "config": config}
                    answer = measured(
                        ["--frames", str(args.frames), "--warmup", str(args.warmup), "--one", json.dumps(job)]
                    )
                    results["apps"][app][scheduler][config]["runs"].append(answer)
                    s, other = answer["main"], answer["other_processes_pct"]["mean"]
                    print(
                        f"[{repeat + 1}/{args.repeats}] {app} {scheduler} {config}: "
                        f"p50 {s['p50']:.2f} p99 {s['p99']:.2f} max {s['max']:.2f}; "
                        f"other processes {other:.1f}% (attempt {answer['attempt']})",
                        flush=True,
                    )
    for by_scheduler in results["apps"].values():
        for by_config in by_scheduler.values():
            for entry in by_config.values():
                entry["summary"] = {key: summarize(entry["runs"], key) for key in ("main", "e2e")}
    if not args.no_models:
        results["models"] = {m: {"1": [], "0": []} for m in MODELS}
        for _repeat in range(args.repeats):
            for model in MODELS:
                for threads in (1, 0):
                    job = {"kind": "model", "model": model, "threads": threads}
                    answer = measured(["--frames", str(args.frames), "--one", json.dumps(job)])
                    results["models"][model][str(threads)].append(answer)
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    header = [
        f"sample apps' latency tail: paced at {FPS:g} fps, {args.frames} frames ({args.warmup} warm-up), "
        "end-to-end, onnxrt on the CPU",
        f"host: {cpu}, {_cores()} CPUs, Python {platform.python_version()}; {args.repeats} runs per row "
        "(fresh processes, configurations interleaved); medians of the runs, [min-max] of the ratios",
        "main: the longest path (replayer to the sink of rendered frames); E2E: source frame to rendered "
        "frame (stamped frame id)",
        "configurations: " + "; ".join(f"{c}: {DESCRIPTIONS[c]}" for c in configs),
        f"* a run kept although other processes used over {QUIET_LIMIT:g}% of a core (or {BURST_LIMIT:g}% "
        "in one second) three times in a row",
        "command: PYTHONPATH=$PWD python3 benchmarks/apps_tail.py " + " ".join(sys.argv[1:]),
    ]
    results["header"] = header
    results["wall_s"] = round(time.time() - started, 1)
    text = table(results, header)
    print(text)
    (RESULTS / f"apps_tail_{args.name}.txt").write_text(text)
    write_json(RESULTS / f"apps_tail_{args.name}.json", results)


if __name__ == "__main__":
    main()
