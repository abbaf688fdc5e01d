"""Benchmark: two parallel branches doing GIL-releasing work, one thread vs two workers.

A source fans out to two branches; each branch operator does work that releases the GIL —
large numpy element-wise operations, or a wait standing for I/O — and a join collects both.
The same graph runs under GreedyScheduler (one thread) and under EventBasedScheduler and
MultiThreadScheduler with 2 workers. The table prints wall times and the speed-up over the
single thread; with two branches on two cores the limit is 2x.

Usage::

    python benchmarks/parallel_branches.py [--frames 40] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
from _results import RESULTS, write_json

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler


class Frames(Operator):
    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(1.0, "out")


class Branch(Operator):
    """numpy work on a private 1-million-element buffer, or a sleep of ``wait_s``."""

    def __init__(self, fragment, *args, kind="numpy", wait_s=0.01, **kwargs):
        self.kind, self.wait_s = kind, wait_s
        if kind == "numpy":
            self.buffer = np.random.default_rng(0).random(1_000_000)
            self.scratch = np.empty_like(self.buffer)
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        scale = op_input.receive("in")
        if self.kind == "numpy":
            for _ in range(8):  # cache-resident work: measures overlap, not memory bandwidth
                np.multiply(self.buffer, scale, out=self.scratch)
                np.sqrt(self.scratch, out=self.scratch)
                np.exp(self.scratch, out=self.scratch)
            result = float(self.scratch[-1])
        else:
            time.sleep(self.wait_s)
            result = scale
        op_output.emit(result, "out")


class Join(Operator):
    def setup(self, spec):
        spec.input("a")
        spec.input("b")

    def compute(self, op_input, op_output, context):
        self.last = (op_input.receive("a"), op_input.receive("b"))


def run_once(kind: str, scheduler: str, frames: int) -> float:
    class Fork(Application):
        def compose(self):
            source = Frames(self, CountCondition(self, frames), name="source")
            a = Branch(self, kind=kind, name="a")
            b = Branch(self, kind=kind, name="b")
            join = Join(self, name="join")
            self.add_flow(source, a)
            self.add_flow(source, b)
            self.add_flow(a, join, {("out", "a")})
            self.add_flow(b, join, {("out", "b")})

    app = Fork([])
    if scheduler == "greedy":
        app.scheduler(GreedyScheduler(app))
    elif scheduler == "event":
        app.scheduler(EventBasedScheduler(app, worker_thread_number=2))
    else:
        app.scheduler(MultiThreadScheduler(app, worker_thread_number=2))
    app.compose_graph()  # building the operators (and their buffers) is not part of the timing
    t0 = time.perf_counter()
    app.run()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(RESULTS / "parallel_branches.json"))
    args = parser.parse_args()
    rows = []
    for kind in ("numpy", "wait"):
        base = None
        for scheduler in ("greedy", "event", "multi"):
            wall = statistics.median(run_once(kind, scheduler, args.frames) for _ in range(args.repeats))
            base = base or wall
            rows.append({"work": kind, "scheduler": scheduler, "wall_s": wall, "speedup": base / wall})
    print(
        f"parallel branches: {args.frames} frames, 2 branches, median of {args.repeats}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'work':<6} {'scheduler':<10} {'workers':>7} {'wall s':>8} {'speed-up':>9}")
    for row in rows:
        workers = 1 if row["scheduler"] == "greedy" else 2
        print(
            f"{row['work']:<6} {row['scheduler']:<10} {workers:>7} {row['wall_s']:>8.3f} "
            f"{row['speedup']:>8.2f}x"
        )
    write_json(
        args.output,
        {
            "benchmark": "parallel_branches",
            "frames": args.frames,
            "repeats": args.repeats,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
