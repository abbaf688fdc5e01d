"""A custom operator between two built-in ones: it multiplies each value by a parameter."""

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.operators import PingRxOp, PingTxOp


class MultiplyOp(Operator):
    """Receives a number on ``in``, emits it times ``multiplier`` on ``out``."""

    def setup(self, spec):
        spec.input("in")
        spec.output("out")
        # A parameter: settable by keyword (or YAML) and read back as self.multiplier.
        spec.param("multiplier", 2)

    def compute(self, op_input, op_output, context):
        value = op_input.receive("in")
        print(f"Middle message value: {value}")
        op_output.emit(value * self.multiplier, "out")


class CustomOpApp(Application):
    def compose(self):
        tx = PingTxOp(self, CountCondition(self, 10), name="tx")
        mx = MultiplyOp(self, name="mx", multiplier=3)
        rx = PingRxOp(self, name="rx")
        self.add_flow(tx, mx)
        self.add_flow(mx, rx)


def main():
    CustomOpApp().run()


if __name__ == "__main__":
    main()
