"""A distributed application for the multi-process tests, run as a script.

``python _process_app.py --shape chain2|chain3|pingpong --count N [--period-ms P] [--payload int|array]
[--fail-at K] [--out FILE] [--compose-error] [--bad-port] [Holoscan's --driver/--worker/... options]``

Fragments ``tx`` (a counting source), optionally ``mid`` (forwards), and ``rx`` (records every
sequence number it receives; with ``--fail-at K`` it raises ``ZeroDivisionError`` on message K).
The receiver writes the numbers it got, as JSON, to ``--out`` when it stops, and prints
``RX_FIRST`` when the first message arrives (the tests wait for it before they intervene).

``pingpong``: ``tx`` holds ``kick`` (one message) and ``ping``, which sends message ``k + 1``
only once message ``k`` came back from ``rx`` (whose ``rx`` records each message and returns
it), until ``--count`` were sent; ``ping`` writes the numbers that came back to ``--out`` with
``.back`` appended.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application, ConditionType, Fragment, Operator


class Tx(Operator):
    def __init__(self, fragment, *args, payload="int", **kwargs):
        self.payload = payload
        self.seq = 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        seq, self.seq = self.seq, self.seq + 1
        if self.payload == "array":
            data = np.full(1024, seq % 251, np.uint8)
            data[:8].view(np.int64)[0] = seq
            op_output.emit(data, "out")
        else:
            op_output.emit({"seq": seq, "text": f"message {seq}"}, "out")


class Mid(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(op_input.receive("in"), "out")


class Rx(Operator):
    def __init__(self, fragment, *args, out="", fail_at=-1, **kwargs):
        self.out = out
        self.fail_at = fail_at
        self.received = []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        message = op_input.receive("in")
        if isinstance(message, dict):
            seq = message["seq"]
            assert message["text"] == f"message {seq}"
        else:
            seq = int(message[:8].view(np.int64)[0])
            assert (message[8:] == seq % 251).all()
        if not self.received:
            print("RX_FIRST", flush=True)
        self.received.append(seq)
        if seq == self.fail_at:
            print(1 / 0)

    def stop(self):
        if self.out:
            with open(self.out, "w") as file:
                json.dump(self.received, file)


class Kick(Operator):
    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(-1, "out")


class Ping(Operator):
    """Sends the next number once the last one came back (``kick`` starts it)."""

    def __init__(self, fragment, *args, count=0, out="", **kwargs):
        self.count = count
        self.out = out
        self.back = []
        self.sent = 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
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
        for port in ("kick", "back"):
            message = op_input.receive(port)
            if message is not None and port == "back":
                self.back.append(message["seq"])
        if self.sent < self.count:
            op_output.emit({"seq": self.sent, "text": f"message {self.sent}"}, "out")
            self.sent += 1

    def stop(self):
        if self.out:
            with open(self.out + ".back", "w") as file:
                json.dump(self.back, file)


class Echo(Rx):
    def setup(self, spec):
        super().setup(spec)
        spec.output("out")

    def compute(self, op_input, op_output, context):
        super().compute(op_input, op_output, context)
        seq = self.received[-1]
        op_output.emit({"seq": seq, "text": f"message {seq}"}, "out")


class TxFragment(Fragment):
    def __init__(self, app, name, options):
        self.settings = options
        super().__init__(app, name=name)

    def compose(self):
        if self.settings.shape == "pingpong":
            kick = Kick(self, CountCondition(self, 1), name="kick")
            ping = Ping(self, count=self.settings.count, out=self.settings.out, name="ping")
            self.add_flow(kick, ping, {("out", "kick")})
            return
        conditions = [CountCondition(self, self.settings.count)]
        if self.settings.period_ms:
            conditions.append(PeriodicCondition(self, recess_period=int(self.settings.period_ms * 1e6)))
        self.add_operator(Tx(self, *conditions, payload=self.settings.payload, name="tx"))


class MidFragment(Fragment):
    def compose(self):
        self.add_operator(Mid(self, name="mid"))


class RxFragment(Fragment):
    def __init__(self, app, name, options):
        self.settings = options
        super().__init__(app, name=name)

    def compose(self):
        if self.settings.compose_error:
            raise AttributeError("no such thing in rx's compose")
        kind = Echo if self.settings.shape == "pingpong" else Rx
        self.add_operator(kind(self, out=self.settings.out, fail_at=self.settings.fail_at, name="rx"))


class ProcessApp(Application):
    def __init__(self, options, *args, **kwargs):
        self.settings = options
        super().__init__(*args, **kwargs)

    def compose(self):
        tx = TxFragment(self, "tx", self.settings)
        rx = RxFragment(self, "rx", self.settings)
        if self.settings.shape == "chain3":
            mid = MidFragment(self, name="mid")
            self.add_flow(tx, mid, {("tx.out", "mid.in")})
            self.add_flow(mid, rx, {("mid.out", "rx.in")})
        elif self.settings.shape == "pingpong":
            self.add_flow(tx, rx, {("ping.out", "rx.in")})
            self.add_flow(rx, tx, {("rx.out", "ping.back")})
        else:
            self.add_flow(tx, rx, {("tx.output" if self.settings.bad_port else "tx", "rx")})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="chain2")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--period-ms", type=float, default=0)
    parser.add_argument("--payload", default="int")
    parser.add_argument("--fail-at", type=int, default=-1)
    parser.add_argument("--out", default="")
    parser.add_argument("--compose-error", action="store_true")
    parser.add_argument("--bad-port", action="store_true")
    options, rest = parser.parse_known_args()
    app = ProcessApp(options, argv=[sys.executable, sys.argv[0], *rest])
    app.run()


if __name__ == "__main__":
    main()
