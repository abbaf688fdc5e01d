"""Workload: a 5-operator conditional-routing loop, written against Holoscan's flow-control API.

Operators: ``source`` emits one seed; ``router`` sends each value to ``even`` or ``odd`` by its
parity (``set_dynamic_flows`` + ``add_dynamic_flow``); ``even`` halves the value, ``odd`` maps it to
``3v + 1``; ``join`` takes either branch's output (one input port, two upstreams), restarts at the
next seed when the value reached 1, and routes it back to ``router`` through its dynamic-flow
callback until N messages have gone round; after the last one it adds no flow and the run ends.
One message is one pass router → branch → join.

The checksum is a hash of every value the join saw, so both implementations can be checked to have
done the same work. Written with ``holoscan`` imports; run it on holoflow with the ``holoscan``
shim first on ``PYTHONPATH`` (``_holoscan_shim.py``, as ``flow_control.py`` does).

Usage: python holoscan_flow_loop.py N [greedy|event|multi]
Prints one line: ``FLOWLOOP {"messages": ..., "msgs_per_s": ..., "checksum": ..., ...}``.
"""

import json
import sys
import time

from holoscan.conditions import CountCondition
from holoscan.core import Application, Operator
from holoscan.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
SCHEDULER = sys.argv[2] if len(sys.argv) > 2 else "greedy"
FIRST_SEED = 27
MASK = (1 << 64) - 1


class Source(Operator):
    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(FIRST_SEED, "out")


class Router(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        self.value = op_input.receive("in")
        op_output.emit(self.value, "out")


class Even(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(op_input.receive("in") // 2, "out")


class Odd(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(3 * op_input.receive("in") + 1, "out")


class Join(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def start(self):
        self.count = 0
        self.evens = 0
        self.seed = FIRST_SEED
        self.checksum = 1469598103934665603

    def compute(self, op_input, op_output, context):
        value = op_input.receive("in")
        self.count += 1
        self.evens += value % 2 == 0
        self.checksum = ((self.checksum ^ value) * 1099511628211) & MASK
        if value == 1:
            self.seed += 1
            value = self.seed
        op_output.emit(value, "out")


class FlowLoop(Application):
    def compose(self):
        source = Source(self, CountCondition(self, 1), name="source")
        router = Router(self, name="router")
        even = Even(self, name="even")
        odd = Odd(self, name="odd")
        self.join = join = Join(self, name="join")
        self.add_flow(source, router)
        self.add_flow(router, even)
        self.add_flow(router, odd)
        self.add_flow(even, join)
        self.add_flow(odd, join)
        self.add_flow(join, router)

        def route_by_parity(op):
            op.add_dynamic_flow(even if op.value % 2 == 0 else odd)

        def loop_until_done(op):
            if op.count < N:
                op.add_dynamic_flow(router)

        self.set_dynamic_flows(router, route_by_parity)
        self.set_dynamic_flows(join, loop_until_done)


def main():
    app = FlowLoop()
    if SCHEDULER == "event":
        app.scheduler(EventBasedScheduler(app, worker_thread_number=2, name="s"))
    elif SCHEDULER == "multi":
        app.scheduler(MultiThreadScheduler(app, worker_thread_number=2, name="s"))
    else:
        app.scheduler(GreedyScheduler(app, name="s"))
    t0 = time.perf_counter()
    app.run()
    wall = time.perf_counter() - t0
    join = app.join
    result = {
        "scheduler": SCHEDULER,
        "messages": join.count,
        "evens": join.evens,
        "last_seed": join.seed,
        "checksum": f"{join.checksum:016x}",
        "msgs_per_s": join.count / wall,
        "wall_s": wall,
    }
    print("FLOWLOOP " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
