"""A self-loop that streams: the source re-triggers itself until it has sent five values.

::

                  (self-loop)
                   .------.
                   v      |
    <|start|> ->  node1 --'  -> node2 -> node3 -> node4
                          "output"

``start_op()`` triggers node1 once. ``add_flow(node1, node1)`` gives node1 a control flow to
itself. For node1's first five executions its dynamic-flow callback sends the value to node2
and node1's own execution signal back to node1, which makes it run again. After the sixth the
callback adds no flow: the value is dropped, no signal is sent, and the graph runs dry. Because
node1 sits on a cycle, one signal on any of its control flows runs it: the self-loop does not
wait for a second signal from ``start_op()``.

Prints, for each value ``n`` in 1 .. 5::

    node1: sends n
    node1: iteration n
    node2: received n
    node3: received n
    node4: received n

and finally ``node1: sends 6`` and ``node1: iteration 6``. Under the greedy scheduler the lines
come in exactly that order; with worker threads node1 may run ahead of the receivers, but each
operator still sees the values in order.

Run ``python3 examples/flow_control/streaming.py [greedy|multi|event]``.
"""

import argparse
import sys

from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler

ITERATIONS = 5


def say(line):
    """Print ``line`` with one write, so lines from worker threads never run together."""
    sys.stdout.write(f"{line}\n")


class Counter(Operator):
    """Emits 1, 2, 3, ... on "output"; ``value`` is the last number sent."""

    def __init__(self, fragment, *args, **kwargs):
        self.value = 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("output")

    def compute(self, op_input, op_output, context):
        self.value += 1
        say(f"{self.name}: sends {self.value}")
        op_output.emit(self.value, "output")


class Relay(Operator):
    """Reports the value on "input" and forwards it on "output"."""

    def setup(self, spec):
        spec.input("input")
        spec.output("output")

    def compute(self, op_input, op_output, context):
        value = op_input.receive("input")
        say(f"{self.name}: received {value}")
        op_output.emit(value, "output")


class Printer(Operator):
    """Reports every value that reaches its "input" port."""

    def setup(self, spec):
        spec.input("input")

    def compute(self, op_input, op_output, context):
        say(f"{self.name}: received {op_input.receive('input')}")


class Loop:
    """The dynamic-flow callback of the source: counts iterations, loops while there are more."""

    def __init__(self, consumer, iterations):
        self.consumer = consumer
        self.iterations = iterations
        self.iteration = 0

    def __call__(self, op):
        self.iteration += 1
        say(f"{op.name}: iteration {self.iteration}")
        if self.iteration <= self.iterations:
            op.add_dynamic_flow("output", self.consumer)
            op.add_dynamic_flow(Operator.OUTPUT_EXEC_PORT_NAME, op)
        else:
            self.iteration = 0


class StreamingApp(Application):
    def compose(self):
        node1 = Counter(self, name="node1")
        node2 = Relay(self, name="node2")
        node3 = Relay(self, name="node3")
        node4 = Printer(self, name="node4")
        self.add_flow(self.start_op(), node1)
        self.add_flow(node1, node1)  # the self-loop: a control flow
        self.add_flow(node1, node2, {("output", "input")})
        self.add_flow(node2, node3)
        self.add_flow(node3, node4)
        self.set_dynamic_flows(node1, Loop(node2, ITERATIONS))


SCHEDULERS = {
    "greedy": lambda app: GreedyScheduler(app),
    "multi": lambda app: MultiThreadScheduler(app, worker_thread_number=2),
    "event": lambda app: EventBasedScheduler(app, worker_thread_number=2),
}


def main(argv=None):
    """Run the app under the scheduler named on the command line (default: greedy)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scheduler", nargs="?", choices=sorted(SCHEDULERS), default="greedy")
    args = parser.parse_args(argv)
    app = StreamingApp()
    app.scheduler(SCHEDULERS[args.scheduler](app))
    app.run()


if __name__ == "__main__":
    main()
