"""Sequential control flow: operators without data ports run one after another.

::

    <|start|> -> node1 -> node2 -> node3

None of the operators declares a port. ``add_flow`` between two such operators joins their
*execution ports*, so each one runs once the previous one has finished. The chain begins at
``start_op()``, an operator that runs exactly once; without it nothing would ever trigger node1.

Prints::

    node1: executed
    node2: executed
    node3: executed

Run ``python3 examples/flow_control/sequential.py [greedy|multi|event]``; the order is the same
under every scheduler.
"""

import argparse
import sys

from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler


def say(line):
    """Print ``line`` with one write, so lines from worker threads never run together."""
    sys.stdout.write(f"{line}\n")


class Step(Operator):
    """An operator with no ports: it only reports that it ran."""

    def compute(self, op_input, op_output, context):
        say(f"{self.name}: executed")


class SequentialApp(Application):
    def compose(self):
        first, second, third = (Step(self, name=f"node{i}") for i in (1, 2, 3))
        self.add_flow(self.start_op(), first)
        self.add_flow(first, second)
        self.add_flow(second, third)


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
    app = SequentialApp()
    app.scheduler(SCHEDULERS[args.scheduler](app))
    app.run()


if __name__ == "__main__":
    main()
