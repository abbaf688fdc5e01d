"""Pace a transmitter with ``PeriodicCondition``: a period as a timedelta or as nanoseconds.

``PingTxOp`` sends 1 to 10 to ``PingRxOp``; its ``CountCondition`` stops it after 10 messages and
its ``PeriodicCondition`` lets it run at most once per period (100 ms here, where Holoscan's
version of this example uses 200 ms). The period is a ``datetime.timedelta`` by default;
``--nanoseconds`` passes the same period as an ``int`` of nanoseconds instead. The policy, named
as in Holoscan (``"MinTimeBetweenTicks"`` by default; see ``--policy``), says what happens after
a late tick: ``MinTimeBetweenTicks`` waits a full period after it, ``CatchUpMissedTicks`` runs
the missed ticks back to back, ``NoCatchUpMissedTicks`` skips them.
"""

import argparse
import datetime

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application
from holoflow.operators import PingRxOp, PingTxOp

PERIOD = datetime.timedelta(milliseconds=100)
POLICIES = ("CatchUpMissedTicks", "MinTimeBetweenTicks", "NoCatchUpMissedTicks")


class PeriodicPingApp(Application):
    def __init__(self, *args, period=PERIOD, policy="MinTimeBetweenTicks", **kwargs):
        self.period, self.policy = period, policy
        super().__init__(*args, **kwargs)

    def compose(self):
        tx = PingTxOp(
            self,
            CountCondition(self, 10),
            PeriodicCondition(self, recess_period=self.period, policy=self.policy, name="tx_period"),
            name="tx",
        )
        self.add_flow(tx, PingRxOp(self, name="rx"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period-ms", type=int, default=100, help="time between two messages (ms)")
    parser.add_argument("--nanoseconds", action="store_true", help="give the period as an int of ns")
    parser.add_argument("--policy", choices=POLICIES, default="MinTimeBetweenTicks")
    args = parser.parse_args()
    if args.period_ms <= 0:
        parser.error("--period-ms must be > 0")
    period = datetime.timedelta(milliseconds=args.period_ms)
    if args.nanoseconds:
        period = args.period_ms * 1_000_000
    PeriodicPingApp(period=period, policy=args.policy).run()


if __name__ == "__main__":
    main()
