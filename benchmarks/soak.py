"""Soak test: a sample app and the sensor bridge run together for minutes; nothing may creep.

Two workloads run concurrently in this process, each an application on its own thread (the
greedy scheduler, as ``python -m holoflow.apps.NAME`` and the sensor-bridge player use):

- the ultrasound segmentation app, headless, replaying its sample recording in a loop at the
  recording's 30 fps (``realtime``), so the machine is not saturated and latency means
  something: replayer → format converter → U-Net (ONNX Runtime on CPU, or the ``--backend``) →
  post-processor → HolovizOp → the app's sink;
- the sensor bridge: the device emulator in its own process (``python -m holoflow.sensor_bridge``,
  as on hardware the device is not in the host's process) streams IMX274 RAW10 frames (1080p at
  60 fps by default) over loopback to ``LinuxReceiverOp`` (two finished frames queued for the
  consumer) → a counting sink.

Concurrently rather than one after another: a leak or a slow drift shows up only over time, so
each workload gets the whole duration, and the process under test is one that runs both, as an
application with a live sensor and a processing graph would. On two cores the pair uses about
one core (the app ~0.6, the receiver ~0.15, the emulator process ~0.2), leaving headroom.

Every ``--interval`` seconds (60 by default) one row is reported for this process:

- resident memory (``VmRSS``), open descriptors (``/proc/self/fd``), threads (Python's
  ``threading.active_count()`` and the OS's ``/proc/self/task``), each the median of one sample
  a second over the interval (a frame in flight is 2.6 MB: one sample would be noise), and the
  maximum;
- the app: frames delivered to the sink, frames still in flight at the interval's end, latency
  p50/p99/max from the replayer's compute (reading the frame) to the rendered frame at the sink;
- the sensor bridge: frames delivered, frames lost (gaps in the device's frame numbers plus
  frames delivered incomplete; the receiver's own counters of incomplete and overwritten frames
  and dropped packets are kept in the JSON), latency p50/p99/max from the device's timestamp of
  the frame's first byte (``timestamp_s``/``timestamp_ns`` in the frame's metadata, wall clock)
  to the sink;
- CPU of this process and of the emulator process, and the machine's 1-minute load average (a
  disturbed run shows as a load well above 1).

The first interval is the warm-up (ONNX Runtime's arena, allocator pools, socket buffers and
lazy imports settle in it) and is left out of the comparisons. The verdict checks:

- memory: the last interval's RSS is within 1 % of the first interval after warm-up;
- descriptors and threads (both counts): the last interval has none more than the first after
  warm-up;
- frames: none lost — no gap or incomplete frame from the sensor bridge in any interval, the
  app's frames in flight never above its graph's depth (a lost frame would stay "in flight"),
  and, after the app is stopped and drained, every frame the replayer emitted reached the sink;
- latency: p99 of the last interval within 10 % of the first after warm-up (app; and sensor
  bridge, first byte → sink). ``--latency-advisory`` reports this check without failing on it.

Exit status 0 when the verdict passes, 1 when it fails (``--no-verdict-exit``: 0 regardless).

Usage::

    python benchmarks/soak.py [--minutes 10 | --seconds S] [--interval 60] [--backend onnxrt]
                              [--mode 1080p|4k] [--mtu 9000] [--latency-advisory]
                              [--no-verdict-exit] [--results DIR] [--name soak] [--no-save]

Results go to ``benchmarks/results/soak.{json,txt}`` (``--results``/``--name`` change that).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from _results import RESULTS, write_json

from holoflow.apps import RunOptions
from holoflow.apps.ultrasound_segmentation import UltrasoundSegmentationApp
from holoflow.core import Application, ExecutionContext, InputContext, Operator, OperatorSpec, OutputContext
from holoflow.operators import LinuxReceiverOp
from holoflow.sensor_bridge import DataChannel, Hololink, Imx274Cam, Imx274Mode, apply_strategy
from holoflow.testing import random_loopback_ip

MODES = {"1080p": Imx274Mode.IMX274_MODE_1920X1080_60FPS, "4k": Imx274Mode.IMX274_MODE_3840X2160_60FPS}
TICK = os.sysconf("SC_CLK_TCK")
APP_FRAMES = 1 << 40  # the replayer loops until stopped
APP_DEPTH = 6  # frames the app's graph can hold at once (queues of one, five operators)
MEMORY_GROWTH = 0.01
LATENCY_GROWTH = 0.10


# -- measuring ------------------------------------------------------------------------------------
def rss_bytes(pid: int | str = "self") -> int:
    """Resident memory of process ``pid`` (``VmRSS``), in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as stream:
        for line in stream:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def sample() -> dict[str, int]:
    """One sample of this process: RSS, descriptors, Python threads, OS threads."""
    return {
        "rss": rss_bytes(),
        "fds": len(os.listdir("/proc/self/fd")),
        "py_threads": threading.active_count(),
        "os_threads": len(os.listdir("/proc/self/task")),
    }


def latency_figures(values_ns: list[int]) -> dict[str, float]:
    """p50, p99 and max of ``values_ns``, in milliseconds (NaN when empty)."""
    if not values_ns:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    ms = np.asarray(values_ns, np.float64) / 1e6
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "max_ms": float(ms.max()),
    }


class IntervalTimer:
    """The app's frame timer, per interval: pairs each frame the replayer emits with the next
    rendered frame at the sink (frames stay in order), as the app's own timer does, but keeps only
    the current interval's latencies, so that measuring does not grow the process it measures.

    It stands in for ``SampleApp.timer`` (the replayer calls :meth:`emitted`, the sink
    :meth:`finished`, the app's ``run`` calls :meth:`reset`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: deque[int] = deque()
        self._latencies: list[int] = []
        self.emitted_total = 0
        self.delivered_total = 0

    def reset(self) -> None:
        with self._lock:
            self._pending.clear()
            self._latencies = []
            self.emitted_total = self.delivered_total = 0

    def emitted(self, when_ns: int | None = None) -> None:
        with self._lock:
            self._pending.append(time.perf_counter_ns() if when_ns is None else when_ns)
            self.emitted_total += 1

    def finished(self) -> None:
        now = time.perf_counter_ns()
        with self._lock:
            if self._pending:
                self._latencies.append(now - self._pending.popleft())
            self.delivered_total += 1

    def take(self) -> tuple[int, int, int, list[int]]:
        """(emitted so far, delivered so far, in flight now, the latencies since the last take)."""
        with self._lock:
            latencies, self._latencies = self._latencies, []
            return self.emitted_total, self.delivered_total, len(self._pending), latencies


@dataclass
class BridgeCounts:
    """What the sensor-bridge sink saw (cumulative counters, the latencies since the last take)."""

    frames: int = 0
    complete: int = 0
    gaps: int = 0
    latencies: list[int] = field(default_factory=list)


class BridgeSink(Operator):
    """Counts the receiver's frames, the frames missing between them, and their latency."""

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("in")

    def start(self) -> None:
        self._lock = threading.Lock()
        self._counts = BridgeCounts()
        self._last_number: int | None = None

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        metadata = op_input.receive("in")["metadata"]
        now = time.time_ns()
        sent = metadata["timestamp_s"] * 1_000_000_000 + metadata["timestamp_ns"]
        number = int(metadata["frame_number"])
        with self._lock:
            counts = self._counts
            counts.frames += 1
            counts.complete += bool(metadata["complete"])
            if self._last_number is not None and number > self._last_number + 1:
                counts.gaps += number - self._last_number - 1
            self._last_number = number
            counts.latencies.append(now - sent)

    def take(self) -> BridgeCounts:
        """The counters so far, and the latencies since the last take."""
        with self._lock:
            counts = self._counts
            taken = BridgeCounts(counts.frames, counts.complete, counts.gaps, counts.latencies)
            counts.latencies = []
            return taken


class BridgePlayer(Application):
    """LinuxReceiverOp → BridgeSink.

    The receiver keeps two finished frames for the sink (as ``benchmarks/sensor_bridge.py`` does;
    the default of one drops a frame whenever the sink is late by one frame period, 16.7 ms): the
    sink shares the GIL and two cores with the app, and the soak looks for what creeps over
    minutes, not for the worst scheduling delay of a loaded machine. The receiver still counts every
    frame overwritten, and the sink every gap.
    """

    def __init__(self, channel: DataChannel, camera: Imx274Cam) -> None:
        super().__init__([])
        self.channel, self.camera = channel, camera

    def compose(self) -> None:
        self.receiver = LinuxReceiverOp(
            self,
            name="receiver",
            hololink_channel=self.channel,
            device=self.camera,
            frame_size=self.camera.frame_size,
            storage="host",
            queue_size=2,
            pages=2,
        )
        self.sink = BridgeSink(self, name="sink")
        self.add_flow(self.receiver, self.sink)


# -- the workloads --------------------------------------------------------------------------------
class SensorBridge:
    """The emulator process, the host's control of it, and the receiving application."""

    def __init__(self, mode: str, mtu: int) -> None:
        ip = random_loopback_ip()
        self.emulator = subprocess.Popen(
            [sys.executable, "-m", "holoflow.sensor_bridge", "--ip", ip, "--announce-to", "none"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.emulator.stdout is not None
        ready = self.emulator.stdout.readline()
        if not ready.startswith("ready"):
            raise RuntimeError(f"the emulator did not start: {ready!r}")
        self.hololink = Hololink(ip)
        self.hololink.start()
        metadata = {
            "peer_ip": ip,
            "serial_number": f"soak-{ip}",
            "control_port": 8192,
            "data_plane": 0,
            "hsb_ip_version": self.hololink.hsb_ip_version,
        }
        apply_strategy(metadata)
        DataChannel.use_mtu(metadata, mtu)
        channel = DataChannel(metadata, self.hololink)
        self.camera = Imx274Cam(channel)
        self.camera.setup_clock()
        self.camera.configure(MODES[mode])
        self.app = BridgePlayer(channel, self.camera)
        self.future: Future[None] | None = None

    def start(self) -> None:
        self.future = self.app.run_async()

    def statistics(self) -> Any:
        return self.app.receiver.statistics()

    def delivering(self) -> bool:
        """Whether the sink has had a frame (False while the application is still starting)."""
        sink = getattr(self.app, "sink", None)
        return sink is not None and hasattr(sink, "_counts") and sink.take().frames > 0

    def stop(self) -> dict[str, Any]:
        """Stop the receiver (and the camera), then the emulator; returns the emulator's counters."""
        try:
            if self.future is not None:
                self.app.receiver.stop_execution()
                self.future.result(timeout=30)
            self.hololink.stop()
        finally:
            Hololink.reset_framework()
            out, _ = self.emulator.communicate(timeout=30)
        lines = out.strip().splitlines()
        return dict(json.loads(lines[-1])) if lines else {}


class UltrasoundApp:
    """The ultrasound segmentation app, headless, looping its recording at 30 fps."""

    def __init__(self, backend: str | None, data: Path | None) -> None:
        options = RunOptions(
            headless=True, count=APP_FRAMES, backend=backend, data=data, realtime=True, quiet=True
        )
        self.app = UltrasoundSegmentationApp(options)
        self.timer = IntervalTimer()
        self.app.timer = self.timer  # type: ignore[assignment]
        self.future: Future[None] | None = None

    def start(self) -> None:
        self.future = self.app.run_async()

    def stop(self) -> None:
        """Stop the replayer and let the graph drain (every emitted frame reaches the sink)."""
        if self.future is not None:
            self.app.stop_execution("replayer")
            self.future.result(timeout=60)


def wait_for(what: str, predicate: Any, futures: list[Future[None] | None], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        for future in futures:
            if future is not None and future.done():
                future.result()  # raises what the run raised
                raise RuntimeError(f"{what}: a workload ended before it started")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: no frame within {timeout:g} s")
        time.sleep(0.05)


# -- the soak -------------------------------------------------------------------------------------
def run_soak(args: argparse.Namespace) -> dict[str, Any]:
    intervals = max(1, round(args.seconds / args.interval))
    bridge = SensorBridge(args.mode, args.mtu)
    app: UltrasoundApp | None = None
    rows: list[dict[str, Any]] = []
    try:
        app = UltrasoundApp(args.backend, args.data)
        bridge.start()
        app.start()
        timer = app.timer
        wait_for("sensor bridge", bridge.delivering, [bridge.future], 30)
        wait_for("ultrasound app", lambda: timer.take()[1] > 0, [app.future], 120)
        # the counters start now: what came before (starting, loading the model) is not a row
        previous_app = timer.take()
        previous_sink = bridge.app.sink.take()
        previous_stats = bridge.statistics()
        cpu_previous = time.process_time()
        emulator_previous = process_cpu(bridge.emulator.pid)
        start = time.monotonic()
        for index in range(intervals):
            samples, end = [], start + (index + 1) * args.interval
            while True:
                samples.append(sample())
                for future in (app.future, bridge.future):
                    if future is not None and future.done():
                        future.result()
                        raise RuntimeError("a workload ended during the soak")
                left = end - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(1.0, left))
            emitted, delivered, in_flight, app_latencies = timer.take()
            sink = bridge.app.sink.take()
            stats = bridge.statistics()
            cpu, emulator_cpu = time.process_time(), process_cpu(bridge.emulator.pid)
            incomplete = (stats.frames_received - stats.frames_complete) - (
                previous_stats.frames_received - previous_stats.frames_complete
            )
            rows.append(
                {
                    "interval": index + 1,
                    "seconds": round(time.monotonic() - start, 1),
                    "warm_up": index == 0,
                    "rss_mib": statistics.median(s["rss"] for s in samples) / 2**20,
                    "rss_max_mib": max(s["rss"] for s in samples) / 2**20,
                    "fds": statistics.median(s["fds"] for s in samples),
                    "fds_max": max(s["fds"] for s in samples),
                    "py_threads": statistics.median(s["py_threads"] for s in samples),
                    "py_threads_max": max(s["py_threads"] for s in samples),
                    "os_threads": statistics.median(s["os_threads"] for s in samples),
                    "os_threads_max": max(s["os_threads"] for s in samples),
                    "samples": len(samples),
                    "app": {
                        "emitted": emitted - previous_app[0],
                        "delivered": delivered - previous_app[1],
                        "in_flight": in_flight,
                        **latency_figures(app_latencies),
                    },
                    "bridge": {
                        "delivered": sink.frames - previous_sink.frames,
                        "lost": (sink.gaps - previous_sink.gaps)
                        + (sink.frames - sink.complete)
                        - (previous_sink.frames - previous_sink.complete),
                        "receiver_incomplete": incomplete,
                        "receiver_overwritten": stats.frames_dropped - previous_stats.frames_dropped,
                        "packets_dropped": stats.packets_dropped - previous_stats.packets_dropped,
                        **latency_figures(sink.latencies),
                    },
                    "cpu": (cpu - cpu_previous) / args.interval,
                    "emulator_cpu": (emulator_cpu - emulator_previous) / args.interval,
                    "emulator_rss_mib": rss_bytes(bridge.emulator.pid) / 2**20,
                    "load_average": os.getloadavg()[0],
                }
            )
            print(format_row(rows[-1]), flush=True)
            previous_app, previous_sink, previous_stats = (emitted, delivered, in_flight, []), sink, stats
            cpu_previous, emulator_previous = cpu, emulator_cpu
        app.stop()
        emitted, delivered, in_flight, _ = timer.take()
        totals: dict[str, Any] = {
            "app_emitted": emitted,
            "app_delivered": delivered,
            "app_in_flight": in_flight,
        }
    finally:
        if app is not None and app.future is not None and not app.future.done():
            app.app.stop_execution()
        device = bridge.stop()
    final = bridge.statistics()
    sink = bridge.app.sink.take()
    totals.update(
        {
            "bridge_device_frames_sent": device.get("frames_sent"),
            "bridge_host_frames_received": final.frames_received,
            "bridge_host_frames_complete": final.frames_complete,
            "bridge_sink_frames": sink.frames,
            "bridge_sink_gaps": sink.gaps,
        }
    )
    return {"rows": rows, "totals": totals}


# -- the verdict ----------------------------------------------------------------------------------
def verdict(rows: list[dict[str, Any]], totals: dict[str, Any], latency_counts: bool) -> list[dict[str, Any]]:
    """The criteria, each ``{"check", "passed", "detail", "counts"}``; a check that does not count
    is reported but does not fail the verdict."""
    first, last = rows[1], rows[-1]
    checks = []

    def check(name: str, passed: bool, detail: str, counts: bool = True) -> None:
        checks.append({"check": name, "passed": bool(passed), "detail": detail, "counts": counts})

    growth = last["rss_mib"] / first["rss_mib"] - 1
    check(
        "memory growth < 1 %",
        growth < MEMORY_GROWTH,
        f"RSS {first['rss_mib']:.1f} -> {last['rss_mib']:.1f} MiB ({growth:+.2%})",
    )
    for key, label in (
        ("fds", "descriptors"),
        ("py_threads", "Python threads"),
        ("os_threads", "OS threads"),
    ):
        check(
            f"{label} flat",
            last[key] <= first[key],
            f"{first[key]:g} -> {last[key]:g} (max after warm-up {max(r[key + '_max'] for r in rows[1:])})",
        )
    bridge_lost = sum(r["bridge"]["lost"] for r in rows)
    app_lost = totals["app_emitted"] - totals["app_delivered"]
    worst_in_flight = max(r["app"]["in_flight"] for r in rows)
    check(
        "zero frames lost",
        bridge_lost == 0 and app_lost == 0 and worst_in_flight <= APP_DEPTH,
        f"sensor bridge {bridge_lost} lost of {sum(r['bridge']['delivered'] for r in rows)}; app "
        f"{totals['app_delivered']} of {totals['app_emitted']} emitted reached the sink, at most "
        f"{worst_in_flight} in flight (depth {APP_DEPTH})",
    )
    for key, label in (("app", "app"), ("bridge", "sensor bridge")):
        before, after = first[key]["p99_ms"], last[key]["p99_ms"]
        check(
            f"{label} p99 latency within 10 %",
            after <= before * (1 + LATENCY_GROWTH),
            f"{before:.1f} -> {after:.1f} ms ({after / before - 1:+.1%})",
            latency_counts,
        )
    return checks


# -- reporting ------------------------------------------------------------------------------------
HEADER = (
    f"{'int':>3} {'t s':>5} {'RSS MiB':>8} {'fds':>4} {'thr':>7} │ "
    f"{'app fr':>6} {'fl':>2} {'p50':>6} {'p99':>6} {'max':>6} │ "
    f"{'hsb fr':>6} {'lost':>4} {'p50':>6} {'p99':>6} {'max':>6} │ {'CPU':>4} {'emu':>4} {'load':>4}"
)


def format_row(row: dict[str, Any]) -> str:
    app, bridge = row["app"], row["bridge"]
    label = f"{row['interval']}w" if row["warm_up"] else str(row["interval"])
    threads = f"{row['py_threads']:g}/{row['os_threads']:g}"
    return (
        f"{label:>3} {row['seconds']:5.0f} {row['rss_mib']:8.1f} {row['fds']:4g} {threads:>7} │ "
        f"{app['delivered']:6d} {app['in_flight']:2d} {app['p50_ms']:6.1f} {app['p99_ms']:6.1f} "
        f"{app['max_ms']:6.1f} │ {bridge['delivered']:6d} {bridge['lost']:4d} {bridge['p50_ms']:6.1f} "
        f"{bridge['p99_ms']:6.1f} {bridge['max_ms']:6.1f} │ {row['cpu']:4.2f} {row['emulator_cpu']:4.2f} "
        f"{row['load_average']:4.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    duration = parser.add_mutually_exclusive_group()
    duration.add_argument("--minutes", type=float, default=10.0, help="how long to run (default 10)")
    duration.add_argument("--seconds", type=float, help="how long to run, in seconds (short runs)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds per reported row (default 60)")
    parser.add_argument("--backend", choices=["onnxrt", "torch", "trt"], help="the app's inference backend")
    parser.add_argument("--data", type=Path, help="sample data folder (default: the app's)")
    parser.add_argument("--mode", choices=sorted(MODES), default="1080p", help="camera mode (60 fps)")
    parser.add_argument("--mtu", type=int, default=9000, help="data-plane MTU (default 9000)")
    parser.add_argument(
        "--latency-advisory", action="store_true", help="report the latency check without failing on it"
    )
    parser.add_argument("--no-verdict-exit", action="store_true", help="exit 0 even if the verdict fails")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the results files")
    parser.add_argument("--name", default="soak", help="results files' name (default soak)")
    parser.add_argument("--no-save", action="store_true", help="write no results files")
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = args.minutes * 60
    if args.interval <= 0 or args.seconds / args.interval < 2.5:
        parser.error("need at least three intervals (one of warm-up, two to compare)")

    header = (
        f"Soak: ultrasound segmentation app (headless, 30 fps, {args.backend or 'onnxrt'}) and the sensor "
        f"bridge (emulator process -> LinuxReceiverOp, IMX274 {args.mode} at 60 fps, MTU {args.mtu}) "
        f"together in one process for {args.seconds:g} s, one row per {args.interval:g} s"
    )
    machine = f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}"
    print(header, machine, "", HEADER, sep="\n", flush=True)
    started = time.time()
    result = run_soak(args)
    rows, totals = result["rows"], result["totals"]
    checks = verdict(rows, totals, not args.latency_advisory)
    passed = all(c["passed"] for c in checks if c["counts"])
    lines = [header, machine, "", HEADER, *map(format_row, rows), ""]
    lines.append(
        f"app after the replayer stopped and the graph drained: {totals['app_delivered']} of "
        f"{totals['app_emitted']} frames emitted reached the sink"
    )
    lines.append(
        f"sensor bridge, whole run (start and stop included; the frame in flight at stop is cut): device "
        f"sent {totals['bridge_device_frames_sent']}, host received {totals['bridge_host_frames_received']} "
        f"({totals['bridge_host_frames_complete']} complete), sink got {totals['bridge_sink_frames']} with "
        f"{totals['bridge_sink_gaps']} missing between them"
    )
    lines += [
        "",
        "int: interval (w: warm-up, left out of the comparisons); RSS, fds, thr (Python/OS threads): medians",
        "of one sample a second; app fr / hsb fr: frames delivered to the sink in the interval; "
        "fl: app frames",
        "in flight at its end; lost: sensor-bridge frames missing or incomplete; p50/p99/max: latency in ms",
        "(app: replayer compute -> sink; hsb: device's first-byte timestamp -> sink); CPU, emu: cores busy",
        "(this process, the emulator process); load: 1-minute load average of the machine.",
        "",
        "verdict (last interval against the first after warm-up):",
    ]
    for c in checks:
        mark = "ok  " if c["passed"] else ("FAIL" if c["counts"] else "over")
        note = "" if c["counts"] else " (advisory)"
        lines.append(f"  {mark} {c['check']}{note}: {c['detail']}")
    lines.append(f"VERDICT: {'PASS' if passed else 'FAIL'}")
    text = "\n".join(lines)
    print("\n".join(lines[4 + len(rows) :]), flush=True)
    if not args.no_save:
        payload = {
            "benchmark": "soak",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "seconds": args.seconds,
            "interval": args.interval,
            "backend": args.backend or "onnxrt",
            "mode": args.mode,
            "mtu": args.mtu,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "warm_up_intervals": 1,
            "rows": rows,
            "totals": totals,
            "checks": checks,
            "latency_advisory": args.latency_advisory,
            "passed": passed,
        }
        write_json(args.results / f"{args.name}.json", payload)
        (args.results / f"{args.name}.txt").write_text(text + "\n")
    return 0 if passed or args.no_verdict_exit else 1


if __name__ == "__main__":
    sys.exit(main())
