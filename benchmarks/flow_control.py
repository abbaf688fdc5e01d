"""Benchmark: a 5-operator conditional-routing loop (dynamic flows), holoflow vs the Holoscan SDK.

The workload is ``holoscan_flow_loop.py``, one script written against ``holoscan`` imports: it runs
on Holoscan as it is and on holoflow through a temporary ``holoscan`` package that re-exports
holoflow's modules (``_holoscan_shim.py``). Each measurement runs in its own process, ``--repeats``
times; the table shows the median and best messages per second and the holoflow/Holoscan ratio
from this run, and the rate of the same operator bodies called in a fixed order with no scheduler
(the bare-loop limit). Runs of the two sides alternate. Every run's message count and checksum
are checked against a plain-Python replay of the same arithmetic, so both sides are known to have
done the same work.

Holoscan is found in this interpreter, or in the one named by ``--holoscan-python`` /
``$HOLOSCAN_PYTHON`` (a venv with ``pip install holoscan-cu12 nvidia-cuda-runtime-cu12``).

Usage::

    python benchmarks/flow_control.py [--messages 20000] [--repeats 3] [--scheduler greedy ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from _holoscan_shim import write_shim
from _results import RESULTS, write_json
from ping_chain import holoscan_env, holoscan_python, summarize

WORKLOAD = Path(__file__).resolve().parent / "holoscan_flow_loop.py"
REPO = Path(__file__).resolve().parents[1]
SCHEDULERS = ["greedy", "event", "multi"]
# Holoscan 4.6's MultiThreadScheduler is slow and erratic on Python operators; one run of it is enough.
PEER_REPEATS = {"multi": 1}
TARGET_RATIO = 10.0


def expected(messages: int) -> dict[str, object]:
    """What the loop must report after ``messages`` passes: the same arithmetic without a graph."""
    first_seed, mask = 27, (1 << 64) - 1
    value, seed, evens, checksum = first_seed, first_seed, 0, 1469598103934665603
    for _ in range(messages):
        value = value // 2 if value % 2 == 0 else 3 * value + 1
        evens += value % 2 == 0
        checksum = ((checksum ^ value) * 1099511628211) & mask
        if value == 1:
            seed += 1
            value = seed
    return {"messages": messages, "evens": evens, "last_seed": seed, "checksum": f"{checksum:016x}"}


def run_bare_loop(messages: int) -> float:
    """Messages per second of the loop with no scheduler: the limit for any Python scheduler.

    The four operator bodies (with the workload's ``compute(op_input, op_output, context)`` shape,
    reading and writing deques through ``receive``/``emit``) and the two routing callbacks are
    called in a fixed order; the router's callback picks the branch, the join's callback sends the
    message back. The result is checked against :func:`expected`.
    """

    class Port:
        __slots__ = ("queue",)

        def __init__(self) -> None:
            self.queue: deque[int] = deque()

        def receive(self, name: str) -> int:
            return self.queue.popleft()

        def emit(self, value: int, name: str) -> None:
            self.queue.append(value)

    class Stage:
        def __init__(self, step: Callable[[int], int]) -> None:
            self.step = step
            self.value = 0

        def compute(self, op_input: Port, op_output: Port, context: None) -> None:
            self.value = op_input.receive("in")
            op_output.emit(self.step(self.value), "out")

    mask, state = (1 << 64) - 1, {"count": 0, "evens": 0, "seed": 27, "checksum": 1469598103934665603}

    def join_step(value: int) -> int:
        state["count"] += 1
        state["evens"] += value % 2 == 0
        state["checksum"] = ((state["checksum"] ^ value) * 1099511628211) & mask
        if value == 1:
            state["seed"] += 1
            return state["seed"]
        return value

    router, even, odd = Stage(lambda v: v), Stage(lambda v: v // 2), Stage(lambda v: 3 * v + 1)
    join = Stage(join_step)
    router_in, router_out, branch_out, join_out = Port(), Port(), Port(), Port()
    router_in.emit(27, "out")
    t0 = time.perf_counter()
    while state["count"] < messages:
        router.compute(router_in, router_out, None)
        branch = even if router.value % 2 == 0 else odd  # the router's dynamic-flow callback
        branch.compute(router_out, branch_out, None)
        join.compute(branch_out, join_out, None)
        if state["count"] < messages:  # the join's dynamic-flow callback
            router_in.emit(join_out.receive("in"), "out")
    rate = messages / (time.perf_counter() - t0)
    got = {"messages": state["count"], "evens": state["evens"], "last_seed": state["seed"]}
    got["checksum"] = f"{state['checksum']:016x}"
    if got != expected(messages):
        raise AssertionError(f"bare loop computed {got}, expected {expected(messages)}")
    return rate


def measure(python: str, env: dict[str, str], messages: int, scheduler: str, timeout: float) -> dict:
    """Run the workload once in its own process; return its FLOWLOOP result, or ``{"error": ...}``."""
    command = [python, str(WORKLOAD), str(messages), scheduler]
    try:
        out = subprocess.run(
            ["bash", "-c", 'ulimit -s 32768 2>/dev/null; exec "$@"', "_", *command],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("FLOWLOOP "):
            return json.loads(line.removeprefix("FLOWLOOP "))
    lines = [line for line in out.stderr.splitlines() if line.strip() and not line.startswith("[")]
    return {"error": (lines[-1] if lines else f"exit {out.returncode}")[:200]}


def checked(runs: list[dict], want: dict[str, object]) -> dict | None:
    """The summary of the successful runs (None if none), with how many matched ``want`` exactly."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return None
    summary = summarize(
        [{**r, "delivered": r["messages"], "latency_us": 0.0, "out_of_order": 0} for r in good]
    )
    summary["checksum_ok"] = sum(all(r[k] == v for k, v in want.items()) for r in good)
    summary["failed"] = len(runs) - len(good)
    summary.pop("median_latency_us")
    summary.pop("out_of_order")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scheduler", choices=SCHEDULERS, action="append")
    parser.add_argument("--holoscan-python")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--output", default=str(RESULTS / "flow_control.json"))
    args = parser.parse_args()

    want = expected(args.messages)
    bare = [run_bare_loop(args.messages) for _ in range(args.repeats)]
    peer = holoscan_python(args.holoscan_python)
    rows = []
    with tempfile.TemporaryDirectory(prefix="holoscan-shim-") as shim:
        write_shim(shim)
        ours_env = dict(os.environ)
        ours_env["PYTHONPATH"] = os.pathsep.join(filter(None, [shim, str(REPO), ours_env.get("PYTHONPATH")]))
        for scheduler in args.scheduler or ["greedy", "event"]:
            # Alternate the two sides, so that a burst of load on the machine falls on both.
            ours_runs, theirs_runs = [], []
            for repeat in range(args.repeats):
                ours_runs.append(measure(sys.executable, ours_env, args.messages, scheduler, args.timeout))
                if peer and repeat < PEER_REPEATS.get(scheduler, args.repeats):
                    theirs_runs.append(
                        measure(peer, holoscan_env(peer), args.messages, scheduler, args.timeout)
                    )
            rows.append(
                {
                    "scheduler": scheduler,
                    "holoflow": checked(ours_runs, want),
                    "holoscan": checked(theirs_runs, want) if peer else None,
                    "errors": {
                        "holoflow": sorted({r["error"] for r in ours_runs if "error" in r}),
                        "holoscan": sorted({r["error"] for r in theirs_runs if "error" in r}),
                    },
                }
            )

    print(
        f"flow-control loop (5 operators, dynamic routing): {args.messages} messages, {args.repeats} runs "
        f"each, {os.cpu_count()} CPUs ({platform.processor() or platform.machine()})"
    )
    header = (
        f"{'scheduler':<10} {'impl':<9} {'runs':>4} {'delivered':>9} {'msg/s med':>11} {'msg/s best':>11} "
        f"{'checksum':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        for impl in ("holoflow", "holoscan"):
            s = row[impl]
            if s is None:
                why = "; ".join(row["errors"][impl]) or "Holoscan not installed: set HOLOSCAN_PYTHON"
                print(f"{row['scheduler']:<10} {impl:<9} failed: {why[:150]}")
                continue
            print(
                f"{row['scheduler']:<10} {impl:<9} {s['runs']:>4} {s['delivered']:>9} "
                f"{s['median_msgs_per_s']:>11,.0f} {s['best_msgs_per_s']:>11,.0f} "
                f"{s['checksum_ok']:>4}/{s['runs']:<3}"
            )
        if row["holoflow"] and row["holoscan"]:
            ratio = row["holoflow"]["median_msgs_per_s"] / row["holoscan"]["median_msgs_per_s"]
            row["ratio_vs_holoscan"] = ratio
            verdict = "meets" if ratio >= TARGET_RATIO else "below"
            print(
                f"{row['scheduler']:<10} ratio holoflow/holoscan (median): {ratio:.1f}x "
                f"({verdict} the {TARGET_RATIO:.0f}x target)"
            )
    bare_rate = statistics.median(bare)
    print(
        f"{'bare loop':<10} {'python':<9} {args.repeats:>4} {args.messages:>9} {bare_rate:>11,.0f} "
        f"{max(bare):>11,.0f}"
    )
    for row in rows:
        if row["holoflow"]:
            share = row["holoflow"]["median_msgs_per_s"] / bare_rate
            row["fraction_of_bare_loop"] = share
            print(f"{row['scheduler']:<10} holoflow reaches {share:.0%} of the bare-loop limit")
    print(f"expected: {json.dumps(want)}")

    write_json(
        args.output,
        {
            "benchmark": "flow_control",
            "messages": args.messages,
            "repeats": args.repeats,
            "machine": {
                "cpus": os.cpu_count(),
                "processor": platform.processor(),
                "python": platform.python_version(),
            },
            "holoscan_python": peer,
            "expected": want,
            "bare_loop_msgs_per_s": {"median": bare_rate, "best": max(bare)},
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
