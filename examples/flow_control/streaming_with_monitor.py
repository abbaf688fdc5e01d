"""A streaming loop with a slow monitor branch that reports only the events it detects.

::

                   .--------.  (self-loop)
                   v        |
    <|start|> -> gen_signal-'
                     ||
                     ++=> process_signal => visualize
                                 ||
                                 ++=> execution_throttler => detect_event
                                                                  |  (events only)
                                                                  v
                                                          report_generation

``=>`` is a data flow, a single line a control flow. gen_signal re-triggers itself for ten rounds (as in
``streaming.py``) and each value goes through process_signal to visualize and to the monitor
branch. detect_event is slower than the stream, so the branch must never hold the loop back:
the throttler's output uses ``IOSpec.QueuePolicy.POP`` with ``ConditionType.NONE`` (it never
waits for room downstream) and detect_event's input also pops, so when detect_event is busy a new
value replaces the one still waiting. detect_event may therefore skip values, but it always
sees the last one.

detect_event writes the value and whether it is an event (odd) into its metadata; its
dynamic-flow callback reads ``is_detected`` back and sends the execution signal to
report_generation only for events. report_generation has no ports at all: it learns the value
from the metadata that came with the signal.

Prints, for each value ``n`` in 1 .. 10, ``gen_signal: sends n``, ``gen_signal: iteration n``,
``process_signal: received n`` and ``visualize: received n``; for each value detect_event gets,
``detect_event: received n, detected True|False``, and for each detected one
``report_generation: value n, detected True``; finally ``gen_signal: sends 11`` and
``gen_signal: iteration 11``. Lines of the two branches interleave as the threads run them.

Run ``python3 examples/flow_control/streaming_with_monitor.py [greedy|multi|event]`` (default:
event, with two worker threads, so that visualize runs while detect_event works).
"""

import argparse
import sys
import time

from holoflow.core import Application, ConditionType, IOSpec, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler

ITERATIONS = 10


def say(line):
    """Print ``line`` with one write, so lines from worker threads never run together."""
    sys.stdout.write(f"{line}\n")


class Counter(Operator):
    """Emits 1, 2, 3, ... on "output"."""

    def __init__(self, fragment, *args, **kwargs):
        self.value = 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("output")

    def compute(self, op_input, op_output, context):
        self.value += 1
        say(f"{self.name}: sends {self.value}")
        op_output.emit(self.value, "output")


class Process(Operator):
    """Reports and forwards each value after ``work_s`` seconds of work."""

    def __init__(self, fragment, *args, work_s, **kwargs):
        self.work_s = work_s
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("input")
        spec.output("output")

    def compute(self, op_input, op_output, context):
        value = op_input.receive("input")
        say(f"{self.name}: received {value}")
        time.sleep(self.work_s)
        op_output.emit(value, "output")


class Throttle(Operator):
    """Passes values on without ever waiting for the receiver: a full queue loses its oldest."""

    def setup(self, spec):
        spec.input("input")
        spec.output("output", policy=IOSpec.QueuePolicy.POP).condition(ConditionType.NONE)

    def compute(self, op_input, op_output, context):
        op_output.emit(op_input.receive("input"), "output")


class Detect(Operator):
    """Marks odd values as events in its metadata, then works for ``work_s`` seconds."""

    def __init__(self, fragment, *args, work_s, **kwargs):
        self.work_s = work_s
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("input")

    def compute(self, op_input, op_output, context):
        value = op_input.receive("input")
        detected = value % 2 == 1
        self.metadata.set("value", value)
        self.metadata.set("is_detected", detected)
        say(f"{self.name}: received {value}, detected {detected}")
        time.sleep(self.work_s)


class Report(Operator):
    """No ports: reads what to report from the metadata of the signal that ran it."""

    def compute(self, op_input, op_output, context):
        value = self.metadata.get("value", -1)
        say(f"{self.name}: value {value}, detected {self.metadata.get('is_detected', False)}")


class Printer(Operator):
    """Reports every value that reaches its "input" port."""

    def setup(self, spec):
        spec.input("input")

    def compute(self, op_input, op_output, context):
        say(f"{self.name}: received {op_input.receive('input')}")


class StreamingWithMonitorApp(Application):
    """``process_s`` and ``detect_s``: the work time of process_signal and of detect_event."""

    def __init__(self, *args, process_s=0.001, detect_s=0.003, **kwargs):
        self.process_s = process_s
        self.detect_s = detect_s
        super().__init__(*args, **kwargs)

    def compose(self):
        gen_signal = Counter(self, name="gen_signal")
        process_signal = Process(self, name="process_signal", work_s=self.process_s)
        throttler = Throttle(self, name="execution_throttler")
        detect_event = Detect(self, name="detect_event", work_s=self.detect_s)
        detect_event.queue_policy("input", IOSpec.IOType.INPUT, IOSpec.QueuePolicy.POP)
        report = Report(self, name="report_generation")
        visualize = Printer(self, name="visualize")

        self.add_flow(self.start_op(), gen_signal)
        self.add_flow(gen_signal, gen_signal)
        self.add_flow(gen_signal, process_signal, {("output", "input")})
        self.add_flow(process_signal, throttler)
        self.add_flow(throttler, detect_event)
        self.add_flow(detect_event, report)  # report has no inputs: a control flow
        self.add_flow(process_signal, visualize)

        iterations = 0

        def stream(op):
            nonlocal iterations
            iterations += 1
            say(f"{op.name}: iteration {iterations}")
            if iterations <= ITERATIONS:
                op.add_dynamic_flow("output", process_signal)
                op.add_dynamic_flow(Operator.OUTPUT_EXEC_PORT_NAME, op)

        def report_events(op):
            if op.metadata.get("is_detected", False):
                op.add_dynamic_flow(report)

        self.set_dynamic_flows(gen_signal, stream)
        self.set_dynamic_flows(detect_event, report_events)


SCHEDULERS = {
    "greedy": lambda app: GreedyScheduler(app),
    "multi": lambda app: MultiThreadScheduler(app, worker_thread_number=2),
    "event": lambda app: EventBasedScheduler(app, worker_thread_number=2),
}


def main(argv=None):
    """Run the app under the scheduler named on the command line (default: event)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scheduler", nargs="?", choices=sorted(SCHEDULERS), default="event")
    args = parser.parse_args(argv)
    app = StreamingWithMonitorApp()
    app.scheduler(SCHEDULERS[args.scheduler](app))
    app.run()


if __name__ == "__main__":
    main()
