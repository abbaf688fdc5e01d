"""Transmitter and receiver paced by their own ``async_condition`` from background threads.

Every operator owns an asynchronous condition during a run. Each async operator here starts a
pump thread in ``start``: every ``--delay`` ms the pump turns the condition from ``EVENT_WAITING``
(set by ``compute`` after each message) into ``EVENT_DONE``, which lets the scheduler run the
operator once more. The transmitter sets ``EVENT_NEVER`` after its last message; ``stop`` sets it
on both and joins the pumps. ``--sync_tx`` / ``--sync_rx`` swap in the plain ``PingTxOp`` /
``PingRxOp``; ``--scheduler`` picks greedy, multi_thread or event_based.
"""

import argparse
import threading

from holoflow.conditions import AsynchronousEventState, CountCondition
from holoflow.core import Application, Operator
from holoflow.operators import PingRxOp, PingTxOp
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler

WAITING, DONE, NEVER = (
    AsynchronousEventState.EVENT_WAITING,
    AsynchronousEventState.EVENT_DONE,
    AsynchronousEventState.EVENT_NEVER,
)


class Pumped(Operator):
    """An operator whose computes are released one by one by a pump thread, ``delay`` s apart."""

    def __init__(self, fragment, *args, delay=0.1, **kwargs):
        self.delay = delay
        self._pump = None
        self._stopping = threading.Event()
        super().__init__(fragment, *args, **kwargs)

    def start(self):
        self._stopping.clear()
        self._pump = threading.Thread(target=self._release, name=f"{self.name}-pump")
        self._pump.start()

    def _release(self):
        condition = self.async_condition
        while not self._stopping.wait(self.delay):
            if condition.event_state is WAITING:
                condition.event_state = DONE

    def stop(self):
        self._stopping.set()
        self._pump.join()
        # After the join: the pump can no longer turn this back into DONE.
        self.async_condition.event_state = NEVER


class AsyncPingTx(Pumped):
    def __init__(self, fragment, *args, count=10, **kwargs):
        self.count, self.sent = count, 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        self.sent += 1
        op_output.emit(self.sent, "out")
        self.async_condition.event_state = WAITING if self.sent < self.count else NEVER


class AsyncPingRx(Pumped):
    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        print(f"Rx message value: {op_input.receive('in')}")
        self.async_condition.event_state = WAITING


class AsyncPingApp(Application):
    def __init__(self, *args, delay=0.1, count=10, async_tx=True, async_rx=True, **kwargs):
        self.delay, self.count, self.async_tx, self.async_rx = delay, count, async_tx, async_rx
        super().__init__(*args, **kwargs)

    def compose(self):
        if self.async_tx:
            tx = AsyncPingTx(self, name="tx", delay=self.delay, count=self.count)
        else:
            tx = PingTxOp(self, CountCondition(self, self.count), name="tx")
        rx = AsyncPingRx(self, name="rx", delay=self.delay) if self.async_rx else PingRxOp(self, name="rx")
        self.add_flow(tx, rx)


SCHEDULERS = {
    "greedy": lambda app: GreedyScheduler(app),
    "multi_thread": lambda app: MultiThreadScheduler(app, worker_thread_number=2),
    "event_based": lambda app: EventBasedScheduler(app, worker_thread_number=2),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-t", "--delay", type=int, default=100, help="ms between two releases")
    parser.add_argument("-c", "--count", type=int, default=10, help="messages to send")
    parser.add_argument("--sync_tx", action="store_true", help="use PingTxOp")
    parser.add_argument("--sync_rx", action="store_true", help="use PingRxOp")
    parser.add_argument("-s", "--scheduler", choices=sorted(SCHEDULERS), default="event_based")
    args = parser.parse_args()
    if args.delay < 0 or args.count < 1:
        parser.error("--delay must be >= 0 and --count >= 1")
    app = AsyncPingApp(
        delay=args.delay / 1000, count=args.count, async_tx=not args.sync_tx, async_rx=not args.sync_rx
    )
    app.scheduler(SCHEDULERS[args.scheduler](app))
    app.run()


if __name__ == "__main__":
    main()
