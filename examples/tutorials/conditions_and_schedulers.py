"""Conditions decide when an operator runs; the scheduler decides how. One app, three schedulers.

A sensor ticks every 10 ms (PeriodicCondition), twelve times (CountCondition). An averager waits
until three readings are queued (an input of size 3) and receives them together. A reporter waits
until two averages are queued (MessageAvailableCondition with min_size=2, on a queue that holds
two). The same application then runs under GreedyScheduler, MultiThreadScheduler and
EventBasedScheduler.

    python3 examples/tutorials/conditions_and_schedulers.py
"""

import threading
import time

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application, ConditionType, IOSpec, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler


class Sensor(Operator):
    """Emits the readings 1.0, 2.0, 3.0, ... on ``reading``."""

    def setup(self, spec):
        spec.output("reading")

    def start(self):
        self.count = 0

    def compute(self, op_input, op_output, context):
        self.count += 1
        op_output.emit(float(self.count), "reading")


class Averager(Operator):
    """Receives three readings at a time and emits their mean."""

    def setup(self, spec):
        # A queue size of 3: the operator runs once three messages wait, and receive() returns
        # the three of them as a tuple.
        spec.input("readings", size=IOSpec.IOSize(3))
        spec.output("mean")

    def compute(self, op_input, op_output, context):
        readings = op_input.receive("readings")
        op_output.emit(sum(readings) / len(readings), "mean")


class Reporter(Operator):
    """Waits for two means, then takes them off its queue one by one."""

    def setup(self, spec):
        spec.input("mean").connector(IOSpec.ConnectorType.DOUBLE_BUFFER, capacity=2).condition(
            ConditionType.MESSAGE_AVAILABLE, min_size=2
        )

    def start(self):
        self.reports = []

    def compute(self, op_input, op_output, context):
        first = op_input.receive("mean")
        second = op_input.receive("mean")
        where = "the main thread" if threading.current_thread() is threading.main_thread() else "a worker"
        self.reports.append(f"means {first} and {second} (on {where})")


class SensorApp(Application):
    def compose(self):
        sensor = Sensor(self, PeriodicCondition(self, "10ms"), CountCondition(self, 12), name="sensor")
        averager = Averager(self, name="averager")
        self.reporter = Reporter(self, name="reporter")
        self.add_flow(sensor, averager)
        self.add_flow(averager, self.reporter)


SCHEDULERS = {
    "GreedyScheduler": lambda app: GreedyScheduler(app, name="greedy"),
    "MultiThreadScheduler": lambda app: MultiThreadScheduler(app, worker_thread_number=2, name="multi"),
    "EventBasedScheduler": lambda app: EventBasedScheduler(app, worker_thread_number=2, name="event"),
}


def main():
    for label, make_scheduler in SCHEDULERS.items():
        app = SensorApp()
        app.scheduler(make_scheduler(app))
        started = time.monotonic()
        app.run()
        elapsed = time.monotonic() - started
        print(f"{label}:")
        for line in app.reporter.reports:
            print(f"  {line}")
        print(f"  finished in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
