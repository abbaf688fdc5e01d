"""A message-available condition with a timeout, on a single port.

The sender emits 18 messages, one per 100 ms. The receiver's port holds up to 5 and carries a
``MULTI_MESSAGE_AVAILABLE_TIMEOUT`` condition: it runs when 5 messages wait, or once 250 ms have
passed since it last ran, whichever comes first — so it takes the messages in batches of 3 or
4, and the last, shorter batch after the sender has finished.

A pending timeout does not keep the graph alive on its own: with nothing else left to do, the
run ends once it has been idle for ``stop_on_deadlock_timeout`` (150 ms here, shorter than the
250 ms timeout, so the receiver does not go on running on empty input).
"""

import datetime

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application, ConditionType, IOSpec, Operator
from holoflow.schedulers import GreedyScheduler


class Sender(Operator):
    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.sent = 0

    def compute(self, op_input, op_output, context):
        self.sent += 1
        print(f"sent message {self.sent}")
        op_output.emit(self.sent, "out")


class TimeoutReceiver(Operator):
    def setup(self, spec):
        spec.input("in", size=IOSpec.IOSize(5)).condition(
            ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT, execution_frequency="250ms", min_sum=5
        )

    def compute(self, op_input, op_output, context):
        batch = list(op_input.receive("in"))
        print(f"received {len(batch)}: {batch}")


class TimeoutApp(Application):
    def compose(self):
        tx = Sender(
            self,
            PeriodicCondition(self, recess_period=datetime.timedelta(milliseconds=100)),
            CountCondition(self, count=18),
            name="tx",
        )
        self.add_flow(tx, TimeoutReceiver(self, name="rx"))


def main():
    app = TimeoutApp()
    app.scheduler(GreedyScheduler(app, stop_on_deadlock_timeout=150))
    app.run()


if __name__ == "__main__":
    main()
