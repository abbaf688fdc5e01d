"""A first holoflow application: a counter, a doubler and a printer in a line.

python3 examples/tutorials/first_app.py
"""

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator


class Counter(Operator):
    """Emits 1, 2, 3, ... on its output port ``out``, one number per compute."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.value = 0

    def compute(self, op_input, op_output, context):
        self.value += 1
        print(f"counter sent {self.value}")
        op_output.emit(self.value, "out")


class Doubler(Operator):
    """Receives a number on ``in`` and emits twice that number on ``out``."""

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        value = op_input.receive("in")
        op_output.emit(2 * value, "out")


class Printer(Operator):
    """Prints every number that arrives on ``in``."""

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        print(f"printer received {op_input.receive('in')}")


class FirstApp(Application):
    def compose(self):
        # The CountCondition lets the counter run five times; then it is finished.
        counter = Counter(self, CountCondition(self, 5), name="counter")
        doubler = Doubler(self, name="doubler")
        printer = Printer(self, name="printer")
        # Each operator here has one port on each side it uses, so add_flow pairs them.
        self.add_flow(counter, doubler)
        self.add_flow(doubler, printer)


def main():
    app = FirstApp()
    app.run()  # returns when no operator can run any more
    print("done")


if __name__ == "__main__":
    main()
