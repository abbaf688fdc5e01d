"""Port names between fragments: Holoscan's resolution rules and error texts."""

import pytest

from holoflow.core import Application, Fragment, IOSpec, Operator
from holoflow.distributed._ports import OperatorPorts, fragment_ports, resolve_edges, split_port_name
from holoflow.errors import GraphError


def ports(inputs=(), outputs=(), any_size=()):
    return OperatorPorts(frozenset(inputs), frozenset(outputs), frozenset(any_size))


PORTS = {
    "tx_fragment": {
        "tx": ports(outputs=["out"]),
        "multi": ports(outputs=["a", "b"]),
        "sink": ports(inputs=["in"]),
    },
    "rx_fragment": {
        "rx": ports(inputs=["in"]),
        "mix": ports(inputs=["x", "y", "receivers"], any_size=["receivers"]),
        "src": ports(outputs=["out"]),
    },
}


def flow(*pairs):
    port_map = {}
    for out, in_ in pairs:
        port_map.setdefault(out, set()).add(in_)
    return [("tx_fragment", "rx_fragment", port_map)]


def test_split_at_the_first_dot():
    assert split_port_name("op.port.with.dots") == ("op", "port.with.dots")
    assert split_port_name("op") == ("op", "")


def test_bare_operator_names_mean_the_only_port():
    (edge,) = resolve_edges(flow(("tx", "rx")), PORTS)
    assert edge.src == ("tx_fragment", "tx", "out")
    assert edge.dst == ("rx_fragment", "rx", "in")
    assert edge.edge_id == 0
    assert edge.describe() == "tx_fragment.tx.out\u2192rx_fragment.rx.in"


def test_pairs_are_numbered_in_sorted_order_and_duplicates_merge():
    edges = resolve_edges(
        flow(("multi.b", "mix.receivers"), ("multi.a", "mix.receivers"), ("tx", "rx"), ("tx.out", "rx.in")),
        PORTS,
    )
    assert [(e.edge_id, e.src[1:], e.dst[1:]) for e in edges] == [
        (0, ("multi", "a"), ("mix", "receivers")),
        (1, ("multi", "b"), ("mix", "receivers")),
        (2, ("tx", "out"), ("rx", "in")),
    ]


def test_one_output_may_feed_several_inputs():
    edges = resolve_edges(flow(("tx.out", "rx.in"), ("tx.out", "mix.x")), PORTS)
    assert sorted(e.dst[1:] for e in edges) == [("mix", "x"), ("rx", "in")]


@pytest.mark.parametrize(
    ("pair", "text"),
    [
        (
            ("nope.out", "rx.in"),
            "Cannot find source operator 'nope' in fragment 'tx_fragment'. "
            "Operator should be one of (multi, sink, tx)",
        ),
        (
            ("tx.out", "nope"),
            "Cannot find target operator 'nope' in fragment 'rx_fragment'. "
            "Operator should be one of (mix, rx, src)",
        ),
        (
            ("tx.output", "rx.in"),
            "Source operator 'tx' in fragment 'tx_fragment' does not have a port named 'output'. "
            "It should be 'out'.",
        ),
        (
            ("multi.c", "rx.in"),
            "Source operator 'multi' in fragment 'tx_fragment' does not have a port named 'c'. "
            "It should be one of (a, b)",
        ),
        (("multi", "rx.in"), "does not have a port named ''. It should be one of (a, b)"),
        (("sink", "rx.in"), "Source operator 'sink' has no output ports in fragment 'tx_fragment'"),
        (
            ("tx", "rx.input"),
            "Target operator 'rx' in fragment 'rx_fragment' does not have a port named 'input'. "
            "It should be 'in'.",
        ),
        (("tx", "src"), "Target operator 'src' has no input ports in fragment 'rx_fragment'"),
        (("tx", "mix.z"), "It should be one of (receivers, x, y)"),
    ],
)
def test_holoscan_error_texts(pair, text):
    with pytest.raises(GraphError) as info:
        resolve_edges(flow(pair), PORTS)
    assert text in str(info.value)


class Tx(Operator):
    def setup(self, spec):
        spec.output("out")


class Rx(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.input("many", size=IOSpec.ANY_SIZE)


def test_fragment_ports_reads_data_ports_of_a_composed_fragment():
    app = Application(["p"])
    fragment = Fragment(app, "f")
    tx, rx = Tx(fragment, name="tx"), Rx(fragment, name="rx")
    fragment.add_operator(tx)
    fragment.add_operator(rx)
    found = fragment_ports(fragment)
    assert found["tx"] == ports(outputs=["out"])
    assert found["rx"] == ports(inputs=["in", "many"], any_size=["many"])


def test_a_fragment_without_operators_is_an_error():
    app = Application(["p"])
    with pytest.raises(GraphError, match="Fragment 'rx_fragment' does not have any operators"):
        fragment_ports(Fragment(app, "rx_fragment"))


def test_add_flow_between_fragments_needs_pairs():
    app = Application(["p"])
    a, b = Fragment(app, "a"), Fragment(app, "b")
    with pytest.raises(GraphError, match="Unable to add fragment flow with empty port_pairs"):
        app.add_flow(a, b, set())
    with pytest.raises(GraphError, match="Unable to add fragment flow with empty port_pairs"):
        app.add_flow(a, b)
    app.add_flow(a, b, {("tx", "rx")})
    assert app.fragment_graph.get_port_map(a, b) == {"tx": {"rx"}}
    assert [f.name for f in app.fragment_graph.get_nodes()] == ["a", "b"]


def test_fragment_names_are_unique():
    app = Application(["p"])
    app.add_fragment(Fragment(app, "a"))
    with pytest.raises(GraphError, match="duplicate fragment name 'a'"):
        app.add_fragment(Fragment(app, "a"))
