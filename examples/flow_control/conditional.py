"""Conditional control flow: a callback picks one of two branches after every execution.

::

            node1          (runs twice)
           /     \\
       node2     node4
         |         |
       node3     node5

node1 is connected to both branches with ``add_flow``, but ``set_dynamic_flows`` gives it a
callback that runs after each of its executions and chooses where its execution signal goes:
to node2 after an odd-numbered execution, to node4 after an even-numbered one. The branch not
chosen does not run. node1 has no input, so a ``CountCondition`` bounds it to two executions.

Prints (under the greedy scheduler)::

    node1: execution 1
    node2: executed
    node3: executed
    node1: execution 2
    node4: executed
    node5: executed

Run ``python3 examples/flow_control/conditional.py [greedy|multi|event]``. With worker threads
node1's second execution may overlap the first branch, so lines of the two branches can mix;
each branch still follows the execution of node1 that chose it.
"""

import argparse
import sys

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler


def say(line):
    """Print ``line`` with one write, so lines from worker threads never run together."""
    sys.stdout.write(f"{line}\n")


class Decide(Operator):
    """Counts its executions; the routing callback reads the count."""

    def __init__(self, fragment, *args, **kwargs):
        self.executions = 0
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        self.executions += 1
        say(f"{self.name}: execution {self.executions}")


class Step(Operator):
    """An operator with no ports: it only reports that it ran."""

    def compute(self, op_input, op_output, context):
        say(f"{self.name}: executed")


class ConditionalApp(Application):
    def compose(self):
        node1 = Decide(self, CountCondition(self, count=2), name="node1")
        node2, node3, node4, node5 = (Step(self, name=f"node{i}") for i in (2, 3, 4, 5))
        self.add_flow(node1, node2)
        self.add_flow(node2, node3)
        self.add_flow(node1, node4)
        self.add_flow(node4, node5)

        def odd_left_even_right(op):
            op.add_dynamic_flow(node2 if op.executions % 2 == 1 else node4)

        self.set_dynamic_flows(node1, odd_left_even_right)


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
    app = ConditionalApp()
    app.scheduler(SCHEDULERS[args.scheduler](app))
    app.run()


if __name__ == "__main__":
    main()
