"""Benchmark: the raw ZeroMQ transport between two processes, and a holoflow data link over it.

Two processes on this host exchange the same payloads (a small object, 1 KiB, 1 MiB and 8 MiB
uint8 arrays) two ways:

- **raw**: a DEALER sending ``[header, payload]`` with ``copy=False`` to a ROUTER in a child
  process, which counts the messages (throughput) or echoes them (latency);
- **link**: holoflow's ``DataLink`` → ``DataListener`` (PLAIN token handshake, per-edge seq,
  credits with a window of ``--window``), each message encoded by the codec and decoded on the
  receiver's thread; the echo goes back over a second link.

Throughput is messages (and MB) per second from the first send until the receiver has counted
the last message (it says so on its stdout pipe). Latency is half the median round trip of a
ping-pong, one message at a time. Each measurement runs ``--repeats`` times, each in a fresh
child process; the table shows medians and the link/raw ratio. Results go to
``benchmarks/results/distributed_raw.{txt,json}``.

Usage::

    python benchmarks/distributed_raw.py [--repeats 3] [--window 64] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import zmq
from _results import RESULTS, write_json

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PAYLOADS = {"small": 8, "1KiB": 1024, "1MiB": 1 << 20, "8MiB": 8 << 20}
COUNTS = {"small": 100_000, "1KiB": 100_000, "1MiB": 2_000, "8MiB": 300}
ROUND_TRIPS = {"small": 3_000, "1KiB": 3_000, "1MiB": 300, "8MiB": 60}


def _codec() -> tuple[Any, Any, str]:
    """holoflow's codec: ``(encode, decode, name)``."""
    from holoflow.distributed._codec import decode, encode

    return encode, decode, "holoflow"


def _payload(kind: str) -> Any:
    if kind == "small":
        return 12345  # a Python int: the codec's smallest object
    return np.random.default_rng(0).integers(0, 255, PAYLOADS[kind], dtype=np.uint8)


def _raw_payload(kind: str) -> bytes | np.ndarray:
    return b"\0" * 8 if kind == "small" else _payload(kind)


# ------------------------------------------------------------------------------------------------
# Child processes


def child(role: str, *args: str) -> None:
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` shows where a child waits
    context = zmq.Context()
    if role == "raw-sink":
        (count,) = args
        router = context.socket(zmq.ROUTER)
        router.bind("tcp://127.0.0.1:*")
        print(router.last_endpoint.decode(), flush=True)
        for _ in range(int(count)):
            router.recv_multipart(copy=False)
        print("done", flush=True)
    elif role == "raw-stamped-sink":
        (count,) = args
        router = context.socket(zmq.ROUTER)
        router.bind("tcp://127.0.0.1:*")
        print(router.last_endpoint.decode(), flush=True)
        latencies = []
        for _ in range(int(count)):
            frames = router.recv_multipart(copy=False)
            latencies.append(time.monotonic_ns() - int.from_bytes(frames[1].bytes[:8], "little"))
        print(" ".join(map(str, latencies)), flush=True)
    elif role == "raw-echo":
        router = context.socket(zmq.ROUTER)
        router.bind("tcp://127.0.0.1:*")
        print(router.last_endpoint.decode(), flush=True)
        while True:
            frames = router.recv_multipart(copy=False)
            if frames[1].bytes == b"stop":
                break
            router.send_multipart(frames, copy=False)
    else:
        _link_child(context, role, *args)
    sys.stdin.read()


def _fail(error: Exception) -> None:
    print(f"link failed: {error}", file=sys.stderr, flush=True)
    os._exit(1)


def _link_child(context: zmq.Context[Any], role: str, *args: str) -> None:
    from holoflow.distributed._zmq_auth import Authenticator
    from holoflow.distributed._zmq_links import DataLink, DataListener

    encode, decode, _ = _codec()
    auth = Authenticator(context)
    auth.start()
    listener = DataListener(context, auth, decode=decode)
    token, window = bytes.fromhex(args[0]), int(args[1])
    if role == "link-sink":
        count = int(args[2])
        seen = [0]
        finished = threading.Event()

        def take(edge: int, message: Any) -> None:
            seen[0] += 1
            inbound.credit(edge)
            if seen[0] == count:
                finished.set()

        inbound = listener.expect("p>c", token, {1: window}, take, _fail)
        print(listener.endpoint, flush=True)
        finished.wait()
        print("done", flush=True)
    else:
        back_holder: list[Any] = []

        def echo(edge: int, message: Any) -> None:
            inbound.credit(edge, flush=True)
            back = back_holder[0]
            back.wait_credit(1, 10)
            back.send(1, encode(message))

        inbound = listener.expect("p>c", token, {1: window}, echo, _fail)
        print(listener.endpoint, flush=True)
        endpoint = sys.stdin.readline().strip()
        back_holder.append(DataLink(context, "c>p", endpoint, token, {1: window}))
        back_holder[0].wait_ready(10)
        print("ready", flush=True)


def _spawn(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def _finish(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.close()
    process.wait(30)
    process.stdout.close()


# ------------------------------------------------------------------------------------------------
# Measurements (parent side)


def raw_throughput(kind: str, count: int) -> float:
    process, endpoint = _spawn("raw-sink", str(count))
    context = zmq.Context()
    dealer = context.socket(zmq.DEALER)
    dealer.connect(endpoint)
    payload = _raw_payload(kind)
    head = b"H" * 20
    dealer.send_multipart([head, payload], copy=False)  # connect and warm up
    count -= 1
    assert process.stdout is not None
    start = time.perf_counter()
    for _ in range(count):
        dealer.send_multipart([head, payload], copy=False)
    assert process.stdout.readline().strip() == "done"
    elapsed = time.perf_counter() - start
    dealer.close(linger=0)
    context.term()
    _finish(process)
    return count / elapsed


def raw_latency(kind: str, trips: int) -> float:
    """One-way latency: half the median round trip of a raw ping-pong."""
    return statistics.median(raw_round_trips(kind, trips)) / 2


def raw_round_trips(kind: str, trips: int) -> list[float]:
    """Round-trip times (s) of ``trips`` raw ping-pongs of ``kind``, after 10 to warm up."""
    process, endpoint = _spawn("raw-echo")
    context = zmq.Context()
    dealer = context.socket(zmq.DEALER)
    dealer.connect(endpoint)
    payload = _raw_payload(kind)
    times = []
    for i in range(trips + 10):
        start = time.perf_counter()
        dealer.send_multipart([b"H" * 20, payload], copy=False)
        dealer.recv_multipart(copy=False)
        if i >= 10:
            times.append(time.perf_counter() - start)
    dealer.send_multipart([b"stop"])
    dealer.close(linger=0)
    context.term()
    _finish(process)
    return times


def raw_paced_latencies(kind: str, count: int, period_s: float) -> list[float]:
    """One-way latencies (s) of ``count`` raw messages sent every ``period_s`` (unloaded): the
    receiver subtracts the sender's ``time.monotonic_ns`` stamp (one clock for the host)."""
    process, endpoint = _spawn("raw-stamped-sink", str(count))
    context = zmq.Context()
    dealer = context.socket(zmq.DEALER)
    dealer.connect(endpoint)
    payload = _raw_payload(kind)
    next_at = time.monotonic() + 0.1  # let the connection settle
    for _ in range(count):
        time.sleep(max(0.0, next_at - time.monotonic()))
        next_at += period_s
        dealer.send_multipart([time.monotonic_ns().to_bytes(8, "little") + b"H" * 12, payload], copy=False)
    assert process.stdout is not None
    latencies = [int(value) / 1e9 for value in process.stdout.readline().split()]
    dealer.close(linger=0)
    context.term()
    _finish(process)
    return latencies


def link_throughput(kind: str, count: int, window: int) -> float:
    from holoflow.distributed._zmq_links import DataLink

    encode, _, _ = _codec()
    token = secrets.token_bytes(32)
    process, endpoint = _spawn("link-sink", token.hex(), str(window), str(count))
    context = zmq.Context()
    link = DataLink(context, "p>c", endpoint, token, {1: window}, on_lost=_fail)
    link.wait_ready(10)
    payload = _payload(kind)
    assert process.stdout is not None
    start = time.perf_counter()
    for _ in range(count):
        if not link.has_credit(1) and not link.wait_credit(1, 30):
            raise RuntimeError("no credit for 30 s: the receiver stopped")
        link.send(1, encode(payload))
    assert process.stdout.readline().strip() == "done"
    elapsed = time.perf_counter() - start
    link.close()
    context.term()
    _finish(process)
    return count / elapsed


def link_latency(kind: str, trips: int, window: int) -> float:
    from holoflow.distributed._zmq_auth import Authenticator
    from holoflow.distributed._zmq_links import DataLink, DataListener

    encode, decode, _ = _codec()
    token = secrets.token_bytes(32)
    process, endpoint = _spawn("link-echo", token.hex(), str(window))
    context = zmq.Context()
    auth = Authenticator(context)
    auth.start()
    listener = DataListener(context, auth, decode=decode)
    answered = threading.Event()

    def on_back(edge: int, message: Any) -> None:
        inbound.credit(edge, flush=True)
        answered.set()

    inbound = listener.expect("c>p", token, {1: window}, on_back)
    link = DataLink(context, "p>c", endpoint, token, {1: window})
    link.wait_ready(10)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(listener.endpoint + "\n")
    process.stdin.flush()
    assert process.stdout.readline().strip() == "ready"
    payload = _payload(kind)
    times = []
    for i in range(trips + 10):
        answered.clear()
        start = time.perf_counter()
        link.wait_credit(1, 10)
        link.send(1, encode(payload))
        answered.wait(10)
        if i >= 10:
            times.append(time.perf_counter() - start)
    link.close()
    _finish(process)
    listener.close()
    auth.close()
    context.term()
    return statistics.median(times) / 2


# ------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="a tenth of the messages (a smoke run)")
    parser.add_argument("--output", default=str(RESULTS / "distributed_raw.json"))
    parser.add_argument("--child", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    scale = 10 if args.quick else 1
    _, _, codec_name = _codec()
    rows = []
    for kind, size in PAYLOADS.items():
        count, trips = max(10, COUNTS[kind] // scale), max(10, ROUND_TRIPS[kind] // scale)
        raw_rates, link_rates, raw_lat, link_lat = [], [], [], []
        for _ in range(args.repeats):  # interleaved, so a change of load hits both alike
            raw_rates.append(raw_throughput(kind, count))
            link_rates.append(link_throughput(kind, count, args.window))
            raw_lat.append(raw_latency(kind, trips))
            link_lat.append(link_latency(kind, trips, args.window))
        row = {
            "payload": kind,
            "bytes": size,
            "messages": count,
            "round_trips": trips,
            "raw_msgs_per_s": statistics.median(raw_rates),
            "link_msgs_per_s": statistics.median(link_rates),
            "raw_mb_per_s": statistics.median(raw_rates) * size / 1e6,
            "link_mb_per_s": statistics.median(link_rates) * size / 1e6,
            "raw_latency_us": statistics.median(raw_lat) * 1e6,
            "link_latency_us": statistics.median(link_lat) * 1e6,
            "runs": {
                "raw": raw_rates,
                "link": link_rates,
                "raw_latency_s": raw_lat,
                "link_latency_s": link_lat,
            },
        }
        row["throughput_ratio"] = row["link_msgs_per_s"] / row["raw_msgs_per_s"]
        row["latency_ratio"] = row["link_latency_us"] / row["raw_latency_us"]
        rows.append(row)
        print(f"measured {kind}", file=sys.stderr, flush=True)

    lines = [
        f"distributed_raw: two processes on 127.0.0.1, {os.cpu_count()} CPUs, {platform.processor() or '?'}, "
        f"Python {platform.python_version()}, pyzmq {zmq.__version__} (libzmq {zmq.zmq_version()})",
        f"codec: {codec_name}; link window {args.window}; medians of {args.repeats} runs",
        "",
        f"{'payload':<8} {'raw msg/s':>11} {'link msg/s':>11} {'ratio':>6} {'raw MB/s':>9} {'link MB/s':>10}"
        f" {'raw lat us':>11} {'link lat us':>12} {'ratio':>6}",
    ]
    lines.extend(
        f"{row['payload']:<8} {row['raw_msgs_per_s']:>11,.0f} {row['link_msgs_per_s']:>11,.0f}"
        f" {row['throughput_ratio']:>6.2f} {row['raw_mb_per_s']:>9,.0f} {row['link_mb_per_s']:>10,.0f}"
        f" {row['raw_latency_us']:>11.1f} {row['link_latency_us']:>12.1f} {row['latency_ratio']:>6.2f}"
        for row in rows
    )
    text = "\n".join(lines) + "\n"
    print(text, end="")
    output = Path(args.output)
    write_json(
        output,
        {
            "benchmark": "distributed_raw",
            "machine": {
                "cpus": os.cpu_count(),
                "processor": platform.processor(),
                "python": platform.python_version(),
                "pyzmq": zmq.__version__,
                "libzmq": zmq.zmq_version(),
            },
            "codec": codec_name,
            "window": args.window,
            "repeats": args.repeats,
            "rows": rows,
        },
    )
    output.with_suffix(".txt").write_text(text)


if __name__ == "__main__":
    main()
