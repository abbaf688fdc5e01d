"""A counter feeds two scalers in parallel; a joiner prints their results side by side."""

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application, Operator, OperatorSpec
from holoflow.schedulers import GreedyScheduler


class CounterOp(Operator):
    def setup(self, spec: OperatorSpec):
        spec.output("out")

    def start(self):
        self.count = 0

    def compute(self, op_input, op_output, context):
        self.count += 1
        op_output.emit(self.count, "out")


class ScaleOp(Operator):
    def setup(self, spec: OperatorSpec):
        spec.input("in")
        spec.output("out")
        spec.param("factor", 2)

    def compute(self, op_input, op_output, context):
        op_output.emit(op_input.receive("in") * self.factor, "out")


class JoinOp(Operator):
    def setup(self, spec: OperatorSpec):
        spec.input("small")
        spec.input("large")

    def compute(self, op_input, op_output, context):
        small = op_input.receive("small")
        large = op_input.receive("large")
        print(f"{self.name}: {small} and {large}")


class PortedApp(Application):
    def compose(self):
        every_10ms = PeriodicCondition(self, 10_000_000)  # an int period is in nanoseconds
        counter = CounterOp(self, CountCondition(self, 5), every_10ms, name="counter")
        double = ScaleOp(self, name="double")
        tenfold = ScaleOp(self, name="tenfold", factor=10)
        join = JoinOp(self, name="join")
        self.add_flow(counter, double)
        self.add_flow(counter, tenfold)
        self.add_flow(double, join, {("out", "small")})
        self.add_flow(tenfold, join, {("out", "large")})


def main():
    app = PortedApp()
    app.scheduler(GreedyScheduler(app, name="scheduler"))
    app.run()
    print("done")


if __name__ == "__main__":
    main()
