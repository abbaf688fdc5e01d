"""Benchmark: a chain of Python operators passing small messages, holoflow vs the Holoscan SDK.

The same graph code runs on both: the worker imports ``<impl>.core`` / ``.conditions`` /
``.schedulers`` for ``impl`` in {holoflow, holoscan}. Each measurement runs in its own process,
``--repeats`` times; the table shows the median and best throughput and the holoflow/Holoscan
ratio from this run. A bare loop making the same compute/receive/emit calls with no scheduling
is measured too, as the limit for any Python scheduler.

Holoscan is found in this interpreter, or in the one named by ``--holoscan-python`` /
``$HOLOSCAN_PYTHON`` (a venv with ``pip install holoscan-cu12 nvidia-cuda-runtime-cu12``).

Usage::

    python benchmarks/ping_chain.py [--messages 20000] [--hops 5] [--repeats 3] [--track]
        [--sample-every 16]

``--track`` also measures each implementation with data-flow tracking on (``app.track()``,
Holoscan's defaults) and, for holoflow, tracking that samples every ``--sample-every``-th root
compute (``app.track(sample_every=N)``), and prints the throughput each costs. holoflow's
untracked, tracked and sampled runs are interleaved (one of each, ``--repeats`` times), so a
change in the machine's load hits all three alike.
"""

from __future__ import annotations

import argparse
import glob
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _results import RESULTS, write_json

SCHEDULERS = {
    "greedy": ("GreedyScheduler", {}),
    "event": ("EventBasedScheduler", {"worker_thread_number": 2}),
    "multi": ("MultiThreadScheduler", {"worker_thread_number": 2}),
}
# Holoscan 4.6's MultiThreadScheduler runs at ~100 msg/s and stops early; one run of it is enough.
PEER_REPEATS = {"multi": 1}


def run_worker(
    impl: str, messages: int, hops: int, scheduler: str, tracked: bool = False, sample_every: int = 1
) -> dict[str, float]:
    """Build and run the chain on ``impl`` (tracked: with ``app.track()``, sampling every
    ``sample_every``-th root compute when above 1, a holoflow extension); return throughput
    and mean latency."""
    core = importlib.import_module(f"{impl}.core")
    conditions = importlib.import_module(f"{impl}.conditions")
    schedulers = importlib.import_module(f"{impl}.schedulers")

    class Tx(core.Operator):
        def setup(self, spec):
            spec.output("out")

        def start(self):
            self.i = 0

        def compute(self, op_input, op_output, context):
            self.i += 1
            op_output.emit((self.i, time.perf_counter()), "out")

    class Fwd(core.Operator):
        def setup(self, spec):
            spec.input("in")
            spec.output("out")

        def compute(self, op_input, op_output, context):
            op_output.emit(op_input.receive("in"), "out")

    class Rx(core.Operator):
        def setup(self, spec):
            spec.input("in")

        def start(self):
            self.n, self.latency, self.last, self.out_of_order = 0, 0.0, 0, 0

        def compute(self, op_input, op_output, context):
            index, sent = op_input.receive("in")
            self.out_of_order += index != self.last + 1
            self.last = index
            self.n += 1
            self.latency += time.perf_counter() - sent

    class Chain(core.Application):
        def compose(self):
            previous = Tx(self, conditions.CountCondition(self, messages), name="tx")
            for h in range(hops):
                forward = Fwd(self, name=f"f{h}")
                self.add_flow(previous, forward)
                previous = forward
            self.rx = Rx(self, name="rx")
            self.add_flow(previous, self.rx)

    app = Chain()
    cls_name, kwargs = SCHEDULERS[scheduler]
    app.scheduler(getattr(schedulers, cls_name)(app, name="s", **kwargs))
    if tracked:
        if sample_every > 1:
            app.track(sample_every=sample_every)
        else:
            app.track()
    t0, cpu0 = time.perf_counter(), time.process_time()
    app.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "delivered": app.rx.n,
        "out_of_order": app.rx.out_of_order,
        "msgs_per_s": app.rx.n / wall,
        "latency_us": app.rx.latency / max(app.rx.n, 1) * 1e6,
        "wall_s": wall,
        "cpu_us_per_msg": cpu / max(app.rx.n, 1) * 1e6,
    }


def run_bare_loop(messages: int, hops: int) -> dict[str, float]:
    """The limit for any Python scheduler: the same compute/receive/emit calls, no scheduling.

    Each stage is an object with the operator's ``compute(op_input, op_output, context)`` shape,
    reading and writing deques through ``receive``/``emit`` methods, called in a fixed order.
    """
    from collections import deque

    class Port:
        __slots__ = ("queue",)

        def __init__(self) -> None:
            self.queue: deque = deque()

        def receive(self, name):
            return self.queue.popleft()

        def emit(self, value, name):
            self.queue.append(value)

    class Forward:
        def compute(self, op_input, op_output, context):
            op_output.emit(op_input.receive("in"), "out")

    ports = [Port() for _ in range(hops + 1)]
    stages = [(Forward().compute, ports[h], ports[h + 1]) for h in range(hops)]
    source, sink = ports[0], ports[hops]
    delivered, latency = 0, 0.0
    t0 = time.perf_counter()
    for i in range(1, messages + 1):
        source.emit((i, time.perf_counter()), "out")
        for compute, op_input, op_output in stages:
            compute(op_input, op_output, None)
        _, sent = sink.receive("in")
        delivered += 1
        latency += time.perf_counter() - sent
    wall = time.perf_counter() - t0
    return {
        "delivered": delivered,
        "out_of_order": 0,
        "msgs_per_s": delivered / wall,
        "latency_us": latency / delivered * 1e6,
        "wall_s": wall,
    }


def holoscan_python(explicit: str | None) -> str | None:
    """An interpreter that can import holoscan, or None."""
    candidates = [explicit, os.environ.get("HOLOSCAN_PYTHON"), sys.executable]
    for python in filter(None, candidates):
        probe = subprocess.run(
            [python, "-c", "import holoscan"],
            capture_output=True,
            env=holoscan_env(python),
            timeout=120,
            check=False,
        )
        if probe.returncode == 0:
            return python
    return None


def holoscan_env(python: str) -> dict[str, str]:
    """Environment for a Holoscan child: its CUDA runtime on the library path."""
    env = dict(os.environ)
    prefix = Path(python).resolve().parent.parent
    libs = glob.glob(
        str(
            Path(python).parent.parent
            / "lib"
            / "python3*"
            / "site-packages"
            / "nvidia"
            / "cuda_runtime"
            / "lib"
        )
    )
    libs += glob.glob(str(prefix / "lib" / "python3*" / "site-packages" / "nvidia" / "cuda_runtime" / "lib"))
    if libs:
        env["LD_LIBRARY_PATH"] = ":".join([libs[0], env.get("LD_LIBRARY_PATH", "")]).rstrip(":")
    return env


def measure(
    python: str,
    impl: str,
    messages: int,
    hops: int,
    scheduler: str,
    tracked: bool = False,
    sample_every: int = 1,
) -> dict[str, float]:
    """Run one worker process and parse its JSON line."""
    cmd = [
        python,
        __file__,
        "--worker",
        impl,
        "--messages",
        str(messages),
        "--hops",
        str(hops),
        "--scheduler",
        scheduler,
        *(["--tracked"] if tracked else []),
        *(["--sample-every", str(sample_every)] if tracked and sample_every > 1 else []),
    ]
    env = holoscan_env(python) if impl == "holoscan" else dict(os.environ)
    repo = str(Path(__file__).resolve().parents[1])
    if impl == "holoflow":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo, env.get("PYTHONPATH")]))
    out = subprocess.run(
        ["bash", "-c", 'ulimit -s 32768 2>/dev/null; exec "$@"', "_", *cmd],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{impl} worker failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarize(runs: list[dict[str, float]]) -> dict[str, float]:
    rates = [r["msgs_per_s"] for r in runs]
    return {
        "median_msgs_per_s": statistics.median(rates),
        "best_msgs_per_s": max(rates),
        "median_latency_us": statistics.median(r["latency_us"] for r in runs),
        "delivered": min(r["delivered"] for r in runs),
        "out_of_order": max(r["out_of_order"] for r in runs),
        "runs": len(runs),
        **(
            {"median_cpu_us_per_msg": statistics.median(r["cpu_us_per_msg"] for r in runs)}
            if all("cpu_us_per_msg" in r for r in runs)
            else {}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--hops", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scheduler", choices=sorted(SCHEDULERS), action="append")
    parser.add_argument("--holoscan-python")
    parser.add_argument("--worker", choices=["holoflow", "holoscan"])
    parser.add_argument("--tracked", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--track", action="store_true", help="also measure with data-flow tracking on")
    parser.add_argument(
        "--sample-every",
        type=int,
        help="with --track, also measure holoflow tracking every N-th root compute (default 16)",
    )
    parser.add_argument("--output", default=str(RESULTS / "ping_chain.json"))
    args = parser.parse_args()

    if args.worker:
        print(
            json.dumps(
                run_worker(
                    args.worker,
                    args.messages,
                    args.hops,
                    (args.scheduler or ["greedy"])[0],
                    args.tracked,
                    args.sample_every or 1,
                )
            )
        )
        return

    args.sample_every = args.sample_every or 16
    peer = holoscan_python(args.holoscan_python)
    rows = []
    bare = summarize([run_bare_loop(args.messages, args.hops) for _ in range(args.repeats)])
    for scheduler in args.scheduler or list(SCHEDULERS):
        runs: dict[str, list[dict[str, float]]] = {
            "holoflow": [],
            "holoflow_tracked": [],
            "holoflow_sampled": [],
        }
        chain = (args.messages, args.hops, scheduler)
        for _ in range(args.repeats):
            runs["holoflow"].append(measure(sys.executable, "holoflow", *chain))
            if args.track:  # interleaved: the same load for all three
                runs["holoflow_tracked"].append(measure(sys.executable, "holoflow", *chain, True))
                sampled = measure(sys.executable, "holoflow", *chain, True, args.sample_every)
                runs["holoflow_sampled"].append(sampled)
        ours = summarize(runs["holoflow"])
        theirs = None
        if peer:
            theirs = summarize(
                [
                    measure(peer, "holoscan", args.messages, args.hops, scheduler)
                    for _ in range(PEER_REPEATS.get(scheduler, args.repeats))
                ]
            )
        row = {"scheduler": scheduler, "holoflow": ours, "holoscan": theirs}
        if args.track:
            row["holoflow_tracked"] = summarize(runs["holoflow_tracked"])
            row["holoflow_sampled"] = summarize(runs["holoflow_sampled"])
            row["sample_every"] = args.sample_every
            if peer:
                row["holoscan_tracked"] = summarize(
                    [
                        measure(peer, "holoscan", args.messages, args.hops, scheduler, True)
                        for _ in range(PEER_REPEATS.get(scheduler, args.repeats))
                    ]
                )
        rows.append(row)

    print(
        f"ping chain: {args.messages} messages, {args.hops} hops, {args.repeats} runs each, "
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})"
    )
    header = (
        f"{'scheduler':<10} {'impl':<16} {'runs':>4} {'delivered':>9} {'msg/s med':>11} {'msg/s best':>11} "
        f"{'lat us':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        for impl in ("holoflow", "holoscan", "holoflow_tracked", "holoflow_sampled", "holoscan_tracked"):
            if impl not in row:
                continue
            s = row[impl]
            if s is None:
                print(
                    f"{row['scheduler']:<10} {impl:<16} {'(Holoscan not installed: set HOLOSCAN_PYTHON)':>40}"
                )
                continue
            print(
                f"{row['scheduler']:<10} {impl:<16} {s['runs']:>4} {s['delivered']:>9} "
                f"{s['median_msgs_per_s']:>11,.0f} {s['best_msgs_per_s']:>11,.0f} "
                f"{s['median_latency_us']:>9.1f}"
            )
        if row["holoscan"]:
            ratio = row["holoflow"]["median_msgs_per_s"] / row["holoscan"]["median_msgs_per_s"]
            row["ratio_vs_holoscan"] = ratio
            print(f"{row['scheduler']:<10} ratio holoflow/holoscan (median): {ratio:.1f}x")
        for impl, kind in (("holoflow", "tracked"), ("holoflow", "sampled"), ("holoscan", "tracked")):
            tracked, untracked = row.get(f"{impl}_{kind}"), row[impl]
            if tracked and untracked:
                cost = 1 - tracked["median_msgs_per_s"] / untracked["median_msgs_per_s"]
                extra_us = (1 / tracked["median_msgs_per_s"] - 1 / untracked["median_msgs_per_s"]) * 1e6
                what = "tracking" if kind == "tracked" else f"tracking 1 in {row['sample_every']}"
                row[f"{impl}_{kind}_cost"] = cost
                line = (
                    f"{row['scheduler']:<10} {impl} {what} costs {cost:.1%} of its throughput "
                    f"(median; {extra_us:.2f} us per message)"
                )
                if "median_cpu_us_per_msg" in tracked and "median_cpu_us_per_msg" in untracked:
                    # CPU time per message: what the process spent, whatever else the machine ran
                    base, more = untracked["median_cpu_us_per_msg"], tracked["median_cpu_us_per_msg"]
                    row[f"{impl}_{kind}_cpu_cost"] = more / base - 1
                    line += f"; CPU time per message {base:.2f} -> {more:.2f} us (+{more / base - 1:.1%})"
                print(line)
    print(
        f"{'bare loop':<10} {'python':<16} {bare['runs']:>4} {bare['delivered']:>9} "
        f"{bare['median_msgs_per_s']:>11,.0f} {bare['best_msgs_per_s']:>11,.0f} "
        f"{bare['median_latency_us']:>9.1f}"
    )
    for row in rows:
        share = row["holoflow"]["median_msgs_per_s"] / bare["median_msgs_per_s"]
        row["fraction_of_bare_loop"] = share
        print(f"{row['scheduler']:<10} holoflow reaches {share:.0%} of the bare-loop limit")

    write_json(
        args.output,
        {
            "benchmark": "ping_chain",
            "messages": args.messages,
            "hops": args.hops,
            "repeats": args.repeats,
            "machine": {
                "cpus": os.cpu_count(),
                "processor": platform.processor(),
                "python": platform.python_version(),
            },
            "holoscan_python": peer,
            "bare_loop": bare,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
