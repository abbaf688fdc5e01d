"""Holoscan's own Python examples run on holoflow, compared with recorded Holoscan 4.6 runs.

Each example file runs unedited: a temporary ``holoscan`` package whose modules are holoflow's
(``_holoscan_shim.py``) comes first on ``PYTHONPATH``. The script runs in its own folder with a
timeout, and its stdout is compared with the Holoscan runs recorded in
``tests/data/holoscan-4.6-examples/`` (``<example path>.run<k>.txt`` and ``index.json``):

- **runs**: exit status 0 and no Python traceback in stdout or stderr;
- **strict**: stdout identical to one of the recorded Holoscan runs;
- **normalised**: stdout equal to one of them after ``_holoscan_compare.normalise`` (log lines and
  warnings dropped, glued lines split, long numbers masked, lines compared as a multiset).

The ``holoscan`` column says whether Holoscan agrees with itself over its recorded runs:
``same`` (identical), ``norm`` (identical after normalisation only), ``varies`` (not even then).

``--record`` runs the selected examples on Holoscan instead (``--holoscan-python`` or
``$HOLOSCAN_PYTHON``; 4 runs each) and writes the recordings.

Usage::

    python benchmarks/holoscan_examples.py --holoscan-sdk /path/to/holoscan-sdk [FILTER ...]
        [--set flow|cpu|pose_tree|all] [--runs 1] [--json results.json]
    python benchmarks/holoscan_examples.py --holoscan-sdk /path/to/holoscan-sdk --record
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _holoscan_compare import normalised_same, same_as_any
from _holoscan_shim import write_shim
from _results import write_json
from ping_chain import holoscan_env, holoscan_python

REPO = Path(__file__).resolve().parents[1]
RECORDED = REPO / "tests" / "data" / "holoscan-4.6-examples"

# Every example under flow_control, subgraph, conditions and execution_control.
FLOW_SET = [
    "conditions/asynchronous/python/ping_async.py",
    "conditions/expiring_message/python/ping_expiring_message.py",
    "conditions/multi_message/python/multi_message_per_receiver.py",
    "conditions/multi_message/python/multi_message_sum_of_all.py",
    "conditions/multi_message/python/single_message_timeout.py",
    "conditions/native/python/message_available_native.py",
    "conditions/native/python/ping_periodic_native.py",
    "conditions/or_combiner/python/multi_port_or_combiner.py",
    "conditions/periodic/python/ping_periodic.py",
    "execution_control/async_operator_execution_control/python/async_operator_execution_control.py",
    "execution_control/operator_status_tracking/python/operator_status_tracking.py",
    "flow_control/conditional/python/conditional_execution.py",
    "flow_control/conditional_routing/python/conditional_routing_execution.py",
    "flow_control/for_loop/python/for_loop_execution.py",
    "flow_control/fork_join/python/fork_join_execution.py",
    "flow_control/mixed_flows/python/mixed_flows_execution.py",
    "flow_control/sequential/python/sequential_execution.py",
    "flow_control/sequential_with_subgraph/python/sequential_with_subgraph.py",
    "flow_control/state_based_monitoring/python/state_based_monitoring.py",
    "flow_control/streaming/python/streaming_execution.py",
    "flow_control/streaming_with_monitor/python/streaming_with_monitor.py",
    "subgraph/ping_multi_receiver/python/subgraph_ping.py",
]

# The 28 examples that need no GPU, no data set and no second process (the parity measurement's set).
CPU_SET = [
    "hello_world/python/hello_world.py",
    "ping_simple/python/ping_simple.py",
    "ping_simple_run_async/python/ping_simple_run_async.py",
    "ping_custom_op/python/ping_custom_op.py",
    "ping_multi_port/python/ping_multi_port.py",
    "ping_vector/python/ping_vector.py",
    "conditions/native/python/ping_periodic_native.py",
    "conditions/native/python/message_available_native.py",
    "multi_branch_pipeline/python/multi_branch_pipeline.py",
    "resources/thread_pool/python/ping_simple_thread_pool.py",
    "conditions/asynchronous/python/ping_async.py",
    "conditions/expiring_message/python/ping_expiring_message.py",
    "conditions/multi_message/python/multi_message_per_receiver.py",
    "conditions/multi_message/python/multi_message_sum_of_all.py",
    "conditions/multi_message/python/single_message_timeout.py",
    "conditions/or_combiner/python/multi_port_or_combiner.py",
    "conditions/periodic/python/ping_periodic.py",
    "execution_control/operator_status_tracking/python/operator_status_tracking.py",
    "flow_control/sequential/python/sequential_execution.py",
    "flow_control/for_loop/python/for_loop_execution.py",
    "flow_control/conditional/python/conditional_execution.py",
    "flow_control/fork_join/python/fork_join_execution.py",
    "flow_control/streaming/python/streaming_execution.py",
    "flow_tracker/python/flow_tracker.py",
    "multithread/python/multithread.py",
    "resources/clock/python/ping_clock.py",
    "round_robin_parallel/python/round_robin.py",
    "subgraph/ping_multi_receiver/python/subgraph_ping.py",
]

# Holoscan 4.6 runs this one only with its frame set-up moved from __init__ to start() (its
# PoseTreeManager has no tree before the run); the recordings were made that way (index.json note).
POSE_TREE_SET = ["pose_tree/pose_tree_basic/python/pose_tree_basic.py"]

SETS = {
    "flow": FLOW_SET,
    "cpu": CPU_SET,
    "pose_tree": POSE_TREE_SET,
    "all": sorted(set(FLOW_SET) | set(CPU_SET) | set(POSE_TREE_SET)),
}
TIMEOUT_EXIT = 124
_EXCEPTION_LINE = re.compile(
    r"^(?:[\w.]+\.)?(?P<name>\w*(?:Error|Exception|Interrupt|Exit)): ?(?P<message>.*)$"
)


def examples_root(sdk: Path) -> Path:
    """The ``examples`` folder of a holoscan-sdk checkout or extracted tree (or ``sdk`` itself)."""
    return sdk / "examples" if (sdk / "examples").is_dir() else sdk


def select(paths: list[str], filters: list[str]) -> list[str]:
    """The ``paths`` containing any of ``filters`` (all of them when there are none)."""
    return [p for p in paths if not filters or any(f in p for f in filters)]


def display_name(path: str) -> str:
    """The example's path without ``python/`` and ``.py``: ``flow_control/for_loop/for_loop_execution``."""
    return path.replace("/python/", "/").removesuffix(".py")


def run_script(python: str, script: Path, env: dict[str, str], timeout: float) -> dict:
    """Run ``script`` in its folder; return exit code, stdout, stderr, wall time and a timeout flag.

    A run past ``timeout`` seconds is killed with its whole process group and reported with exit
    code 124 and the output it had written.
    """
    command = ["bash", "-c", 'ulimit -s 32768 2>/dev/null; exec "$@"', "_", python, script.name]
    t0 = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=script.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    timed_out = False
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
    return {
        "exit_code": TIMEOUT_EXIT if timed_out else process.returncode,
        "timed_out": timed_out,
        "wall_s": round(time.perf_counter() - t0, 3),
        "stdout": out.decode(errors="replace"),
        "stderr": err.decode(errors="replace"),
    }


def child_env(base: dict[str, str], pythonpath: list[str]) -> dict[str, str]:
    """``base`` with ``pythonpath`` put first on ``PYTHONPATH`` and unbuffered, bytecode-free Python."""
    env = dict(base)
    env["PYTHONPATH"] = os.pathsep.join([*pythonpath, *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def failure_note(run: dict) -> str:
    """A one-line reason a run failed: ``timeout``, the last exception line, or the exit code.

    The exception's module prefix and any ``(/path/...)`` are left out, to keep the line short and
    free of local paths.
    """
    if run["timed_out"]:
        return "timeout"
    lines = [line.strip() for line in (run["stderr"] + run["stdout"]).splitlines() if line.strip()]
    for line in reversed(lines):
        match = _EXCEPTION_LINE.match(line)
        if match:
            return re.sub(r" \(/[^)]*\)", "", f"{match['name']}: {match['message']}")
    return f"exit {run['exit_code']}"


def ran_cleanly(run: dict) -> bool:
    """Exit status 0 and no Python traceback anywhere in the output."""
    marker = "Traceback (most recent call last)"
    return run["exit_code"] == 0 and marker not in run["stdout"] and marker not in run["stderr"]


def recorded_outputs(recorded: Path, path: str) -> list[str]:
    """The recorded Holoscan stdouts of example ``path`` (``.run1.txt``, ``.run2.txt``, ...)."""
    outputs = []
    for k in itertools.count(1):
        file = recorded / f"{path}.run{k}.txt"
        if not file.exists():
            return outputs
        outputs.append(file.read_text())
    return outputs


def self_agreement(outputs: list[str]) -> str:
    """How Holoscan's recorded runs agree: ``same``, ``norm``, ``varies``, or ``n/a`` (none)."""
    if not outputs:
        return "n/a"
    if all(o == outputs[0] for o in outputs):
        return "same"
    if all(normalised_same(a, b) for a, b in itertools.combinations(outputs, 2)):
        return "norm"
    return "varies"


def record(args: argparse.Namespace, root: Path, paths: list[str]) -> None:
    """Run ``paths`` on Holoscan ``args.runs`` times each; write the outputs and ``index.json``."""
    python = holoscan_python(args.holoscan_python)
    if python is None:
        sys.exit("Holoscan not found: pass --holoscan-python or set HOLOSCAN_PYTHON")
    version = subprocess.run(
        [python, "-c", "import holoscan; print(holoscan.__version__)"],
        capture_output=True,
        text=True,
        env=holoscan_env(python),
        check=True,
    ).stdout.strip()
    recorded = Path(args.recorded)
    index_file = recorded / "index.json"
    index = json.loads(index_file.read_text()) if index_file.exists() else {"examples": {}}
    env = child_env(holoscan_env(python), [])
    for path in paths:
        runs = []
        for k in range(1, args.runs + 1):
            run = run_script(python, root / path, env, args.timeout)
            out = recorded / f"{path}.run{k}.txt"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(run["stdout"])
            entry = {key: run[key] for key in ("exit_code", "timed_out", "wall_s")}
            if not ran_cleanly(run):
                entry["error"] = failure_note(run)
            runs.append(entry)
            print(
                f"{display_name(path)} run {k}: exit {run['exit_code']} in {run['wall_s']:.1f} s", flush=True
            )
        for stale in itertools.count(args.runs + 1):
            old = recorded / f"{path}.run{stale}.txt"
            if not old.exists():
                break
            old.unlink()
        index["examples"][path] = {"recorded_on": datetime.date.today().isoformat(), "runs": runs}
    index.update(
        {
            "holoscan_version": version,
            "recorded_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timeout_s": args.timeout,
            "environment": "PYTHONUNBUFFERED=1, ulimit -s 32768, cwd = the example's folder, no arguments",
            "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
            "examples_source": "holoscan-sdk v3.10.0.post1 examples/",
        }
    )
    index["examples"] = dict(sorted(index["examples"].items()))
    write_json(index_file, {k: index[k] for k in sorted(index)})


def compare(args: argparse.Namespace, root: Path, paths: list[str]) -> list[dict]:
    """Run ``paths`` on holoflow and compare each with its recorded Holoscan runs; return the rows."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="holoscan-shim-") as shim:
        write_shim(shim)
        env = child_env(dict(os.environ), [shim, str(REPO)])
        for path in paths:
            references = recorded_outputs(Path(args.recorded), path)
            runs = [run_script(sys.executable, root / path, env, args.timeout) for _ in range(args.runs)]
            verdicts = [same_as_any(run["stdout"], references) for run in runs]
            failed = [run for run in runs if not ran_cleanly(run)]
            rows.append(
                {
                    "example": path,
                    "holoscan_runs": len(references),
                    "holoscan_agrees": self_agreement(references),
                    "runs": sum(ran_cleanly(run) for run in runs),
                    "strict_same": sum(v[0] for v in verdicts),
                    "normalised_same": sum(v[1] for v in verdicts),
                    "of": len(runs),
                    "exit_codes": [run["exit_code"] for run in runs],
                    "wall_s": [run["wall_s"] for run in runs],
                    "note": failure_note(failed[0]) if failed else "",
                }
            )
            if args.verbose:
                print(f"{display_name(path)}: {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def cell(count: int, of: int) -> str:
    if of == 1:
        return "yes" if count else "no"
    return f"{count}/{of}"


def print_table(rows: list[dict], title: str) -> None:
    width = max([len(display_name(r["example"])) for r in rows] + [7])
    print(title)
    header = f"{'example':<{width}}  {'holoscan':<8} {'runs':>5} {'strict':>6} {'norm':>5}  note"
    print(header)
    print("-" * len(header))
    for r in rows:
        of = r["of"]
        print(
            f"{display_name(r['example']):<{width}}  {r['holoscan_agrees']:<8} {cell(r['runs'], of):>5} "
            f"{cell(r['strict_same'], of):>6} {cell(r['normalised_same'], of):>5}  {r['note'][:90]}"
        )
    print(summary_line(rows))


def summary_line(rows: list[dict]) -> str:
    """Examples (out of all) that ran, matched strictly and matched normalised on every run."""
    n = len(rows)

    def every(key: str) -> int:
        return sum(r[key] == r["of"] for r in rows)

    varies = sum(r["holoscan_agrees"] == "varies" for r in rows)
    differs = sum(r["holoscan_agrees"] in ("norm", "varies") for r in rows)
    missing = sum(r["holoscan_runs"] == 0 for r in rows)
    text = (
        f"SUMMARY: runs {every('runs')}/{n}, strict-same {every('strict_same')}/{n}, "
        f"normalised-same {every('normalised_same')}/{n}; Holoscan disagrees with itself on {differs} "
        f"(strict), {varies} (normalised)"
    )
    return text + (f"; {missing} without recorded Holoscan runs" if missing else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("filters", nargs="*", help="run only examples whose path contains one of these")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--holoscan-sdk", type=Path, help="a holoscan-sdk checkout or extracted tree")
    source.add_argument("--examples-dir", type=Path, help="the examples folder itself")
    parser.add_argument(
        "--set", choices=sorted(SETS), default="flow", help="flow: 22 examples; cpu: the 28; pose_tree: 1"
    )
    parser.add_argument("--runs", type=int, help="runs per example (default 1; 4 with --record)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run")
    parser.add_argument("--recorded", default=str(RECORDED), help="folder of recorded Holoscan runs")
    parser.add_argument("--record", action="store_true", help="run on Holoscan and write the recordings")
    parser.add_argument("--holoscan-python", help="an interpreter that imports holoscan (with --record)")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--verbose", action="store_true", help="print each row as it finishes")
    args = parser.parse_args()

    root = args.examples_dir or examples_root(args.holoscan_sdk)
    paths = select(SETS[args.set], args.filters)
    missing = [p for p in paths if not (root / p).is_file()]
    if missing:
        sys.exit(f"not found under {root}: {', '.join(missing)}")
    if args.record:
        args.runs = args.runs or 4
        record(args, root, paths)
        return
    args.runs = args.runs or 1
    rows = compare(args, root, paths)
    print_table(
        rows,
        f"Holoscan examples on holoflow ({args.set} set, {len(rows)} examples, {args.runs} run(s) each, "
        f"timeout {args.timeout:.0f} s) vs recorded Holoscan runs",
    )
    if args.json:
        write_json(
            args.json,
            {
                "benchmark": "holoscan_examples",
                "set": args.set,
                "filters": args.filters,
                "runs": args.runs,
                "summary": summary_line(rows),
                "rows": rows,
            },
        )


if __name__ == "__main__":
    main()
