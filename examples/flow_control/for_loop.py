"""A for loop made of control flows: a body runs three times, then the loop exits.

::

    <|start|>
        |
      node1 <-------.
      /    \\        |
   node2   node4    |   (node4: the exit)
     |              |
   node3 -----------'   (the loop's back edge)

node1 is the loop head. It sits on a cycle, so one signal from either ``start_op()`` or node3 runs
it. Its dynamic-flow callback, a ``LoopBody``, stamps the current round number into node1's
metadata as ``"index"`` and sends the execution signal into the body (node2) for rounds 0, 1
and 2, then to the exit (node4) with index 3. Metadata rides execution signals like it rides
messages, so every operator reads the index of the round it runs in from ``self.metadata``;
node1's first execution, triggered by ``start_op()``, has none and prints -1.

Prints::

    node1: index -1
    node2: index 0
    node3: index 0
    node1: index 0
    node2: index 1
    node3: index 1
    node1: index 1
    node2: index 2
    node3: index 2
    node1: index 2
    node4: index 3

Run ``python3 examples/flow_control/for_loop.py [greedy|multi|event]``; the loop is a single
chain, so the order is the same under every scheduler.
"""

import argparse
import sys

from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler


def say(line):
    """Print ``line`` with one write, so lines from worker threads never run together."""
    sys.stdout.write(f"{line}\n")


class Step(Operator):
    """An operator with no ports: reports the loop index that reached it (-1: none)."""

    def compute(self, op_input, op_output, context):
        say(f"{self.name}: index {self.metadata.get('index', -1)}")


class LoopBody:
    """The loop head's dynamic-flow callback: ``rounds`` trips into ``body``, then ``exit``."""

    def __init__(self, body, exit, rounds):
        self.body = body
        self.exit = exit
        self.rounds = rounds
        self.index = 0

    def __call__(self, op):
        op.metadata.set("index", self.index)
        if self.index < self.rounds:
            self.index += 1
            op.add_dynamic_flow(self.body)
        else:
            self.index = 0  # ready for the next time the loop is entered
            op.add_dynamic_flow(self.exit)


class ForLoopApp(Application):
    def compose(self):
        node1, node2, node3, node4 = (Step(self, name=f"node{i}") for i in (1, 2, 3, 4))
        self.add_flow(self.start_op(), node1)
        self.add_flow(node1, node2)
        self.add_flow(node2, node3)
        self.add_flow(node3, node1)
        self.add_flow(node1, node4)
        self.set_dynamic_flows(node1, LoopBody(node2, node4, rounds=3))


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
    app = ForLoopApp()
    app.scheduler(SCHEDULERS[args.scheduler](app))
    app.run()


if __name__ == "__main__":
    main()
