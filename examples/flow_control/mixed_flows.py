"""Data flows and a control flow from the same operator, chosen per execution.

::

                 node1            (runs twice)
            /      |      \\
     "output"   (signal)   "output"
          |        |        |
       node2     alarm    node3

node1 emits a value on its data port "output", connected to node2 and to node3, and is also
joined to alarm, which has no ports, by a control flow. Its dynamic-flow callback sends the
value to node2 when it is odd and to node3 when it is even, and sends node1's execution signal
(``Operator.OUTPUT_EXEC_PORT_NAME``) to alarm every time. Because node1 now has two output
ports, the data flows name their ports in ``add_flow`` and ``add_dynamic_flow``.

Prints (under the greedy scheduler)::

    node1: sends 1
    node2: received 1
    alarm: executed
    node1: sends 2
    alarm: executed
    node3: received 2

Run ``python3 examples/flow_control/mixed_flows.py [greedy|multi|event]``. The order in which
alarm and the chosen receiver run after each value is up to the scheduler.
"""

import argparse
import sys

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler


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


class Printer(Operator):
    """Reports every value that reaches its "input" port."""

    def setup(self, spec):
        spec.input("input")

    def compute(self, op_input, op_output, context):
        say(f"{self.name}: received {op_input.receive('input')}")


class Step(Operator):
    """An operator with no ports: it only reports that it ran."""

    def compute(self, op_input, op_output, context):
        say(f"{self.name}: executed")


class MixedFlowsApp(Application):
    def compose(self):
        node1 = Counter(self, CountCondition(self, count=2), name="node1")
        node2 = Printer(self, name="node2")
        node3 = Printer(self, name="node3")
        alarm = Step(self, name="alarm")
        self.add_flow(node1, node2, {("output", "input")})
        self.add_flow(node1, alarm)  # alarm has no inputs: a control flow
        self.add_flow(node1, node3, {("output", "input")})

        def route(op):
            receiver = node2 if op.value % 2 == 1 else node3
            op.add_dynamic_flow("output", receiver, "input")
            op.add_dynamic_flow(Operator.OUTPUT_EXEC_PORT_NAME, alarm)

        self.set_dynamic_flows(node1, route)


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
    app = MixedFlowsApp()
    app.scheduler(SCHEDULERS[args.scheduler](app))
    app.run()


if __name__ == "__main__":
    main()
