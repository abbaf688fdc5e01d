"""Conditional routing of data: one output port, two receivers, one chosen per message.

::

            node1          (runs twice, emits on "output")
           /     \\
       node2     node3

node1's "output" port is connected to both receivers. Its dynamic-flow callback looks the two
flows up among ``op.next_flows`` with ``find_flow_info`` and adds one of them with
``add_dynamic_flow``: odd values go to node2, even values to node3. A message travels only
along the flows added in the execution that emitted it; the other receiver gets nothing and
does not run.

Prints::

    node1: sends 1
    node2: received 1
    node1: sends 2
    node3: received 2

Run ``python3 examples/flow_control/conditional_routing.py [greedy|multi|event]``.
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


class ConditionalRoutingApp(Application):
    def compose(self):
        node1 = Counter(self, CountCondition(self, count=2), name="node1")
        node2 = Printer(self, name="node2")
        node3 = Printer(self, name="node3")
        self.add_flow(node1, node2)
        self.add_flow(node1, node3)

        def by_parity(op):
            target = "node2" if op.value % 2 == 1 else "node3"
            op.add_dynamic_flow(op.find_flow_info(lambda flow: flow.next_operator.name == target))

        self.set_dynamic_flows(node1, by_parity)


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
    app = ConditionalRoutingApp()
    app.scheduler(SCHEDULERS[args.scheduler](app))
    app.run()


if __name__ == "__main__":
    main()
