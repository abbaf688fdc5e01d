"""Watching the other operators of a graph with ``ExecutionContext.get_operator_status``.

A three-stage pipeline (source -> processor -> consumer) does slow work; a monitor that is
connected to nothing ticks every 50 ms and prints the status of each stage (STARTED, TICKING,
IDLE, ...). The source has work for five ticks but a count of ten, so it ticks five more times
with nothing to send. The pipeline is done when the monitor has seen every stage IDLE three polls
in a row: the monitor then stops itself with ``stop_execution()``, and since nothing else can
run, the app ends.
"""

import threading
import time

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application, Operator, OperatorStatus
from holoflow.schedulers import EventBasedScheduler

IDLE_POLLS_TO_FINISH = 3
_print_lock = threading.Lock()


def say(*lines):
    """Print ``lines`` as one block: the operators print from several worker threads."""
    with _print_lock:
        print("\n".join(lines), flush=True)


class Stage(Operator):
    """Base of the pipeline stages: says when the run stops it."""

    def stop(self):
        say(f"[{self.name}] Stopping operator")


class Source(Stage):
    """Emits 0, 1, ... for ``items`` ticks (0.2 s of work each), then only reports its ticks."""

    def __init__(self, fragment, *args, items=5, **kwargs):
        self.items, self.ticks = items, 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        if self.ticks < self.items:
            say(f"[{self.name}] Emitting data: {self.ticks}")
            op_output.emit(self.ticks, "out")
            time.sleep(0.2)
        else:
            say(f"[{self.name}] Additional iterations after completion: {self.ticks}")
        self.ticks += 1


class Doubler(Stage):
    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        value = op_input.receive("in")
        say(f"[{self.name}] Processing data: {value} -> {2 * value}")
        op_output.emit(2 * value, "out")
        time.sleep(0.1)


class Sink(Stage):
    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        say(f"[{self.name}] Consuming data: {op_input.receive('in')}")
        time.sleep(0.15)


class Monitor(Operator):
    """Prints the status of ``watched`` operators at each tick; stops once they stay idle."""

    def __init__(self, fragment, *args, watched=(), **kwargs):
        self.watched, self.idle_polls = list(watched), 0
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        statuses = {name: context.get_operator_status(name) for name in self.watched}
        say(
            f"[{self.name}] Operator status summary:",
            *(f"  - {name}: {status.name}" for name, status in statuses.items()),
        )
        if any(status is not OperatorStatus.IDLE for status in statuses.values()):
            self.idle_polls = 0
            return
        # An operator is also IDLE between two computes, so one idle poll proves nothing.
        self.idle_polls += 1
        say("!!IDLE!!")
        if self.idle_polls == IDLE_POLLS_TO_FINISH:
            say(f"[{self.name}] All operators have completed.")
            self.stop_execution()


class StatusTrackingApp(Application):
    def compose(self):
        source = Source(self, CountCondition(self, 10), name="source", items=5)
        processor = Doubler(self, name="processor")
        consumer = Sink(self, name="consumer")
        self.add_flow(source, processor, {("out", "in")})
        self.add_flow(processor, consumer, {("out", "in")})
        watched = [source.name, processor.name, consumer.name]
        self.add_operator(Monitor(self, PeriodicCondition(self, 0.05), name="monitor", watched=watched))
        print("The monitor polls the status of source, processor and consumer every 50 ms;")
        print("it stops itself once they have all stayed IDLE for three polls.")
        print("-------------------------------------------------------------------")


def main():
    app = StatusTrackingApp()
    app.scheduler(EventBasedScheduler(app, worker_thread_number=2))
    app.run()
    print("-------------------------------------------------------------------")
    print("Application completed. All operators have finished processing.")


if __name__ == "__main__":
    main()
