"""Take messages in batches, or whatever has waited too long: ``EXPIRING_MESSAGE_AVAILABLE``.

The sender emits 8 numbers, one every 10 ms, and stamps each with the time it was acquired on
the scheduler's clock: ``op_output.emit(value, "out", acq_timestamp=clock.timestamp())``, with
the clock from ``self.fragment.scheduler().clock``. The receiver's port holds up to 5 messages
and carries an ``EXPIRING_MESSAGE_AVAILABLE`` condition: it runs as soon as 5 messages wait, or
once the oldest waiting message was acquired ``MAX_DELAY_NS`` ago. It therefore takes 1-5 as a
full batch, then 6-8 only when 6 expires, as no further message comes to fill the batch.

After receiving, the receiver reads the acquisition timestamp of the first message it took
(``op_input.get_acquisition_timestamp("in")``) and checks that a short batch was indeed old
enough to be released. Holoscan's version of this example waits 1 s for expiry; 500 ms here
keeps the run short.
"""

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application, ConditionType, IOSpec, Operator

MAX_BATCH = 5
MAX_DELAY_NS = 500_000_000


class StampedSender(Operator):
    """Emits 1, 2, 3, ... on ``out``, each with its acquisition timestamp."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.sent = 0

    def compute(self, op_input, op_output, context):
        self.sent += 1
        print(f"sent {self.sent}")
        now = self.fragment.scheduler().clock.timestamp()
        op_output.emit(self.sent, "out", acq_timestamp=now)


class BatchReceiver(Operator):
    """Drains its queue each time the expiring-message condition lets it run."""

    def setup(self, spec):
        spec.input("in").connector(
            IOSpec.ConnectorType.DOUBLE_BUFFER, capacity=MAX_BATCH, policy=IOSpec.QueuePolicy.REJECT
        ).condition(
            ConditionType.EXPIRING_MESSAGE_AVAILABLE, max_batch_size=MAX_BATCH, max_delay_ns=MAX_DELAY_NS
        )

    def compute(self, op_input, op_output, context):
        batch = []
        while (value := op_input.receive("in")) is not None:
            batch.append(value)
        # Only valid after the receive calls: the timestamps belong to what this compute took.
        acquired = op_input.get_acquisition_timestamp("in")
        waited = self.fragment.scheduler().clock.timestamp() - acquired
        if len(batch) < MAX_BATCH:
            # Nothing but expiry releases a short batch.
            assert waited >= MAX_DELAY_NS, waited
            reason = "the oldest expired"
        else:
            reason = "the batch is full"
        print(f"received {batch}: {reason}")


class ExpiringMessageApp(Application):
    def compose(self):
        tx = StampedSender(self, CountCondition(self, 8), PeriodicCondition(self, 10_000_000), name="tx")
        self.add_flow(tx, BatchReceiver(self, name="rx"))


def main():
    ExpiringMessageApp().run()


if __name__ == "__main__":
    main()
