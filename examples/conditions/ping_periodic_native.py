"""A periodic condition written in Python: ``holoflow.core.Condition`` with time targets.

``EveryPeriod`` lets the transmitter run at once, then keeps it on a grid of ``period_ns``
nanoseconds after its first run: ``check`` answers ``(WAIT_TIME, target)`` until the
scheduler's clock reaches the next target, and ``(READY, ...)`` from then on; ``on_execute``
moves the target one period further. A tick that comes late does not move the grid (like
``PeriodicConditionPolicy.CATCH_UP_MISSED_TICKS``). The transmitter also has a
``CountCondition``: 10 messages.

Every hook prints a line. As in GXF, the scheduler calls ``update_state`` then ``check`` on each
condition of an operator whenever it evaluates that operator, so between two ticks the trace
usually shows one WAIT_TIME answer (just after a tick) and one READY answer (once the target
has come). Holoscan's version of this example uses 200 ms; 100 ms here keeps the run short.
"""

from holoflow.conditions import CountCondition
from holoflow.core import Application, Condition, SchedulingStatusType
from holoflow.operators import PingRxOp, PingTxOp

PERIOD_NS = 100_000_000


class EveryPeriod(Condition):
    """READY at the first evaluation, then once per ``period_ns`` on a fixed grid.

    Parameters
    ----------
    fragment : Fragment
        The fragment or application the condition belongs to.
    period_ns : int
        Time between two ticks, in nanoseconds of the scheduler's clock (> 0).
    """

    def __init__(self, fragment, *args, period_ns, **kwargs):
        if not isinstance(period_ns, int) or period_ns <= 0:
            raise ValueError(f"period_ns must be a positive integer, got {period_ns!r}")
        self.period_ns = period_ns
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        print("condition: setup()")

    def initialize(self):
        print("condition: initialize()")
        self.target = None  # no tick yet in this run

    def update_state(self, timestamp):
        # The state only changes in on_execute; the hook is here to show when it is called.
        print("condition: update_state()")

    def check(self, timestamp):
        if self.target is None or timestamp >= self.target:
            status, when = SchedulingStatusType.READY, timestamp
        else:
            status, when = SchedulingStatusType.WAIT_TIME, self.target
        print(f"condition: check() -> {status.name}")
        return status, when

    def on_execute(self, timestamp):
        print("condition: on_execute()")
        start = timestamp if self.target is None else self.target
        self.target = start + self.period_ns


class NativePeriodicApp(Application):
    def compose(self):
        pace = EveryPeriod(self, period_ns=PERIOD_NS, name="every_period")
        tx = PingTxOp(self, CountCondition(self, 10), pace, name="tx")
        self.add_flow(tx, PingRxOp(self, name="rx"))


def main():
    NativePeriodicApp().run()


if __name__ == "__main__":
    main()
