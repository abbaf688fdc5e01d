"""Fork and join with control flows: five branches run side by side, then one operator joins them.

::

                  <|start|>
                      |
                    node1
         /      /     |     \\      \\
     node2  node3   node4  node5  node6
         \\      \\     |     /      /
                    node7
                      |
                    node8

node1's execution signal goes to all five branch operators at once (a fork). node7 has five
incoming control flows; an operator with several of them runs only when a signal has arrived on
every one (a join), so node7 waits for the slowest branch. Each operator pauses for
``pause_s`` seconds to stand in for real work: with five worker threads the branches overlap and
the whole graph takes about four pauses instead of eight.

Prints node1 first, node2 .. node6 in an order the threads decide, then node7 and node8::

    node1: executed
    node2: executed
    ...
    node6: executed
    node7: executed
    node8: executed
    5 branches joined in 0.8 s

Run ``python3 examples/flow_control/fork_join.py [greedy|multi|event]`` (default: event, with five
worker threads).
"""

import argparse
import sys
import time

from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler


def say(line):
    """Print ``line`` with one write, so lines from worker threads never run together."""
    sys.stdout.write(f"{line}\n")


class Work(Operator):
    """An operator with no ports that reports itself, then sleeps for ``pause_s`` seconds."""

    def __init__(self, fragment, *args, pause_s, **kwargs):
        self.pause_s = pause_s
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        say(f"{self.name}: executed")
        time.sleep(self.pause_s)


class ForkJoinApp(Application):
    """``pause_s``: how long each operator works."""

    def __init__(self, *args, pause_s=0.2, **kwargs):
        self.pause_s = pause_s
        super().__init__(*args, **kwargs)

    def compose(self):
        node = {i: Work(self, name=f"node{i}", pause_s=self.pause_s) for i in range(1, 9)}
        self.add_flow(self.start_op(), node[1])
        for branch in range(2, 7):
            self.add_flow(node[1], node[branch])
            self.add_flow(node[branch], node[7])
        self.add_flow(node[7], node[8])


SCHEDULERS = {
    "greedy": lambda app: GreedyScheduler(app),
    "multi": lambda app: MultiThreadScheduler(app, worker_thread_number=5),
    "event": lambda app: EventBasedScheduler(app, worker_thread_number=5),
}


def main(argv=None):
    """Run the app under the scheduler named on the command line (default: event)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scheduler", nargs="?", choices=sorted(SCHEDULERS), default="event")
    args = parser.parse_args(argv)
    app = ForkJoinApp()
    app.scheduler(SCHEDULERS[args.scheduler](app))
    started = time.monotonic()
    app.run()
    say(f"5 branches joined in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
