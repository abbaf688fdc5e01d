"""Operators with several ports: named port pairs and an input that accepts any number of links.

tx emits two ``Reading`` objects per tick on ``out1`` and ``out2``; mx scales both and forwards
them; rx gathers everything on one ``ANY_SIZE`` port, which yields one item per connection in
connection order.
"""

from dataclasses import dataclass

from holoflow.conditions import CountCondition
from holoflow.core import Application, IOSpec, Operator


@dataclass
class Reading:
    """A value travelling through the pipeline (any Python object can be a message)."""

    value: int


class TxOp(Operator):
    def setup(self, spec):
        spec.output("out1")
        spec.output("out2")

    def start(self):
        self.index = 0

    def compute(self, op_input, op_output, context):
        self.index += 1
        op_output.emit(Reading(self.index), "out1")
        op_output.emit(Reading(-self.index), "out2")


class MultiplyOp(Operator):
    def setup(self, spec):
        spec.input("in1")
        spec.input("in2")
        spec.output("out1")
        spec.output("out2")
        spec.param("multiplier", 2)

    def compute(self, op_input, op_output, context):
        for port in ("1", "2"):
            reading = op_input.receive(f"in{port}")
            reading.value *= self.multiplier
            op_output.emit(reading, f"out{port}")


class RxOp(Operator):
    def setup(self, spec):
        spec.input("receivers", size=IOSpec.ANY_SIZE)

    def start(self):
        self.received = []

    def compute(self, op_input, op_output, context):
        first, second = op_input.receive("receivers")
        self.received.append((first.value, second.value))
        print(f"Rx message values: {first.value}, {second.value}")


class MultiPortApp(Application):
    def compose(self):
        tx = TxOp(self, CountCondition(self, 10), name="tx")
        mx = MultiplyOp(self, name="mx", multiplier=3)
        self.rx = RxOp(self, name="rx")
        self.add_flow(tx, mx, {("out1", "in1"), ("out2", "in2")})
        # Pairs are connected in sorted order: out1 first, so receive() yields out1's item first.
        self.add_flow(mx, self.rx, {("out1", "receivers"), ("out2", "receivers")})


def main():
    MultiPortApp().run()


if __name__ == "__main__":
    main()
