"""One condition over three input ports, counted per port.

Three senders tick at 20, 10 and 40 Hz. The receiver declares a ``MULTI_MESSAGE_AVAILABLE``
condition in ``PerReceiver`` mode: it runs only once ``in1`` holds 1 message, ``in2`` holds 2 and
``in3`` holds 1 — the same as a ``MessageAvailableCondition`` on each port, written once. The
ports named in the condition get no default condition of their own.
"""

import datetime

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application, ConditionType, IOSpec, Operator
from holoflow.schedulers import EventBasedScheduler


class Sender(Operator):
    def __init__(self, fragment, *args, text="", **kwargs):
        self.text = text
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        print(f"{self.name} sends")
        op_output.emit(self.text, "out")


class PerPortReceiver(Operator):
    def setup(self, spec):
        spec.input("in1")
        spec.input("in2", size=IOSpec.IOSize(2))  # two messages per run, as a tuple
        spec.input("in3")
        spec.multi_port_condition(
            kind=ConditionType.MULTI_MESSAGE_AVAILABLE,
            port_names=["in1", "in2", "in3"],
            sampling_mode="PerReceiver",
            min_sizes=[1, 2, 1],
        )

    def compute(self, op_input, op_output, context):
        first = op_input.receive("in1")
        pair = op_input.receive("in2")
        third = op_input.receive("in3")
        print(f"received in1={first!r} in2={list(pair)!r} in3={third!r}")


class PerReceiverApp(Application):
    def compose(self):
        periods = {"tx1": 50, "tx2": 25, "tx3": 100}
        senders = {
            name: Sender(
                self,
                PeriodicCondition(self, recess_period=datetime.timedelta(milliseconds=ms)),
                text=f"from {name}",
                name=name,
            )
            for name, ms in periods.items()
        }
        rx = PerPortReceiver(self, CountCondition(self, count=4), name="rx")
        for index, sender in enumerate(senders.values(), start=1):
            self.add_flow(sender, rx, {("out", f"in{index}")})


def main():
    app = PerReceiverApp()
    app.scheduler(EventBasedScheduler(app, worker_thread_number=4))
    app.run()


if __name__ == "__main__":
    main()
