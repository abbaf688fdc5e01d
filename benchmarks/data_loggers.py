"""Benchmark: what data loggers cost on ``ping_chain``'s graph (a source, 5 forwarders, a sink).

Each mode runs in its own process, ``--repeats`` times, interleaved; the table shows median and
best throughput (messages through the whole chain per second, under ``GreedyScheduler``):

- ``none``: no logger (the baseline: a fragment without loggers runs the plain contexts);
- ``filtered``: a ``BasicConsoleLogger`` whose allowlist matches no port (the bookkeeping only);
- ``basic-quiet`` / ``async-quiet``: every message logged, with the ``holoflow.data_loggers``
  logger at ERROR so no line is formatted (the cost of the hook and, for async, the queue);
- ``basic`` / ``async``: every message formatted into a line, handed to a ``NullHandler``.

Usage::

    python benchmarks/data_loggers.py [--messages 50000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _results import RESULTS, write_json

MODES = ["none", "filtered", "basic-quiet", "async-quiet", "basic", "async"]
HOPS = 5


def run_worker(mode: str, messages: int) -> dict[str, float]:
    """Build and run the chain with the mode's logger; return its throughput."""
    from holoflow.conditions import CountCondition
    from holoflow.core import Application, Operator
    from holoflow.data_loggers import AsyncConsoleLogger, BasicConsoleLogger
    from holoflow.schedulers import GreedyScheduler

    class Tx(Operator):
        def setup(self, spec):
            spec.output("out")

        def start(self):
            self.i = 0

        def compute(self, op_input, op_output, context):
            self.i += 1
            op_output.emit(self.i, "out")

    class Fwd(Operator):
        def setup(self, spec):
            spec.input("in")
            spec.output("out")

        def compute(self, op_input, op_output, context):
            op_output.emit(op_input.receive("in"), "out")

    class Rx(Operator):
        def setup(self, spec):
            spec.input("in")

        def start(self):
            self.count = 0

        def compute(self, op_input, op_output, context):
            op_input.receive("in")
            self.count += 1

    class Chain(Application):
        def compose(self):
            previous = Tx(self, CountCondition(self, messages), name="tx")
            for hop in range(HOPS):
                forward = Fwd(self, name=f"fwd{hop}")
                self.add_flow(previous, forward)
                previous = forward
            self.rx = Rx(self, name="rx")
            self.add_flow(previous, self.rx)
            self.scheduler(GreedyScheduler(self))
            if mode == "filtered":
                self.add_data_logger(BasicConsoleLogger(self, allowlist_patterns=["^no such port$"]))
            elif mode.startswith("basic"):
                self.add_data_logger(BasicConsoleLogger(self, log_metadata=False))
            elif mode.startswith("async"):
                self.add_data_logger(
                    AsyncConsoleLogger(self, log_metadata=False, max_queue_size=10 * messages)
                )

    lines = logging.getLogger("holoflow.data_loggers")
    lines.propagate = False
    lines.addHandler(logging.NullHandler())
    if mode.endswith("-quiet"):
        lines.setLevel(logging.ERROR)
    app = Chain([])
    start = time.perf_counter()
    app.run()
    wall = time.perf_counter() - start
    return {"delivered": app.rx.count, "msgs_per_s": app.rx.count / wall, "wall_s": wall}


def measure(mode: str, messages: int) -> dict[str, float]:
    """Run one worker process and parse its JSON line."""
    repo = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")])))
    out = subprocess.run(
        [sys.executable, __file__, "--worker", mode, "--messages", str(messages)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{mode} worker failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", choices=MODES)
    parser.add_argument("--output", default=str(RESULTS / "data_loggers.json"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_worker(args.worker, args.messages)))
        return

    runs: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(args.repeats):
        for mode in MODES:  # interleaved, so a busy moment of the machine hits every mode
            runs[mode].append(measure(mode, args.messages)["msgs_per_s"])
    base = statistics.median(runs["none"])
    print(
        f"data loggers on a {HOPS}-hop chain: {args.messages} messages, {args.repeats} runs each, "
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), GreedyScheduler"
    )
    header = f"{'mode':<12} {'msg/s med':>11} {'msg/s best':>11} {'vs none':>8}"
    print(header)
    print("-" * len(header))
    rows = []
    for mode, values in runs.items():
        median = statistics.median(values)
        rows.append(
            {"mode": mode, "median_msgs_per_s": median, "best_msgs_per_s": max(values), "runs": values}
        )
        print(f"{mode:<12} {median:>11,.0f} {max(values):>11,.0f} {median / base:>7.2f}x")
    write_json(args.output, {"messages": args.messages, "hops": HOPS, "rows": rows})


if __name__ == "__main__":
    main()
