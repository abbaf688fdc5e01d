"""Graph API under Holoscan 4.6's names: connectivity maps and ``port_map_description()``,
compared with text Holoscan 4.6 printed for the same graphs."""

from __future__ import annotations

import itertools

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import holoflow
from holoflow import flow_graphs
from holoflow.conditions import CountCondition
from holoflow.core import (
    Application,
    FlowGraph,
    Fragment,
    FragmentFlowGraph,
    FragmentGraph,
    Graph,
    IOSpec,
    Operator,
    OperatorFlowGraph,
    OperatorGraph,
    Subgraph,
)
from holoflow.errors import GraphError


class Tx(Operator):
    def setup(self, spec):
        spec.output("out")


class Rx(Operator):
    def setup(self, spec):
        spec.input("in")


class Fwd(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.output("out")


class Fork(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.output("out-1")
        spec.output("out-2")


class Join(Operator):
    def setup(self, spec):
        spec.input("in-1")
        spec.input("in-2")
        spec.output("out")


class MultiRx(Operator):
    def setup(self, spec):
        spec.input("receivers", size=IOSpec.ANY_SIZE)


def basic_app():
    """Holoscan's test_port_map_description graph: tx → fork ⇉ join → rx, and tx → rx."""
    app = Application([])
    tx, fork, join, rx = (
        Tx(app, name="tx"),
        Fork(app, name="fork"),
        Join(app, name="join"),
        Rx(app, name="rx"),
    )
    app.add_flow(tx, fork)
    app.add_flow(tx, rx)
    app.add_flow(fork, join, {("out-1", "in-1"), ("out-2", "in-2")})
    app.add_flow(join, rx, {("out", "in")})
    return app


# Holoscan 4.6's output for basic_app() (app.graph.port_map_description()).
BASIC = """\
input_to_output:
  fork.in:
    - tx.out
  join.in-1:
    - fork.out-1
  join.in-2:
    - fork.out-2
  rx.in:
    - join.out
    - tx.out
output_to_input:
  fork.out-1:
    - join.in-1
  fork.out-2:
    - join.in-2
  join.out:
    - rx.in
  tx.out:
    - fork.in
    - rx.in"""


def test_the_holoscan_4_6_names_are_holoflows_graph_classes():
    app = Application([])
    for cls in (
        OperatorFlowGraph,
        FlowGraph,
        Graph,
        OperatorGraph,
        flow_graphs.OperatorFlowGraph,
        flow_graphs.OperatorFlowGraphImpl,
        flow_graphs.FlowGraphImpl,
    ):
        assert isinstance(app.graph, cls)
    for cls in (
        FragmentFlowGraph,
        FragmentGraph,
        flow_graphs.FragmentFlowGraph,
        flow_graphs.FragmentFlowGraphImpl,
    ):
        assert isinstance(app.fragment_graph, cls)
    assert holoflow.flow_graphs is flow_graphs


def test_port_map_description_matches_holoscan():
    app = basic_app()
    assert app.graph.port_map_description() == BASIC
    assert app.graph.get_port_connectivity_maps() == (
        {
            "fork.in": ["tx.out"],
            "join.in-1": ["fork.out-1"],
            "join.in-2": ["fork.out-2"],
            "rx.in": ["join.out", "tx.out"],
        },
        {
            "fork.out-1": ["join.in-1"],
            "fork.out-2": ["join.in-2"],
            "join.out": ["rx.in"],
            "tx.out": ["fork.in", "rx.in"],
        },
    )


def test_an_empty_graph_is_described_with_nulls():
    # Holoscan 4.6's output for an application with no flows.
    app = Application([])
    app.add_operator(Tx(app, name="lonely"))
    assert app.graph.port_map_description() == "input_to_output: ~\noutput_to_input: ~"
    assert app.graph.get_port_connectivity_maps() == ({}, {})


def test_a_named_fragment_prefixes_its_ports():
    # Holoscan 4.6's output for tx → rx in an application named "myapp".
    app = Application([], name="myapp")
    app.add_flow(Tx(app, name="tx"), Rx(app, name="rx"))
    assert app.graph.port_map_description() == (
        "input_to_output:\n  myapp.rx.in:\n    - myapp.tx.out\n"
        "output_to_input:\n  myapp.tx.out:\n    - myapp.rx.in"
    )


def test_any_size_inputs_are_numbered_per_connection():
    app = Application([])
    rx = MultiRx(app, name="rx")
    txs = [Tx(app, name=f"t{i}") for i in range(12)]
    for tx in txs:
        app.add_flow(tx, rx, {("out", "receivers")})
    to_output, to_input = app.graph.get_port_connectivity_maps()
    assert to_output["rx.receivers:10"] == ["t10.out"]
    assert to_input["t3.out"] == ["rx.receivers:3"]
    # sorted as strings, as Holoscan sorts them
    assert list(to_output)[:3] == ["rx.receivers:0", "rx.receivers:1", "rx.receivers:10"]
    assert app.graph.get_port_map(txs[2], rx) == {"out": {"receivers:2"}}


class PingTxSubgraph(Subgraph):
    def compose(self):
        tx = Tx(self, CountCondition(self, 8), name="transmitter")
        fwd = Fwd(self, name="forwarding")
        self.add_flow(tx, fwd, {("out", "in")})
        self.add_output_interface_port("data_out", fwd, "out")


class MultiPingRxSubgraph(Subgraph):
    def compose(self):
        rx = MultiRx(self, name="multi_receiver")
        self.add_operator(rx)
        self.add_input_interface_port("data_in", rx, "receivers")


# Holoscan 4.6's output for its examples/subgraph/ping_multi_receiver/python/subgraph_ping.py.
SUBGRAPH_PING = """\
input_to_output:
  multi_rx_multi_receiver.receivers:0:
    - tx1_forwarding.out
  multi_rx_multi_receiver.receivers:1:
    - tx2.out
  multi_rx_multi_receiver.receivers:2:
    - tx3_forwarding.out
  multi_rx_multi_receiver.receivers:3:
    - tx4_forwarding.out
  tx1_forwarding.in:
    - tx1_transmitter.out
  tx3_forwarding.in:
    - tx3_transmitter.out
  tx4_forwarding.in:
    - tx4_transmitter.out
output_to_input:
  tx1_forwarding.out:
    - multi_rx_multi_receiver.receivers:0
  tx1_transmitter.out:
    - tx1_forwarding.in
  tx2.out:
    - multi_rx_multi_receiver.receivers:1
  tx3_forwarding.out:
    - multi_rx_multi_receiver.receivers:2
  tx3_transmitter.out:
    - tx3_forwarding.in
  tx4_forwarding.out:
    - multi_rx_multi_receiver.receivers:3
  tx4_transmitter.out:
    - tx4_forwarding.in"""


def test_subgraph_graph_description_matches_holoscan():
    app = Application([])
    tx1 = PingTxSubgraph(app, "tx1")
    tx2 = Tx(app, CountCondition(app, 8), name="tx2")
    tx3, tx4 = PingTxSubgraph(app, "tx3"), PingTxSubgraph(app, "tx4")
    rx = MultiPingRxSubgraph(app, "multi_rx")
    app.add_flow(tx1, rx, {("data_out", "data_in")})
    app.add_flow(tx2, rx, {("out", "data_in")})
    app.add_flow(tx3, rx, {("data_out", "data_in")})
    app.add_flow(tx4, rx, {("data_out", "data_in")})
    assert app.graph.port_map_description() == SUBGRAPH_PING


class Step(Operator):
    pass


class SequentialSubgraph(Subgraph):
    def compose(self):
        node2, node3 = Step(self, name="node2"), Step(self, name="node3")
        self.add_flow(node2, node3)
        self.add_input_exec_interface_port("exec_in", node2)
        self.add_output_exec_interface_port("exec_out", node3)


# Holoscan 4.6's output for its examples/flow_control/sequential_with_subgraph graph.
SEQUENTIAL = """\
input_to_output:
  node1.__input_exec__:
    - <|start|>.__output_exec__
  node4.__input_exec__:
    - sequential_sg_node3.__output_exec__
  sequential_sg_node2.__input_exec__:
    - node1.__output_exec__
  sequential_sg_node3.__input_exec__:
    - sequential_sg_node2.__output_exec__
output_to_input:
  <|start|>.__output_exec__:
    - node1.__input_exec__
  node1.__output_exec__:
    - sequential_sg_node2.__input_exec__
  sequential_sg_node2.__output_exec__:
    - sequential_sg_node3.__input_exec__
  sequential_sg_node3.__output_exec__:
    - node4.__input_exec__"""


def test_control_flows_through_a_subgraph_are_described_like_holoscan():
    app = Application([])
    node1, node4 = Step(app, name="node1"), Step(app, name="node4")
    sequential = SequentialSubgraph(app, name="sequential_sg")
    app.add_flow(app.start_op(), node1)
    app.add_flow(node1, sequential)
    app.add_flow(sequential, node4)
    assert app.graph.port_map_description() == SEQUENTIAL


# Holoscan 4.6's output for a chain of operators with these names (plain → "a: b" → ... → "x #y").
QUOTED_NAMES = ["plain", "a: b", "#hash", "-dash", "x&y", "tab\there", "ünï", "[list", "x #y"]
QUOTED = "\n".join(
    [
        "input_to_output:",
        '  "#hash.in":',
        '    - "a: b.out"',
        "  -dash.in:",
        '    - "#hash.out"',
        '  "[list.in":',
        "    - ünï.out",
        '  "a: b.in":',
        "    - plain.out",
        '  "tab\\there.in":',
        '    - "x&y.out"',
        '  "x #y.in":',
        '    - "[list.out"',
        '  "x&y.in":',
        "    - -dash.out",
        "  ünï.in:",
        '    - "tab\\there.out"',
        "output_to_input:",
        '  "#hash.out":',
        "    - -dash.in",
        "  -dash.out:",
        '    - "x&y.in"',
        '  "[list.out":',
        '    - "x #y.in"',
        '  "a: b.out":',
        '    - "#hash.in"',
        "  plain.out:",
        '    - "a: b.in"',
        '  "tab\\there.out":',
        "    - ünï.in",
        '  "x&y.out":',
        '    - "tab\\there.in"',
        "  ünï.out:",
        '    - "[list.in"',
    ]
)


def chain(names):
    app = Application([])
    ops = [Fwd(app, name=name) for name in names]
    for upstream, downstream in itertools.pairwise(ops):
        app.add_flow(upstream, downstream)
    return app


def test_names_are_quoted_as_holoscan_quotes_them():
    assert chain(QUOTED_NAMES).graph.port_map_description() == QUOTED


# Holoscan 4.6's output (yaml-cpp writes a key over 1024 bytes as "? key" / ": - value") for
# src -> fork (named "é" * 511) -> src and fork -> "é" * 510 + "x", the names shortened to {L} and {S}.
LONG_KEYS = """\
input_to_output:
  src.in:
    - {L}.out-2
  {S}.in:
    - {L}.out-1
  ? {L}.in
  : - src.out
output_to_input:
  src.out:
    - {L}.in
  ? {L}.out-1
  : - {S}.in
  ? {L}.out-2
  : - src.in"""


def test_keys_over_1024_bytes_take_the_explicit_form():
    long, short = "é" * 511, "é" * 510 + "x"  # with ".in": 1025 and 1024 bytes
    app = Application([])
    fork, fwd, src = Fork(app, name=long), Fwd(app, name=short), Fwd(app, name="src")
    app.add_flow(src, fork)
    app.add_flow(fork, fwd, {("out-1", "in")})
    app.add_flow(fork, src, {("out-2", "in")})
    assert app.graph.port_map_description() == LONG_KEYS.replace("{L}", long).replace("{S}", short)


TEXT = st.text(
    st.characters(min_codepoint=0x09, max_codepoint=0x2FF, exclude_characters="\x0b\x0c\r\x85").filter(
        lambda c: c in "\t\n" or not (c < " " or "\x7f" <= c <= "\xa0")
    ),
    min_size=1,
    max_size=8,
)


@settings(deadline=None)
@given(names=st.lists(TEXT, min_size=2, max_size=6, unique=True))
def test_the_description_is_yaml_that_reads_back_as_the_maps(names):
    """Whatever the names, a YAML reader that keeps every scalar a string gets the maps back."""
    graph = chain(names).graph
    to_output, to_input = graph.get_port_connectivity_maps()
    loaded = yaml.load(graph.port_map_description(), Loader=yaml.BaseLoader)
    assert loaded == {"input_to_output": to_output, "output_to_input": to_input}


def test_remove_node_drops_its_connections():
    app = basic_app()
    fork = app.graph.find_node("fork")
    app.graph.remove_node(fork)
    assert [op.name for op in app.graph.get_nodes()] == ["tx", "rx", "join"]
    assert app.graph.get_port_connectivity_maps()[0] == {"rx.in": ["join.out", "tx.out"]}
    app.graph.remove_node(fork)  # absent: nothing happens
    assert len(app.graph) == 3


def test_an_application_has_an_empty_fragment_graph():
    # Holoscan 4.6 leaves a single-fragment application's fragment graph empty.
    app = basic_app()
    assert app.fragment_graph.get_nodes() == []
    assert app.fragment_graph.port_map_description() == "input_to_output: ~\noutput_to_input: ~"


# Holoscan 4.6's output for its distributed test application (fragments "source" and "sink").
DISTRIBUTED = """\
input_to_output:
  sink.join.in-1:
    - source.fork.out-1
  sink.join.in-2:
    - source.fork.out-2
  sink.rx.in:
    - source.tx.out
output_to_input:
  source.fork.out-1:
    - sink.join.in-1
  source.fork.out-2:
    - sink.join.in-2
  source.tx.out:
    - sink.rx.in"""


def test_a_fragment_graph_built_by_hand_is_described_like_holoscan():
    app = Application([])
    source, sink = Fragment(app, "source"), Fragment(app, "sink")
    graph = FragmentFlowGraph()
    graph.add_flow(source, sink, {("tx.out", "rx.in")})
    graph.add_flow(source, sink, {("fork.out-1", "join.in-1"), ("fork.out-2", "join.in-2")})
    assert graph.port_map_description() == DISTRIBUTED
    assert graph.get_nodes() == [source, sink]
    assert graph.get_root_nodes() == [source]
    assert (graph.is_root(source), graph.is_leaf(source), graph.is_leaf(sink)) == (True, False, True)
    assert graph.get_next_nodes(source) == [sink]
    assert graph.get_previous_nodes(sink) == [source]
    assert graph.find_node("sink") is sink
    assert graph.get_port_map(source, sink) == {
        "fork.out-1": {"join.in-1"},
        "fork.out-2": {"join.in-2"},
        "tx.out": {"rx.in"},
    }
    with pytest.raises(GraphError, match="duplicate fragment name 'sink'"):
        graph.add_node(Fragment(app, "sink"))
    graph.remove_node(sink)
    assert (graph.get_nodes(), len(graph)) == ([source], 1)
    assert graph.get_port_connectivity_maps() == ({}, {})
