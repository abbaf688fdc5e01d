"""``Fragment.to_dot()``: every operator and edge, with what the run builds for each queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import (
    Application,
    Condition,
    ConditionType,
    Fragment,
    IOSpec,
    MessageAvailableCondition,
    Operator,
    OrConditionCombiner,
    SchedulingStatusType,
    Subgraph,
)
from holoflow.core.run import GraphRun
from holoflow.errors import GraphError
from holoflow.resources import UnboundedAllocator

from ._dot import read_dot
from ._support import HAS_DOT, Pass, Sink, Source, graphviz_check

DEFAULT_RX = "rx MessageAvailable(min_size=1)"
DEFAULT_TX = "tx DownstreamMessageAffordable(min_size=1)"


def _read(app) -> object:
    dot = app.to_dot()
    if HAS_DOT:
        graphviz_check(dot)
    return read_dot(dot)


class Chain(Application):
    def compose(self):
        tx = Source(self, CountCondition(self, 10), name="tx")
        mid = Pass(self, name="mid")
        rx = Sink(self, name="rx")
        self.add_flow(tx, mid)
        self.add_flow(mid, rx)


def test_chain_every_operator_and_edge_with_its_queue():
    dot = _read(Chain([]))
    assert dot.name == "Chain" and dot.graph["label"] == "Chain"
    assert sorted((n.name, n.cls) for n in dot.nodes.values()) == [
        ("mid", "Pass"),
        ("rx", "Sink"),
        ("tx", "Source"),
    ]
    tx = dot.node_named("tx")
    assert tx.outputs == {"o_out": "out"} and tx.inputs == {}
    assert tx.details == ["count_condition: CountCondition(count=10)"]
    assert dot.node_named("mid").inputs == {"i_in": "in"}
    assert dot.port_edges() == {("tx", "out", "mid", "in"), ("mid", "out", "rx", "in")}
    for edge in dot.edges:
        assert edge.label == ["capacity 1, FAULT", DEFAULT_RX, DEFAULT_TX]
        assert "style" not in edge.attrs


class FanOutFanIn(Application):
    """One source feeding three branches that join at an ANY_SIZE, a PRECEDING_COUNT and a
    size-2 input."""

    def compose(self):
        tx = Source(self, CountCondition(self, 4), name="tx")
        branches = [Pass(self, name=f"branch{i}") for i in range(3)]
        any_size = Sink(self, size=IOSpec.ANY_SIZE, name="any")
        preceding = Sink(self, size=IOSpec.PRECEDING_COUNT, name="preceding")
        batch = Sink(self, size=2, name="batch")
        for branch in branches:
            self.add_flow(tx, branch)
        for branch in reversed(branches):  # the ANY_SIZE queues are numbered in this order
            self.add_flow(branch, any_size)
            self.add_flow(branch, preceding)
        self.add_flow(branches[0], batch)


def test_fan_out_and_fan_in_name_each_queue_and_its_conditions():
    dot = _read(FanOutFanIn([]))
    edges = {(e.source, e.target): e.label for e in dot.edges}
    assert len(dot.edges) == 3 + 3 + 3 + 1
    for i in range(3):
        assert edges[("tx", f"branch{i}")] == ["capacity 1, FAULT", DEFAULT_RX, DEFAULT_TX]
        # ANY_SIZE: one queue per connection, named by the order of add_flow (branch2 first)
        assert edges[(f"branch{i}", "any")] == [f"in:{2 - i}, capacity 1, FAULT", DEFAULT_RX, DEFAULT_TX]
        # PRECEDING_COUNT: one queue holding one message per connection, waited on as a whole
        assert edges[(f"branch{i}", "preceding")] == [
            "capacity 3, FAULT",
            "rx MessageAvailable(min_size=3)",
            DEFAULT_TX,
        ]
    assert edges[("branch0", "batch")] == ["capacity 2, FAULT", "rx MessageAvailable(min_size=2)", DEFAULT_TX]
    assert dot.node_named("any").inputs == {"i_in": "in [ANY_SIZE]"}
    assert dot.node_named("preceding").inputs == {"i_in": "in [PRECEDING_COUNT]"}
    assert dot.node_named("batch").inputs == {"i_in": "in [size 2]"}
    assert dot.port_edges() == {
        *(("tx", "out", f"branch{i}", "in") for i in range(3)),
        *((f"branch{i}", "out", sink, "in") for i in range(3) for sink in ("any", "preceding")),
        ("branch0", "out", "batch", "in"),
    }


class Loop(Operator):
    """``in`` (which waits for nothing) and ``feedback`` (the loop's way back) → ``out``."""

    def setup(self, spec):
        spec.input("in")
        spec.input("feedback").condition(ConditionType.NONE)
        spec.output("out")


class Cycles(Application):
    """A data cycle (head → body → head) and a control-flow cycle (start → a → b → a)."""

    def compose(self):
        src = Source(self, CountCondition(self, 3), name="src")
        head, body = Loop(self, name="head"), Pass(self, name="body")
        self.add_flow(src, head, {("out", "in")})
        self.add_flow(head, body)
        self.add_flow(body, head, {("out", "feedback")})
        a = Operator(self, CountCondition(self, 3), name="a")
        b = Operator(self, name="b")
        self.add_flow(self.start_op(), a)
        self.add_flow(a, b)
        self.add_flow(b, a)


def test_cycles_draw_both_ways_and_control_flows_dashed():
    dot = _read(Cycles([]))
    edges = {(e.source, e.target): e for e in dot.edges}
    assert edges[("body", "head")].label == ["capacity 1, FAULT", "rx none", DEFAULT_TX]
    assert edges[("head", "body")].label == ["capacity 1, FAULT", DEFAULT_RX, DEFAULT_TX]
    start = "<|start|>"
    assert dot.nodes[start].name == start and dot.nodes[start].cls == "Operator"
    control = {key for key, edge in edges.items() if edge.attrs.get("style") == "dashed"}
    assert control == {(start, "a"), ("a", "b"), ("b", "a")}
    # a sits on a cycle: one signal (of its two control flows) is enough for it to run
    assert edges[(start, "a")].label == ["capacity 1, FAULT", DEFAULT_RX, DEFAULT_TX]
    assert edges[("a", "b")].label == ["capacity 1, FAULT", DEFAULT_RX, DEFAULT_TX]
    assert dot.node_named("a").inputs == {"i___input_exec__": "__input_exec__ [PRECEDING_COUNT]"}
    assert dot.port_edges() >= {
        ("body", "out", "head", "feedback"),
        (start, "__output_exec__", "a", "__input_exec__"),
        ("b", "__output_exec__", "a", "__input_exec__"),
    }


def test_a_self_loop_of_control_flow_has_no_downstream_condition():
    class SelfLoop(Application):
        def compose(self):
            op = Operator(self, CountCondition(self, 2), name="again")
            self.add_flow(self.start_op(), op)
            self.add_flow(op, op)

    edges = {(e.source, e.target): e.label for e in _read(SelfLoop([])).edges}
    assert edges[("again", "again")] == ["capacity 1, FAULT", DEFAULT_RX]


class Sensor(Fragment):
    def compose(self):
        self.add_operator(Source(self, CountCondition(self, 5), name="tx"))


class Compute(Fragment):
    def compose(self):
        local = Source(self, CountCondition(self, 5), name="local")
        merge = Sink(self, size=IOSpec.ANY_SIZE, name="merge")
        self.add_flow(local, merge)
        self.add_operator(Sink(self, name="rx"))


class Distributed(Application):
    def compose(self):
        sensor, compute = Sensor(self, name="sensor"), Compute(self, name="compute")
        self.add_flow(sensor, compute, {("tx", "rx"), ("tx.out", "merge.in")})


def test_fragments_are_clusters_and_their_connections_bold_edges():
    dot = _read(Distributed([]))
    clusters = {attrs["label"] for attrs in dot.clusters.values()}
    assert clusters == {"fragment compute (Compute)", "fragment sensor (Sensor)"}
    assert {n.id for n in dot.nodes.values()} == {"sensor.tx", "compute.local", "compute.merge", "compute.rx"}
    assert dot.clusters[dot.nodes["sensor.tx"].cluster]["label"] == "fragment sensor (Sensor)"
    edges = {(e.source, e.target): e for e in dot.edges}
    local = edges[("compute.local", "compute.merge")]
    assert local.cluster == dot.nodes["compute.merge"].cluster and "color" not in local.attrs
    assert local.label == ["in:0, capacity 1, FAULT", DEFAULT_RX, DEFAULT_TX]
    # the bare "tx" and "rx" name their only ports; a merge queue from another fragment comes
    # after the local ones
    link = edges[("sensor.tx", "compute.merge")]
    assert link.cluster is None and link.attrs["style"] == "bold"
    assert link.label == ["between fragments", "in:1, capacity 1, FAULT", DEFAULT_RX, DEFAULT_TX]
    assert edges[("sensor.tx", "compute.rx")].label == [
        "between fragments",
        "capacity 1, FAULT",
        DEFAULT_RX,
        DEFAULT_TX,
    ]
    assert dot.port_edges() == {
        ("local", "out", "merge", "in"),
        ("tx", "out", "merge", "in"),
        ("tx", "out", "rx", "in"),
    }


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        (("nope.out", "rx"), "fragment 'sensor' has no operator 'nope'"),
        (("tx.data", "rx"), "operator 'tx' has no output port 'data'"),
        (("tx", "rx.other"), "fragment 'compute': operator 'rx' has no input port 'other'"),
    ],
)
def test_a_fragment_connection_naming_nothing_is_a_graph_error(pair, message):
    class Wrong(Application):
        def compose(self):
            self.add_flow(Sensor(self, name="sensor"), Compute(self, name="compute"), {pair})

    with pytest.raises(GraphError, match=message):
        Wrong([]).to_dot()


class Conditions(Application):
    """Declared, bound, multi-port, OR-combined and absent port conditions; queue settings."""

    def compose(self):
        class Many(Operator):
            def setup(self, spec):
                spec.input("a").condition(
                    ConditionType.EXPIRING_MESSAGE_AVAILABLE, max_batch_size=4, max_delay_ns=1000
                )
                spec.input("b", policy=IOSpec.QueuePolicy.POP).connector(
                    IOSpec.ConnectorType.DOUBLE_BUFFER, capacity=5
                )
                spec.input("c")
                spec.input("d")
                spec.input("e")
                spec.input("f")
                spec.multi_port_condition(ConditionType.MULTI_MESSAGE_AVAILABLE, ["c", "d"], min_sum=2)
                spec.or_combine_port_conditions(["e", "f"])

        sources = {port: Source(self, CountCondition(self, 1), name=f"to_{port}") for port in "abcdef"}
        many = Many(
            self,
            MessageAvailableCondition(self, min_size=1, receiver="e", name="e_ready"),
            UnboundedAllocator(self, name="pool"),
            PeriodicCondition(self, 0.25, name="pace"),
            name="many",
        )
        for port, source in sources.items():
            self.add_flow(source, many, {("out", port)})


def test_each_port_shows_the_conditions_the_run_builds():
    dot = _read(Conditions([]))
    labels = {e.source: e.label for e in dot.edges}
    assert labels["to_a"] == [
        "capacity 1, FAULT",
        "rx ExpiringMessageAvailable(max_batch_size=4, max_delay_ns=1000)",
        DEFAULT_TX,
    ]
    assert labels["to_b"] == ["capacity 5, POP", DEFAULT_RX, DEFAULT_TX]
    for port in "cd":
        assert labels[f"to_{port}"] == [
            "capacity 1, FAULT",
            "rx MultiMessageAvailable(ports=c+d, min_sum=2)",
            DEFAULT_TX,
        ]
    assert labels["to_e"] == [
        "capacity 1, FAULT",
        "rx e_ready: MessageAvailableCondition(min_size=1, front_stage_max_size=1) [OR]",
        DEFAULT_TX,
    ]
    assert labels["to_f"] == ["capacity 1, FAULT", f"{DEFAULT_RX} [OR]", DEFAULT_TX]
    # e_ready watches a connected port: its edge shows it, the node does not repeat it
    assert dot.node_named("many").details == [
        "pace: PeriodicCondition(recess_period=250000000ns, policy=CATCH_UP_MISSED_TICKS)",
        "pool: UnboundedAllocator()",
        "OR(e, f)",
    ]


def test_the_environment_sets_the_default_policy(monkeypatch):
    monkeypatch.setenv("HOLOFLOW_QUEUE_POLICY", "reject")
    assert {tuple(e.label[:1]) for e in _read(Chain([])).edges} == {("capacity 1, REJECT",)}
    monkeypatch.setenv("HOLOFLOW_QUEUE_POLICY", "sideways")
    with pytest.raises(GraphError, match="queue policy 'sideways'"):
        Chain([]).to_dot()


def test_output_conditions_and_async_buffers():
    class Bound(Application):
        def compose(self):
            class Out(Operator):
                def setup(self, spec):
                    spec.output("out").condition(ConditionType.DOWNSTREAM_MESSAGE_AFFORDABLE, min_size=2)
                    spec.output("fast")

            src = Out(self, CountCondition(self, 1), name="src")
            self.add_flow(src, Sink(self, name="slow"), {("out", "in")})
            self.add_flow(src, Sink(self, name="latest"), {("fast", "in")}, IOSpec.ConnectorType.ASYNC_BUFFER)

    dot = _read(Bound([]))
    labels = {e.target: e.label for e in dot.edges}
    assert labels["slow"] == ["capacity 1, FAULT", DEFAULT_RX, "tx DownstreamMessageAffordable(min_size=2)"]
    assert labels["latest"] == ["async buffer (latest message)"]
    assert dot.node_named("latest").inputs == {"i_in": "in [async]"}


def test_an_application_of_one_operator_and_an_empty_one():
    class One(Application):
        def compose(self):
            self.add_operator(Operator(self, CountCondition(self, 1), name="only"))

    dot = _read(One([]))
    assert [n.name for n in dot.nodes.values()] == ["only"] and dot.edges == []
    empty = _read(Application([]))
    assert empty.nodes == {} and empty.edges == []


def test_a_named_application_and_a_plain_fragment():
    app = Chain([])
    app.name = "demo"
    assert read_dot(app.to_dot()).graph["label"] == "demo (Chain)"
    fragment = Sensor(Application([]), name="sensor")
    dot = read_dot(fragment.to_dot())
    assert dot.name == "sensor (Sensor)" and [n.id for n in dot.nodes.values()] == ["tx"]


@pytest.mark.parametrize("app_class", [Chain, FanOutFanIn, Cycles, Conditions])
def test_capacity_and_policy_are_those_of_the_run_built_from_the_graph(app_class):
    """The first line of each edge's label against the receiver a run builds for it."""
    app = app_class([])
    labels = {
        (e.source, e.target, e.label[0].partition(", ")[0] if ":" in e.label[0] else ""): e.label[0]
        for e in _read(app).edges
    }
    run = GraphRun(app)
    by_name = {op_run.op.name: op_run for op_run in run.ops}
    seen = set()
    for connection in app.graph.connections:
        target = by_name[connection.target.name]
        receivers = target.input_ports[connection.input].receivers
        same = [
            c for c in app.graph.connections if c.target is connection.target and c.input == connection.input
        ]
        queue = ""
        if connection.target.spec.inputs[connection.input].queue_size == IOSpec.ANY_SIZE:
            index = same.index(connection)
            receivers, queue = [receivers[index]], f"{connection.input}:{index}"
        (receiver,) = receivers
        text = f"capacity {receiver.capacity}, {receiver.policy.name}"
        key = (connection.source.name, connection.target.name, queue)
        assert labels[key] == (f"{queue}, {text}" if queue else text), key
        seen.add(key)
    assert seen == set(labels)


def test_a_condition_on_an_unconnected_port_stays_in_the_node():
    class Idle(Application):
        def compose(self):
            class Two(Operator):
                def setup(self, spec):
                    spec.input("used")
                    spec.input("spare").condition(ConditionType.NONE)

            two = Two(
                self, MessageAvailableCondition(self, min_size=2, receiver="spare", name="later"), name="two"
            )
            self.add_flow(Source(self, CountCondition(self, 1), name="src"), two, {("out", "used")})

    dot = _read(Idle([]))
    assert dot.node_named("two").details == [
        "later: MessageAvailableCondition(min_size=2, front_stage_max_size=1)"
    ]
    assert dot.node_named("two").inputs == {"i_spare": "spare", "i_used": "used"}


def test_an_or_combiner_and_its_port_terms():
    class Either(Application):
        def compose(self):
            class Two(Operator):
                def setup(self, spec):
                    spec.input("a")
                    spec.input("b")

            terms = [
                MessageAvailableCondition(self, min_size=1, receiver="a", name="a_ready"),
                MessageAvailableCondition(self, min_size=2, receiver="b", name="b_ready"),
            ]
            two = Two(self, OrConditionCombiner(self, terms, name="either"), name="two")
            for port in "ab":
                self.add_flow(Source(self, CountCondition(self, 1), name=f"to_{port}"), two, {("out", port)})

    dot = _read(Either([]))
    labels = {e.source: e.label for e in dot.edges}
    assert (
        labels["to_a"][1]
        == "rx a_ready: MessageAvailableCondition(min_size=1, front_stage_max_size=1) [OR either]"
    )
    assert (
        labels["to_b"][1]
        == "rx b_ready: MessageAvailableCondition(min_size=2, front_stage_max_size=1) [OR either]"
    )
    assert len(labels["to_a"]) == len(labels["to_b"]) == 3
    assert dot.node_named("two").details == ["either: OrConditionCombiner(terms=[a_ready, b_ready])"]


def test_a_fragment_pair_named_twice_is_one_edge_and_durations_read_back():
    class Gate(Condition):
        def __init__(self, fragment, timeout=timedelta(milliseconds=250), modes=("a", "b"), name="gate"):
            super().__init__(fragment, name=name)
            self.timeout, self.modes = timeout, modes

        def check(self, timestamp):
            return SchedulingStatusType.READY, None

    class GatedSensor(Fragment):
        def compose(self):
            self.add_operator(Source(self, Gate(self), name="tx"))

    class Twice(Application):
        def compose(self):
            self.add_flow(
                GatedSensor(self, name="sensor"),
                Compute(self, name="compute"),
                {("tx", "rx"), ("tx.out", "rx.in")},
            )

    dot = _read(Twice([]))
    assert [(e.source, e.target) for e in dot.edges if e.attrs.get("style") == "bold"] == [
        ("sensor.tx", "compute.rx")
    ]
    assert dot.node_named("tx").details == ["gate: Gate(timeout=0.25s, modes=[a, b])"]


def test_subgraphs_are_dashed_clusters_nested_as_they_are():
    class Stage(Subgraph):
        def compose(self):
            self.work = Pass(self, name="work")
            self.add_operator(self.work)
            self.add_input_interface_port("in", self.work, "in")
            self.add_output_interface_port("out", self.work, "out")

    class Block(Subgraph):
        def compose(self):
            self.first = Stage(self, "first")
            self.inner = Stage(self.first, "inner")
            self.add_flow(self.first, self.inner, {("out", "in")})

    class WithSubgraphs(Application):
        def compose(self):
            block = Block(self, "block")
            self.add_flow(Source(self, CountCondition(self, 1), name="src"), block.first, {("out", "in")})
            self.add_flow(block.inner, Sink(self, name="sink"), {("out", "in")})

    dot = _read(WithSubgraphs([]))
    assert dot.port_edges() == {
        ("src", "out", "block_first_work", "in"),
        ("block_first_work", "out", "block_first_inner_work", "in"),
        ("block_first_inner_work", "out", "sink", "in"),
    }
    labels = {name: attrs["label"] for name, attrs in dot.clusters.items()}
    assert sorted(labels.values()) == [
        "subgraph block (Block)",
        "subgraph block_first (Stage)",
        "subgraph block_first_inner (Stage)",
    ]
    where = {n.name: labels.get(n.cluster or "") for n in dot.nodes.values()}
    assert where == {
        "src": None,
        "sink": None,
        "block_first_work": "subgraph block_first (Stage)",
        "block_first_inner_work": "subgraph block_first_inner (Stage)",
    }
    assert all(attrs["style"] == "dashed" for attrs in dot.clusters.values())
