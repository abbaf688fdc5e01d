"""Benchmark: a two-fragment app across two processes, side by side with Holoscan and raw ZeroMQ.

One run measures, for the same payloads (a small object, 1 KiB, 1 MiB and 8 MiB uint8 arrays),
with every process on 127.0.0.1:

- **raw**: the raw ZeroMQ transport (``distributed_raw.py``'s ``raw_throughput`` and
  ``raw_round_trips``: a DEALER/ROUTER pair, ``copy=False``); latency is half the round trip of
  a ping-pong;
- **holoflow**: ``_distributed_app.py`` (written against Holoscan's API) run on holoflow through
  the ``holoscan`` shim, as ``--driver --worker --fragments fragment1`` plus ``--worker
  --fragments fragment2``;
- **holoscan**: the same file on Holoscan 4.6 (``--holoscan-python`` or ``$HOLOSCAN_PYTHON``),
  each process also given ``--worker-address 127.0.0.1:PORT``; the column is left out, with a
  note, when no Holoscan is found or with ``--skip-holoscan``.

Throughput runs send as fast as the sender may; msg/s and MB/s count from the first emit to the
last receive (``time.monotonic_ns``, one clock for every process of the host). Latency runs pace
the sender at 100 Hz with a ``PeriodicCondition`` (unloaded) and report the one-way latency
(receive time minus the emit stamp), p50 and p99; the raw transport is measured the same way
(``raw@100Hz``). Ping-pong runs (``pp``) send each message back and send the next only when it
returned, as the raw ping-pong does: half the round trip, p50 and p99, the like-for-like
figure beside raw's. The latency target is rated on it. The receiver checks every sequence number:
``lost`` counts messages that never arrived. ``shutdown`` is the time from the last receive to
the exit of the last process; exit codes are recorded. Every child has a timeout and is killed
when it runs over (the run then counts as failed).

The **cores** case runs two CPU-bound pure-Python operators (``--burn-ms`` each per message) as
two fragments, first in one process (no role flags: one GIL), then as driver + worker (one
fragment each), and reports the speed-up.

Each measurement runs ``--repeats`` times (medians and minimums are reported, with the number
of runs that lost messages). Results go to ``benchmarks/results/distributed.{txt,json}``; the
table rates each figure against the issue's targets: at least 10x Holoscan's msg/s for the small
object and 1 KiB, at least 80 % of raw MB/s at 1 and 8 MiB, latency within 2x raw, no losses,
and a cores speed-up of at least 1.7x.

Usage::

    python benchmarks/distributed.py [--repeats 5] [--quick] [--skip-holoscan]
        [--holoscan-python PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _holoscan_shim import write_shim
from _results import RESULTS, write_json
from distributed_raw import PAYLOADS, raw_paced_latencies, raw_round_trips, raw_throughput
from ping_chain import holoscan_env, holoscan_python

REPO = Path(__file__).resolve().parents[1]
APP = Path(__file__).with_name("_distributed_app.py")

COUNTS = {"small": 20_000, "1KiB": 20_000, "1MiB": 1_000, "8MiB": 150}
RAW_COUNTS = {"small": 100_000, "1KiB": 100_000, "1MiB": 2_000, "8MiB": 300}
RAW_TRIPS = {"small": 3_000, "1KiB": 3_000, "1MiB": 300, "8MiB": 60}
LATENCY_COUNT = 300  # at 100 Hz: 3 s
CORES_COUNT = 500  # at 2 ms per operator: 1 to 2 s
PERIOD_MS = 10.0
TARGETS = {
    "msgs_vs_holoscan": 10.0,  # small and 1 KiB
    "mb_vs_raw": 0.8,  # 1 MiB and 8 MiB
    "latency_vs_raw": 2.0,
    "cores_speedup": 1.7,
}


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def free_port() -> int:
    """A port nothing listens on now (for the driver's address and Holoscan's workers)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ------------------------------------------------------------------------------------------------
# One run of the app: one process, or driver + worker


class Impl:
    """How to start the app on one implementation: its interpreter, environment, extra flags."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], worker_address: bool) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.worker_address = worker_address


def holoflow_impl(scratch: Path) -> Impl:
    shim = write_shim(scratch / "shim")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(shim), str(REPO)])
    env["HOLOFLOW_DISTRIBUTED_SECRET"] = secrets.token_hex(32)
    return Impl("holoflow", [sys.executable, str(APP)], env, worker_address=False)


def holoscan_impl(python: str) -> Impl:
    env = holoscan_env(python)
    env.pop("PYTHONPATH", None)
    command = ["bash", "-c", 'ulimit -s 32768 2>/dev/null; exec "$@"', "_", python, str(APP)]
    return Impl("holoscan", command, env, worker_address=True)


def _watch(process: subprocess.Popen[bytes], exits: dict[int, int]) -> None:
    process.wait()
    exits[process.pid] = time.monotonic_ns()


def run_app(impl: Impl, args: list[str], roles: bool, timeout: float, scratch: Path) -> dict[str, Any]:
    """Run the app once; returns the receiver's result with exit codes, shutdown time, errors.

    ``roles``: driver + worker (two processes), else one process with no role flags. Each
    process is killed (with its process group) if the run takes longer than ``timeout`` s.
    """
    if roles:
        address = f"127.0.0.1:{free_port()}"
        roles_args = [
            ["--driver", "--worker", "--address", address, "--fragments", "fragment1"],
            ["--worker", "--address", address, "--fragments", "fragment2"],
        ]
        if impl.worker_address:
            for extra in roles_args:
                extra += ["--worker-address", f"127.0.0.1:{free_port()}"]
    else:
        roles_args = [[]]
    processes: list[tuple[subprocess.Popen[bytes], Path, Path]] = []
    exits: dict[int, int] = {}
    watchers = []
    for index, extra in enumerate(roles_args):
        out, err = scratch / f"p{index}.out", scratch / f"p{index}.err"
        with out.open("wb") as out_file, err.open("wb") as err_file:
            process = subprocess.Popen(
                [*impl.command, *args, *extra],
                stdout=out_file,
                stderr=err_file,
                env=impl.env,
                cwd=scratch,
                start_new_session=True,
            )
        processes.append((process, out, err))
        watcher = threading.Thread(target=_watch, args=(process, exits), daemon=True)
        watcher.start()
        watchers.append(watcher)
    deadline = time.monotonic() + timeout
    timed_out = False
    for watcher in watchers:
        watcher.join(max(0.0, deadline - time.monotonic()))
        if watcher.is_alive():
            timed_out = True
    if timed_out:
        for process, _, _ in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        for watcher in watchers:
            watcher.join(10)
    result: dict[str, Any] = {"received": 0, "lost": None, "timed_out": timed_out}
    for _process, out, _ in processes:
        for line in out.read_text(errors="replace").splitlines():
            if line.startswith("RXRESULT "):
                result.update(json.loads(line[len("RXRESULT ") :]))
    result["exit_codes"] = [process.returncode for process, _, _ in processes]
    last_receive = result.get("last_receive_ns")
    if last_receive and len(exits) == len(processes) and not timed_out:
        result["shutdown_s"] = (max(exits.values()) - last_receive) / 1e9
    failed = timed_out or any(code != 0 for code in result["exit_codes"]) or "expected" not in result
    if failed:
        result["stderr_tail"] = [err.read_text(errors="replace")[-1500:] for _, _, err in processes]
    return result


# ------------------------------------------------------------------------------------------------
# Measurements


def _median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _min(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return min(values) if values else None


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians (and minimums) over runs of the receiver's figures; losses and failures counted."""
    ok = [run for run in runs if "expected" in run]
    summary: dict[str, Any] = {
        key: _median([run.get(key) for run in ok])
        for key in ("msgs_per_s", "mb_per_s", "latency_p50_us", "latency_p99_us", "shutdown_s")
    }
    summary["msgs_per_s_min"] = _min([run.get("msgs_per_s") for run in ok])
    summary["shutdown_s_max"] = max((run["shutdown_s"] for run in ok if "shutdown_s" in run), default=None)
    summary["runs"] = len(runs)
    summary["runs_with_losses"] = sum(
        1 for run in runs if run.get("lost") is None or run["lost"] or run.get("gaps") or run.get("repeats")
    )
    lost = [run.get("lost") for run in runs]
    summary["lost_total"] = None if None in lost else sum(lost)
    summary["runs_failed"] = sum(
        1 for run in runs if run.get("timed_out") or any(code != 0 for code in run.get("exit_codes", [1]))
    )
    summary["exit_codes"] = sorted({code for run in runs for code in run.get("exit_codes", [])}, key=str)
    return summary


def measure_payload(
    kind: str, impls: list[Impl], repeats: int, scale: int, scratch: Path, timeout: float
) -> dict[str, Any]:
    count = max(20, COUNTS[kind] // scale)
    latency_count = max(20, LATENCY_COUNT // scale)
    raw_count = max(20, RAW_COUNTS[kind] // scale)
    trips = max(20, RAW_TRIPS[kind] // scale)
    size = PAYLOADS[kind] if kind != "small" else 0
    row: dict[str, Any] = {
        "payload": kind,
        "bytes": size,
        "messages": count,
        "latency_messages": latency_count,
    }
    raw_rates, raw_trips, raw_paced = [], [], []
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        impl.name: {"throughput": [], "latency": [], "pingpong": []} for impl in impls
    }
    for _ in range(repeats):  # interleaved, so a change of load hits every column alike
        raw_rates.append(raw_throughput(kind, raw_count))
        raw_trips.append(raw_round_trips(kind, trips))
        raw_paced.append([value * 1e6 for value in raw_paced_latencies(kind, latency_count, PERIOD_MS / 1e3)])
        for impl in impls:
            throughput = ["--payload", kind, "--count", str(count)]
            latency = ["--payload", kind, "--count", str(latency_count), "--period-ms", str(PERIOD_MS)]
            runs[impl.name]["throughput"].append(run_app(impl, throughput, True, timeout, scratch))
            runs[impl.name]["latency"].append(run_app(impl, latency, True, timeout, scratch))
            pingpong = ["--mode", "pingpong", "--payload", kind, "--count", str(trips)]
            runs[impl.name]["pingpong"].append(run_app(impl, pingpong, True, timeout, scratch))
    one_way = [[trip / 2 * 1e6 for trip in trips] for trips in raw_trips]
    row["raw"] = {
        "msgs_per_s": statistics.median(raw_rates),
        "mb_per_s": statistics.median(raw_rates) * PAYLOADS[kind] / 1e6,
        "latency_p50_us": statistics.median(statistics.median(run) for run in one_way),
        "latency_p99_us": statistics.median(_percentile(run, 99) for run in one_way),
        "paced_latency_p50_us": statistics.median(statistics.median(run) for run in raw_paced),
        "paced_latency_p99_us": statistics.median(_percentile(run, 99) for run in raw_paced),
        "messages": raw_count,
        "round_trips": trips,
        "runs": {"msgs_per_s": raw_rates, "latency_p50_us": [statistics.median(run) for run in one_way]},
    }
    for impl in impls:
        throughput = summarize(runs[impl.name]["throughput"])
        latency = summarize(runs[impl.name]["latency"])
        pingpong = summarize(runs[impl.name]["pingpong"])
        row[impl.name] = {
            "pingpong_p50_us": pingpong["latency_p50_us"],
            "pingpong_p99_us": pingpong["latency_p99_us"],
            "pingpong_runs_failed": pingpong["runs_failed"],
            "msgs_per_s": throughput["msgs_per_s"],
            "msgs_per_s_min": throughput["msgs_per_s_min"],
            "mb_per_s": throughput["mb_per_s"],
            "latency_p50_us": latency["latency_p50_us"],
            "latency_p99_us": latency["latency_p99_us"],
            "shutdown_s": _median([throughput["shutdown_s"], latency["shutdown_s"]]),
            "shutdown_s_max": max(
                (s for s in (throughput["shutdown_s_max"], latency["shutdown_s_max"]) if s is not None),
                default=None,
            ),
            "runs_with_losses": throughput["runs_with_losses"] + latency["runs_with_losses"],
            "lost_total": None
            if throughput["lost_total"] is None or latency["lost_total"] is None
            else throughput["lost_total"] + latency["lost_total"],
            "runs_failed": throughput["runs_failed"] + latency["runs_failed"],
            "exit_codes": sorted(set(throughput["exit_codes"]) | set(latency["exit_codes"]), key=str),
            "runs": runs[impl.name],
        }
    return row


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def measure_cores(
    impl: Impl, repeats: int, scale: int, burn_ms: float, scratch: Path, timeout: float
) -> dict[str, Any]:
    count = max(50, CORES_COUNT // scale)
    args = ["--mode", "cores", "--count", str(count), "--burn-ms", str(burn_ms)]
    single, split = [], []
    for _ in range(repeats):
        single.append(run_app(impl, args, False, timeout, scratch))
        split.append(run_app(impl, args, True, timeout, scratch))
    one, two = summarize(single), summarize(split)
    speedup = None
    if one["msgs_per_s"] and two["msgs_per_s"]:
        speedup = two["msgs_per_s"] / one["msgs_per_s"]
    return {
        "messages": count,
        "burn_ms": burn_ms,
        "one_process_msgs_per_s": one["msgs_per_s"],
        "driver_worker_msgs_per_s": two["msgs_per_s"],
        "speedup": speedup,
        "runs_with_losses": one["runs_with_losses"] + two["runs_with_losses"],
        "runs_failed": one["runs_failed"] + two["runs_failed"],
        "runs": {"one_process": single, "driver_worker": split},
    }


# ------------------------------------------------------------------------------------------------
# Report


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)  # None: a run printed no result


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _mark(value: float | None, target: float, higher: bool) -> str:
    if value is None:
        return "n/a"
    met = value >= target if higher else value <= target
    return f"{value:.2f}{'' if met else ' MISS'}"


def report(rows: list[dict[str, Any]], cores: dict[str, Any] | None, notes: list[str], header: str) -> str:
    lines = [header, *notes, ""]
    lines.append(
        f"{'payload':<8} {'impl':<9} {'msg/s':>10} {'MB/s':>9} {'lat p50 us':>11} {'lat p99 us':>11}"
        f" {'lost':>5} {'failed':>6} {'shutdown s':>10} {'exit':>6}"
    )
    for row in rows:
        for name in ("raw", "holoflow", "holoscan"):
            col = row.get(name)
            if col is None:
                continue
            if name == "raw":
                lines.append(
                    f"{row['payload']:<8} {'raw@100Hz':<9} {'':>10} {'':>9}"
                    f" {_fmt(col['paced_latency_p50_us'], ',.1f'):>11}"
                    f" {_fmt(col['paced_latency_p99_us'], ',.1f'):>11}"
                )
            else:
                failed = col.get("pingpong_runs_failed", 0)
                lines.append(
                    f"{row['payload']:<8} {name + ' pp':<9} {'':>10} {'':>9}"
                    f" {_fmt(col.get('pingpong_p50_us'), ',.1f'):>11}"
                    f" {_fmt(col.get('pingpong_p99_us'), ',.1f'):>11} {'':>5} {failed:>6}"
                )
            lines.append(
                f"{row['payload']:<8} {name:<9} {_fmt(col['msgs_per_s'], ',.0f'):>10}"
                f" {_fmt(col['mb_per_s'], ',.1f'):>9}"
                f" {_fmt(col['latency_p50_us'], ',.1f'):>11} {_fmt(col['latency_p99_us'], ',.1f'):>11}"
                f" {_count(col.get('lost_total', 0)):>5} {col.get('runs_failed', 0):>6}"
                f" {_fmt(col.get('shutdown_s'), '.3f'):>10}"
                f" {','.join(map(str, col.get('exit_codes', []))) or '-':>6}"
            )
    lines += ["", "against the targets (MISS: not met; n/a: not measured)"]
    lines.append(
        f"{'payload':<8} {'msg/s vs Holoscan (>=10)':>25} {'MB/s vs raw (>=0.8)':>20}"
        f" {'pp latency vs raw (<=2)':>24} {'(100 Hz vs raw@100Hz)':>22}"
        f" {'runs with losses (0)':>21}"
    )
    for row in rows:
        hf = row.get("holoflow", {})
        hs = row.get("holoscan")
        msgs = _ratio(hf.get("msgs_per_s"), hs["msgs_per_s"]) if hs else None
        mb = _ratio(hf.get("mb_per_s"), row["raw"]["mb_per_s"])
        latency = _ratio(hf.get("pingpong_p50_us"), row["raw"]["latency_p50_us"])
        paced = _ratio(hf.get("latency_p50_us"), row["raw"]["paced_latency_p50_us"])
        row["ratios"] = {
            "msgs_vs_holoscan": msgs,
            "mb_vs_raw": mb,
            "latency_vs_raw": latency,
            "latency_vs_raw_at_100hz": paced,
        }
        small = row["payload"] in ("small", "1KiB")
        lines.append(
            f"{row['payload']:<8} {(_mark(msgs, 10.0, True) if small else '(' + _fmt(msgs, '.2f') + ')'):>25}"
            f" {(_mark(mb, 0.8, True) if not small else '(' + _fmt(mb, '.2f') + ')'):>20}"
            f" {_mark(latency, 2.0, False):>24} {'(' + _fmt(paced, '.2f') + ')':>22}"
            f" {hf.get('runs_with_losses', 0):>21}"
        )
    if cores is not None:
        lines += [
            "",
            f"cores: two pure-Python operators of {cores['burn_ms']} ms each, {cores['messages']} messages:"
            f" one process {_fmt(cores['one_process_msgs_per_s'], ',.1f')} msg/s,"
            f" driver + worker {_fmt(cores['driver_worker_msgs_per_s'], ',.1f')} msg/s,"
            f" speed-up {_mark(cores['speedup'], TARGETS['cores_speedup'], True)} (target >= 1.7)",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeats", type=int, default=None, help="runs per measurement (default 5; 1 with --quick)"
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the messages, one run (a smoke run)")
    parser.add_argument("--skip-holoscan", action="store_true")
    parser.add_argument("--holoscan-python", help="an interpreter that imports Holoscan 4.6")
    parser.add_argument("--payloads", default=",".join(PAYLOADS), help="comma-separated subset")
    parser.add_argument("--burn-ms", type=float, default=2.0, help="cores case: ms per operator per message")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds per app run before it is killed"
    )
    parser.add_argument("--output", default=str(RESULTS / "distributed.json"))
    args = parser.parse_args()
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 5)
    scale = 10 if args.quick else 1
    notes = []
    with tempfile.TemporaryDirectory(prefix="holoflow-distributed-") as folder:
        scratch = Path(folder)
        impls = [holoflow_impl(scratch)]
        if args.skip_holoscan:
            notes.append("holoscan: skipped (--skip-holoscan)")
        else:
            python = holoscan_python(args.holoscan_python)
            if python is None:
                notes.append(
                    "holoscan: not found (set HOLOSCAN_PYTHON or --holoscan-python); column left out"
                )
            else:
                impls.append(holoscan_impl(python))
                notes.append(f"holoscan: {python}")
        rows = []
        for kind in args.payloads.split(","):
            rows.append(measure_payload(kind, impls, repeats, scale, scratch, args.timeout))
            print(f"measured {kind}", file=sys.stderr, flush=True)
        cores = measure_cores(impls[0], repeats, scale, args.burn_ms, scratch, args.timeout)
    header = (
        f"distributed: driver + worker on 127.0.0.1, {os.cpu_count()} CPUs ({cpu_name()}),"
        f" Python {platform.python_version()}; medians of {repeats} run(s)"
        + ("; QUICK (a tenth of the messages): a smoke run, not a measurement" if args.quick else "")
    )
    notes.append(
        "throughput: as fast as the sender may"
        f" ({', '.join(f'{k} {max(20, v // scale)}' for k, v in COUNTS.items())} messages);"
        f" latency: {max(20, LATENCY_COUNT // scale)} messages at {1000 / PERIOD_MS:.0f} Hz, one-way"
        " (raw@100Hz: raw messages stamped and paced like the app's); ping-pong (raw, and the 'pp' rows):"
        " half a round trip, the target's like-for-like reference; shutdown: last receive to the last"
        " process's exit"
    )
    text = report(rows, cores, notes, header)
    print(text, end="")
    output = Path(args.output)
    write_json(
        output,
        {
            "benchmark": "distributed",
            "quick": args.quick,
            "machine": {
                "cpus": os.cpu_count(),
                "processor": cpu_name(),
                "python": platform.python_version(),
            },
            "repeats": repeats,
            "targets": TARGETS,
            "notes": notes,
            "rows": rows,
            "cores": cores,
        },
    )
    output.with_suffix(".txt").write_text(text)


if __name__ == "__main__":
    main()
