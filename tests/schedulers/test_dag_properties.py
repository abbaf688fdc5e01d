"""Property: on random DAGs with random queue capacities, every message arrives once, in order."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holoflow.conditions import CountCondition
from holoflow.core import Application, IOSpec, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler


@st.composite
def dags(draw):
    """Node i may take inputs from nodes < i; nodes without parents are sources."""
    n = draw(st.integers(2, 7))
    parents = {0: []}
    for i in range(1, n):
        k = draw(st.integers(0, min(i, 3)))
        parents[i] = sorted(draw(st.sets(st.integers(0, i - 1), min_size=k, max_size=k)))
    capacities = {(p, i): draw(st.integers(1, 3)) for i in range(n) for p in parents[i]}
    any_size = {i: draw(st.booleans()) for i in range(n)}
    count = draw(st.integers(0, 12))
    return n, parents, capacities, any_size, count


class Node(Operator):
    """Emits (index, seq) after receiving one message from every parent."""

    def __init__(self, fragment, index, parents, capacities, any_size, *args, **kwargs):
        self.index, self.parents, self.capacities = index, parents, capacities
        self.any_size = any_size and bool(parents)
        self.emitted, self.received = [], {p: [] for p in parents}
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        if self.any_size:
            port = spec.input("in", size=IOSpec.ANY_SIZE)
            port.connector(
                IOSpec.ConnectorType.DOUBLE_BUFFER,
                capacity=max(self.capacities[(p, self.index)] for p in self.parents),
            )
        else:
            for p in self.parents:
                spec.input(f"in{p}").connector(
                    IOSpec.ConnectorType.DOUBLE_BUFFER, capacity=self.capacities[(p, self.index)]
                )
        spec.output("out")

    def compute(self, op_input, op_output, context):
        if self.any_size:
            values = op_input.receive("in")
            assert len(values) == len(self.parents)
            for p, value in zip(self.parents, values):
                self.received[p].append(value)
        else:
            for p in self.parents:
                self.received[p].append(op_input.receive(f"in{p}"))
        token = (self.index, len(self.emitted))
        self.emitted.append(token)
        op_output.emit(token, "out")


def build(n, parents, capacities, any_size, count):
    class DagApp(Application):
        def compose(self):
            self.nodes = []
            for i in range(n):
                extra = [] if parents[i] else [CountCondition(self, count)]
                node = Node(self, i, parents[i], capacities, any_size[i], *extra, name=f"n{i}")
                self.nodes.append(node)
                self.add_operator(node)
            for i in range(n):
                for p in parents[i]:
                    port = "in" if self.nodes[i].any_size else f"in{p}"
                    self.add_flow(self.nodes[p], self.nodes[i], {("out", port)})

    return DagApp([])


def check_delivery(app, n, parents, count):
    for i in range(n):
        node = app.nodes[i]
        assert len(node.emitted) == count, (i, len(node.emitted))
        for p in parents[i]:
            assert node.received[p] == app.nodes[p].emitted, (p, i)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(dag=dags(), workers=st.integers(1, 3))
def test_every_message_delivered_once_in_order(scheduler_kind, dag, workers):
    n, parents, capacities, any_size, count = dag
    app = build(*dag)
    if scheduler_kind == "greedy":
        app.scheduler(GreedyScheduler(app))
    elif scheduler_kind == "multi":
        app.scheduler(MultiThreadScheduler(app, worker_thread_number=workers))
    else:
        app.scheduler(EventBasedScheduler(app, worker_thread_number=workers))
    app.run()
    check_delivery(app, n, parents, count)
