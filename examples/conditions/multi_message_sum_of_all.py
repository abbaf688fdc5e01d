"""One condition over three input ports, counted together, with a timeout.

Three senders tick at 25, 12.5 and 6.25 Hz. The receiver waits for 20 messages in total across
its ports (``SumOfAll``), but a ``MULTI_MESSAGE_AVAILABLE_TIMEOUT`` condition also lets it run
once 300 ms have passed since its last run — which, at these rates, is what triggers it: each
run takes whatever has arrived on each port.
"""

import datetime

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application, ConditionType, IOSpec, Operator
from holoflow.schedulers import EventBasedScheduler


class Sender(Operator):
    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(self.name, "out")


class ThrottledReceiver(Operator):
    def setup(self, spec):
        for port in ("in1", "in2", "in3"):
            spec.input(port, size=IOSpec.IOSize(20))  # each port can hold 20 messages
        spec.multi_port_condition(
            kind=ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT,
            port_names=["in1", "in2", "in3"],
            execution_frequency="300ms",
            sampling_mode="SumOfAll",
            min_sum=20,
        )

    def compute(self, op_input, op_output, context):
        counts = {port: len(op_input.receive(port)) for port in ("in1", "in2", "in3")}
        print("batch: " + ", ".join(f"{port}={n}" for port, n in counts.items()))


class SumOfAllApp(Application):
    def compose(self):
        rx = ThrottledReceiver(self, CountCondition(self, count=5), name="rx")
        for index, ms in enumerate((40, 80, 160), start=1):
            tx = Sender(
                self,
                PeriodicCondition(self, recess_period=datetime.timedelta(milliseconds=ms)),
                name=f"tx{index}",
            )
            self.add_flow(tx, rx, {("out", f"in{index}")})


def main():
    app = SumOfAllApp()
    app.scheduler(EventBasedScheduler(app, worker_thread_number=4))
    app.run()


if __name__ == "__main__":
    main()
