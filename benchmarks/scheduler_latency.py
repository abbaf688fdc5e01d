"""Benchmark: idle CPU, asynchronous wake-up latency and stop latency of each scheduler.

* idle CPU — an app whose only operator runs on a 1 s PeriodicCondition; process CPU time over
  the run's wall time (the issue's bound: < 1% of a core);
* wake-up — a thread sets an AsynchronousCondition to EVENT_DONE; the time until the operator's
  compute starts (p50 / p99 over the events);
* stop — ``app.stop_execution()`` from another thread while a periodic operator runs; the time
  until ``run()`` has returned.

Usage::

    python benchmarks/scheduler_latency.py [--idle-ticks 4] [--events 200]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import threading
import time

from _results import RESULTS, write_json

from holoflow.conditions import (
    AsynchronousCondition,
    AsynchronousEventState,
    CountCondition,
    PeriodicCondition,
)
from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler


def make_scheduler(app: Application, kind: str):
    if kind == "greedy":
        return GreedyScheduler(app)
    if kind == "event":
        return EventBasedScheduler(app, worker_thread_number=2)
    return MultiThreadScheduler(app, worker_thread_number=2)


class Stamp(Operator):
    def start(self):
        self.stamps = []

    def compute(self, op_input, op_output, context):
        self.stamps.append(time.perf_counter())


def idle_cpu(kind: str, ticks: int) -> float:
    app = Application([])
    app.add_operator(Stamp(app, CountCondition(app, ticks), PeriodicCondition(app, "1s"), name="tick"))
    app.scheduler(make_scheduler(app, kind))
    cpu0, t0 = time.process_time(), time.perf_counter()
    app.run()
    return (time.process_time() - cpu0) / (time.perf_counter() - t0)


def wake_latency(kind: str, events: int) -> list[float]:
    app = Application([])
    cond = AsynchronousCondition(app)
    cond.event_state = AsynchronousEventState.EVENT_WAITING
    op = Stamp(app, cond, name="op")
    app.add_operator(op)
    app.scheduler(make_scheduler(app, kind))
    sent = []

    def driver():
        for _ in range(events):
            while cond.event_state is not AsynchronousEventState.EVENT_WAITING:
                time.sleep(0.0001)
            time.sleep(0.001)
            sent.append(time.perf_counter())
            cond.event_state = AsynchronousEventState.EVENT_DONE
        while cond.event_state is not AsynchronousEventState.EVENT_WAITING:
            time.sleep(0.0001)
        cond.event_state = AsynchronousEventState.EVENT_NEVER

    thread = threading.Thread(target=driver)
    thread.start()
    app.run()
    thread.join()
    return sorted(b - a for a, b in zip(sent, op.stamps, strict=True))


def stop_latency(kind: str) -> float:
    app = Application([])
    app.add_operator(Stamp(app, PeriodicCondition(app, "1ms"), name="op"))
    app.scheduler(make_scheduler(app, kind))
    future = app.run_async()
    time.sleep(0.2)
    t0 = time.perf_counter()
    app.stop_execution()
    future.result(timeout=10)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-ticks", type=int, default=4)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--output", default=str(RESULTS / "scheduler_latency.json"))
    args = parser.parse_args()
    rows = []
    for kind in ("greedy", "event", "multi"):
        delays = wake_latency(kind, args.events)
        rows.append(
            {
                "scheduler": kind,
                "idle_cpu_fraction": idle_cpu(kind, args.idle_ticks),
                "wake_p50_ms": 1e3 * statistics.median(delays),
                "wake_p99_ms": 1e3 * delays[int(0.99 * (len(delays) - 1))],
                "stop_ms": 1e3 * stop_latency(kind),
            }
        )
    print(
        f"scheduler latency: {os.cpu_count()} CPUs, idle run of {args.idle_ticks} ticks at 1 s, "
        f"{args.events} async events"
    )
    print(f"{'scheduler':<10} {'idle CPU':>9} {'wake p50':>10} {'wake p99':>10} {'stop':>9}")
    for row in rows:
        print(
            f"{row['scheduler']:<10} {row['idle_cpu_fraction']:>8.2%} {row['wake_p50_ms']:>8.3f}ms "
            f"{row['wake_p99_ms']:>8.3f}ms {row['stop_ms']:>7.2f}ms"
        )
    print("bounds from the issue: idle CPU < 1% of a core, wake-up < 1 ms, stop < 100 ms")
    write_json(
        args.output,
        {
            "benchmark": "scheduler_latency",
            "idle_ticks": args.idle_ticks,
            "events": args.events,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
