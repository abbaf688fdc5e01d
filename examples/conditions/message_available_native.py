"""A condition written in Python that watches an input queue, like ``MessageAvailableCondition``.

``QueueHasMessages`` subclasses ``holoflow.core.Condition`` and is bound to the receiver's input
port ``in`` by passing ``receiver_name="in"`` to the base class; that port then gets no default
condition of its own. During the run, ``self.receiver("in")`` is the port's queue, and the
condition says READY while at least ``min_size`` messages wait in it (``back_size + size``) and
WAIT otherwise, remembering when its answer last changed.

Every hook prints a line, so the output traces the order in which the scheduler calls them:
``setup`` and ``initialize`` once; then, each time it evaluates the receiver, ``update_state``
followed by ``check``; and ``on_execute`` after each compute (which refreshes the state at
once, as the queue was just drained). The sender emits 1 to 10.
"""

from holoflow.conditions import CountCondition
from holoflow.core import Application, Condition, SchedulingStatusType
from holoflow.operators import PingRxOp, PingTxOp


class QueueHasMessages(Condition):
    """READY while the bound input port holds at least ``min_size`` messages.

    Parameters
    ----------
    fragment : Fragment
        The fragment or application the condition belongs to.
    receiver_name : str
        The input port of the operator whose queue is watched.
    min_size : int
        Messages needed to be ready (a positive integer).
    """

    def __init__(self, fragment, *args, receiver_name, min_size=1, **kwargs):
        if not isinstance(min_size, int) or min_size < 1:
            raise ValueError(f"min_size must be a positive integer, got {min_size!r}")
        self.min_size = min_size
        super().__init__(fragment, *args, receiver_name=receiver_name, **kwargs)

    def setup(self, spec):
        print("condition: setup()")

    def initialize(self):
        print("condition: initialize()")
        # Called at the start of each run, once the port's queue exists.
        self.queue = self.receiver(self.receiver_name)
        self.status = SchedulingStatusType.WAIT
        self.changed_at = 0

    def update_state(self, timestamp):
        print("condition: update_state()")
        enough = self.waiting() >= self.min_size
        status = SchedulingStatusType.READY if enough else SchedulingStatusType.WAIT
        if status is not self.status:
            self.status, self.changed_at = status, timestamp

    def waiting(self):
        # A message just delivered may still sit in the queue's back stage (``back_size``) until
        # the operator runs; holoflow delivers straight to the front, Holoscan's double buffer not.
        return self.queue.back_size + self.queue.size

    def check(self, timestamp):
        print(f"condition: check() -> {self.status.name} ({self.waiting()} waiting)")
        return self.status, self.changed_at

    def on_execute(self, timestamp):
        print("condition: on_execute()")
        self.update_state(timestamp)


class NativeMessageApp(Application):
    def compose(self):
        tx = PingTxOp(self, CountCondition(self, 10), name="tx")
        ready = QueueHasMessages(self, name="rx_has_messages", receiver_name="in")
        self.add_flow(tx, PingRxOp(self, ready, name="rx"))


def main():
    NativeMessageApp().run()


if __name__ == "__main__":
    main()
