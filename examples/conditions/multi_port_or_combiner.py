"""Run when a message waits on either of two ports: ``or_combine_port_conditions``.

By default an operator with two inputs waits for a message on both (its ports' conditions are
ANDed). Here the receiver ORs them, so it runs whenever ``in1`` or ``in2`` has a message, and
the port without one reads ``None``. Two senders tick at about 33 Hz and 12.5 Hz, 10 times each.
"""

import datetime

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application, Operator


class Sender(Operator):
    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.sent = 0

    def compute(self, op_input, op_output, context):
        self.sent += 1
        op_output.emit(self.sent, "out")


class EitherReceiver(Operator):
    def setup(self, spec):
        spec.input("in1")
        spec.input("in2")
        spec.or_combine_port_conditions(["in1", "in2"])

    def start(self):
        self.runs = 0

    def compute(self, op_input, op_output, context):
        for port in ("in1", "in2"):
            value = op_input.receive(port)
            if value is not None:
                print(f"run {self.runs}: {port} got {value}")
        self.runs += 1


class OrCombinerApp(Application):
    def compose(self):
        rx = EitherReceiver(self, name="rx")
        for index, ms in enumerate((30, 80), start=1):
            tx = Sender(
                self,
                CountCondition(self, count=10),
                PeriodicCondition(self, recess_period=datetime.timedelta(milliseconds=ms)),
                name=f"tx{index}",
            )
            self.add_flow(tx, rx, {("out", f"in{index}")})


def main():
    OrCombinerApp().run()


if __name__ == "__main__":
    main()
