"""The two-fragment application ``benchmarks/distributed.py`` runs, written against Holoscan's API.

The same file runs on Holoscan (its ``holoscan`` package) and on holoflow (through
``_holoscan_shim.write_shim``), as one process (no role flags) or as driver and worker
(``--driver --worker --address A --fragments fragment1`` plus ``--worker --address A
--fragments fragment2``); Holoscan's own flags pass through to ``Application``.

Modes (``--mode``):

- ``ping`` (default): ``tx`` in ``fragment1`` emits ``--count`` messages of ``--payload`` to
  ``rx`` in ``fragment2``, as fast as it may or, with ``--period-ms``, paced by a
  ``PeriodicCondition``. Payloads: ``small`` (a ``(seq, t_ns)`` tuple of ints) or a uint8 array
  of ``1KiB``, ``1MiB`` or ``8MiB`` with ``seq`` and ``t_ns`` as int64 in its first 16 bytes.
- ``pingpong``: ``tx`` in ``fragment1`` sends a message to ``echo`` in ``fragment2``, which sends
  it back to ``tx``, which sends the next only then (``kick`` starts the first); ``--count`` round
  trips, latencies are half of each round trip: the same measure as a raw transport's ping-pong.
- ``cores``: ``work1`` in ``fragment1`` and ``work2`` in ``fragment2`` each spin a pure-Python
  loop for ``--burn-ms`` per message (CPU-bound, holding the GIL); ``work2`` also does what
  ``rx`` does.

Every time is ``time.monotonic_ns()`` (CLOCK_MONOTONIC, one clock for every process of a host).
The process running the receiver prints one line ``RXRESULT {json}`` when it stops: messages
received and expected, sequence gaps, repeats and reorders, first emit and last receive times,
one-way latencies (receive time minus the emit stamp; p50, p99, max in microseconds), bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from holoscan.conditions import CountCondition, PeriodicCondition
from holoscan.core import Application, ConditionType, Fragment, Operator, OperatorSpec

SIZES = {"small": 0, "1KiB": 1024, "1MiB": 1 << 20, "8MiB": 8 << 20}


def _burn(ms: float) -> None:
    """Spin a pure-Python loop for ``ms`` milliseconds (holds the GIL throughout)."""
    end = time.monotonic_ns() + int(ms * 1e6)
    count = 0
    while time.monotonic_ns() < end:
        count += 1


def _message(payload: str, seq: int) -> object:
    if payload == "small":
        return (seq, time.monotonic_ns())
    array = np.empty(SIZES[payload], np.uint8)
    stamp = array[:16].view(np.int64)
    stamp[0] = seq
    stamp[1] = time.monotonic_ns()
    return array


def _stamp(payload: str, message: object) -> tuple[int, int, int]:
    """``(seq, emit time, bytes)`` of a received message."""
    if payload == "small":
        seq, emitted = message  # type: ignore[misc]
        return int(seq), int(emitted), 0
    array = np.asarray(message).reshape(-1).view(np.uint8)
    seq, emitted = (int(value) for value in array[:16].view(np.int64))
    return seq, emitted, int(array.nbytes)


class TxOp(Operator):
    """Emits ``count`` messages (the ``CountCondition`` stops it)."""

    def __init__(self, fragment, *args, payload="small", burn_ms=0.0, **kwargs):
        self.payload = payload
        self.burn_ms = burn_ms
        self.seq = 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec: OperatorSpec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        if self.burn_ms:
            _burn(self.burn_ms)
        op_output.emit(_message(self.payload, self.seq), "out")
        self.seq += 1


class RxOp(Operator):
    """Checks every sequence number, records latencies; prints ``RXRESULT`` when stopped."""

    def __init__(self, fragment, *args, payload="small", count=0, burn_ms=0.0, **kwargs):
        self.payload = payload
        self.count = count
        self.burn_ms = burn_ms
        self.received = 0
        self.expected_seq = 0
        self.gaps = 0
        self.repeats = 0
        self.nbytes = 0
        self.first_emit = None
        self.last_receive = None
        self.latencies: list[int] = []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec: OperatorSpec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        message = op_input.receive("in")
        now = time.monotonic_ns()
        seq, emitted, nbytes = _stamp(self.payload, message)
        if self.burn_ms:
            _burn(self.burn_ms)
        if seq > self.expected_seq:
            self.gaps += seq - self.expected_seq
        elif seq < self.expected_seq:
            self.repeats += 1
        self.expected_seq = max(self.expected_seq, seq + 1)
        if self.first_emit is None:
            self.first_emit = emitted
        self.last_receive = time.monotonic_ns()
        self.latencies.append(now - emitted)
        self.received += 1
        self.nbytes += nbytes

    def stop(self):
        _report(
            self.payload,
            self.count,
            self.received,
            self.latencies,
            self.first_emit,
            self.last_receive,
            nbytes=self.nbytes,
            gaps=self.gaps,
            repeats=self.repeats,
            first_emit_ns=self.first_emit,
            last_receive_ns=self.last_receive,
        )


def _report(
    payload: str,
    count: int,
    received: int,
    latencies: list[int],
    first: int,
    last: int,
    nbytes: int = 0,
    **extra: object,
) -> None:
    """Print the ``RXRESULT`` line: counts, rates from ``first`` to ``last`` (ns), latency
    percentiles of ``latencies`` (ns), and ``extra`` fields as they are."""
    lat = np.array(latencies or [0], dtype=np.float64) / 1e3
    span_s = (last - first) / 1e9 if received > 1 else float("nan")
    result = {
        "pid": os.getpid(),
        "payload": payload,
        "expected": count,
        "received": received,
        "lost": count - received,
        "bytes": nbytes,
        "msgs_per_s": received / span_s if received > 1 else 0.0,
        "mb_per_s": nbytes / span_s / 1e6 if received > 1 else 0.0,
        "latency_p50_us": float(np.percentile(lat, 50)),
        "latency_p99_us": float(np.percentile(lat, 99)),
        "latency_max_us": float(lat.max()),
        **extra,
    }
    print("RXRESULT " + json.dumps(result), flush=True)


class KickOp(Operator):
    """Emits one message to start the ping-pong."""

    def setup(self, spec: OperatorSpec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(0, "out")


class PingPongOp(Operator):
    """Sends a message, waits for it to come back, records half the round trip, sends the next."""

    WARMUP = 10

    def __init__(self, fragment, *args, payload="small", count=0, **kwargs):
        self.payload = payload
        self.count = count
        self.seq = 0
        self.received = 0
        self.latencies: list[int] = []
        self.first = self.last = 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec: OperatorSpec):
        spec.input("kick").condition(ConditionType.NONE)
        spec.input("back").condition(ConditionType.NONE)
        spec.multi_port_condition(
            kind=ConditionType.MULTI_MESSAGE_AVAILABLE,
            port_names=["kick", "back"],
            sampling_mode="SumOfAll",
            min_sum=1,
        )
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_input.receive("kick")
        message = op_input.receive("back")
        now = time.monotonic_ns()
        if message is not None:
            seq, emitted, _ = _stamp(self.payload, message)
            if seq >= self.WARMUP:
                self.latencies.append((now - emitted) // 2)
                self.received += 1
                self.last = now
        if self.seq == self.WARMUP:
            self.first = now
        if self.seq < self.count + self.WARMUP:
            op_output.emit(_message(self.payload, self.seq), "out")
            self.seq += 1

    def stop(self):
        _report(self.payload, self.count, self.received, self.latencies, self.first, self.last)


class EchoOp(Operator):
    def setup(self, spec: OperatorSpec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(op_input.receive("in"), "out")


class Fragment1(Fragment):
    def __init__(self, app, name, options):
        self.settings = options
        super().__init__(app, name=name)

    def compose(self):
        o = self.settings
        conditions = [CountCondition(self, o.count, name="count")]
        if o.period_ms > 0:
            conditions.append(PeriodicCondition(self, int(o.period_ms * 1e6), name="period"))
        if o.mode == "pingpong":
            kick = KickOp(self, CountCondition(self, 1, name="once"), name="kick")
            tx = PingPongOp(self, payload=o.payload, count=o.count, name="tx")
            self.add_flow(kick, tx, {("out", "kick")})
            return
        burn = o.burn_ms if o.mode == "cores" else 0.0
        name = "work1" if o.mode == "cores" else "tx"
        self.add_operator(TxOp(self, *conditions, payload=o.payload, burn_ms=burn, name=name))


class Fragment2(Fragment):
    def __init__(self, app, name, options):
        self.settings = options
        super().__init__(app, name=name)

    def compose(self):
        o = self.settings
        if o.mode == "pingpong":
            self.add_operator(EchoOp(self, name="echo"))
            return
        burn = o.burn_ms if o.mode == "cores" else 0.0
        name = "work2" if o.mode == "cores" else "rx"
        self.add_operator(RxOp(self, payload=o.payload, count=o.count, burn_ms=burn, name=name))


class BenchApp(Application):
    def __init__(self, options, *args, **kwargs):
        self.settings = options
        super().__init__(*args, **kwargs)

    def compose(self):
        sender = Fragment1(self, "fragment1", self.settings)
        receiver = Fragment2(self, "fragment2", self.settings)
        if self.settings.mode == "cores":
            self.add_flow(sender, receiver, {("work1.out", "work2.in")})
        elif self.settings.mode == "pingpong":
            self.add_flow(sender, receiver, {("tx.out", "echo.in")})
            self.add_flow(receiver, sender, {("echo.out", "tx.back")})
        else:
            self.add_flow(sender, receiver, {("tx.out", "rx.in")})


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--mode", choices=("ping", "pingpong", "cores"), default="ping")
    parser.add_argument("--payload", choices=sorted(SIZES), default="small")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--period-ms", type=float, default=0.0)
    parser.add_argument("--burn-ms", type=float, default=2.0)
    options, _ = parser.parse_known_args()
    BenchApp(options).run()


if __name__ == "__main__":
    main()
