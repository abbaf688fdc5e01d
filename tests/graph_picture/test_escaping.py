"""Names DOT and HTML would misread, the same text whatever the order of composition, and random
graphs read back whole."""

from __future__ import annotations

import itertools
import random
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holoflow.conditions import CountCondition
from holoflow.core import Application, IOSpec, Operator

from ._dot import label_text, read_dot
from ._support import HAS_DOT, graphviz_check, needs_dot

SVG = "{http://www.w3.org/2000/svg}"
NASTY = ['say "hi"', "<b>bold</b>", "{a|b}", "x & y", "back\\slash", "tab\there", "ünï ✓", "a:b", "n", "e"]

NASTY_GRAPH = (
    {name: ([f"in {name}"], [f"out {name}"]) for name in NASTY},
    [(a, f"out {a}", b, f"in {b}") for a, b in itertools.pairwise(NASTY)],
)


class Ports(Operator):
    """Inputs and outputs named by the ``inputs`` and ``outputs`` lists."""

    def __init__(self, fragment, *args, inputs=(), outputs=(), **kwargs):
        self.input_names, self.output_names = list(inputs), list(outputs)
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        for name in self.input_names:
            spec.input(name, size=IOSpec.ANY_SIZE)
        for name in self.output_names:
            spec.output(name)


def _app(
    nodes: dict[str, tuple[list[str], list[str]]], flows: list[tuple[str, str, str, str]]
) -> Application:
    class Drawn(Application):
        def compose(self):
            ops = {
                name: Ports(self, CountCondition(self, 1), inputs=ins, outputs=outs, name=name)
                for name, (ins, outs) in nodes.items()
            }
            for op in ops.values():
                self.add_operator(op)
            for source, output, target, input_ in flows:
                self.add_flow(ops[source], ops[target], {(output, input_)})

    return Drawn([])


def test_names_with_quotes_markup_and_backslashes_come_back_as_written():
    nodes, flows = NASTY_GRAPH
    dot_text = _app(nodes, flows).to_dot()
    dot = read_dot(dot_text)
    assert sorted(n.name for n in dot.nodes.values()) == sorted(NASTY)
    assert dot.port_edges() == set(flows)
    for node in dot.nodes.values():
        assert node.id == node.name.replace("\\", "\\\\")  # Graphviz keeps a quoted "\\" as two
        # a port name that is not a plain identifier gets its cell by position
        assert list(node.inputs) == ["i#0"] and list(node.outputs) == ["o#0"]
    if HAS_DOT:
        graphviz_check(dot_text)


def test_edge_labels_escape_their_text():
    class Quoted(Application):
        def compose(self):
            tx = Ports(self, CountCondition(self, 1), outputs=["out"], name="tx")
            rx = Ports(self, inputs=['in "1"\\n'], name="rx")
            self.add_flow(tx, rx)

    dot = read_dot(Quoted([]).to_dot())
    (edge,) = dot.edges
    assert edge.label[0] == 'in "1"\\n:0, capacity 1, FAULT'
    assert label_text(edge.attrs["label"]).count("\n") == 2


@needs_dot
def test_graphviz_finds_every_node_and_port_of_nasty_names():
    nodes, flows = NASTY_GRAPH
    svg = ElementTree.fromstring(graphviz_check(_app(nodes, flows).to_dot()))
    groups = [g for g in svg.iter(f"{SVG}g") if g.get("class") in ("node", "edge")]
    titles = {g.get("class"): set() for g in groups}
    for g in groups:
        titles[g.get("class")].add(g.find(f"{SVG}title").text)
    ids = {name: name.replace("\\", "\\\\") for name in NASTY}  # as Graphviz keeps a quoted ID
    assert titles["node"] == set(ids.values())
    assert titles["edge"] == {f"{ids[a]}:o#0->{ids[b]}:i#0" for a, b in itertools.pairwise(NASTY)}


def _shuffled_app(seed: int) -> Application:
    """The same graph, its operators made and its flows added in an order set by ``seed``."""
    names = ["src", "split", "left", "right", "join", "tail"]
    flows = [
        ("src", "out", "split", "in"),
        ("split", "a", "left", "in"),
        ("split", "b", "right", "in"),
        ("left", "out", "join", "x"),
        ("right", "out", "join", "y"),
        ("join", "out", "tail", "in"),
    ]
    ports = {
        "src": ([], ["out"]),
        "split": (["in"], ["a", "b"]),
        "left": (["in"], ["out"]),
        "right": (["in"], ["out"]),
        "join": (["x", "y"], ["out"]),
        "tail": (["in"], []),
    }
    rng = random.Random(seed)
    rng.shuffle(names)
    rng.shuffle(flows)

    class Shuffled(Application):
        def compose(self):
            ops = {}
            for name in names:
                ins, outs = ports[name]

                class Op(Operator):
                    def setup(self, spec, ins=ins, outs=outs):
                        for port in ins:
                            spec.input(port)
                        for port in outs:
                            spec.output(port)

                ops[name] = Op(self, CountCondition(self, 1), name=name)
            for source, output, target, input_ in flows:
                self.add_flow(ops[source], ops[target], {(output, input_)})

    return Shuffled([])


def test_the_text_does_not_depend_on_the_order_of_composition():
    texts = {_shuffled_app(seed).to_dot() for seed in range(6)}
    assert len(texts) == 1
    app = _shuffled_app(0)
    assert app.to_dot() == app.to_dot()  # composed once: asking again changes nothing


_names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8)


@st.composite
def _graphs(draw):
    names = draw(st.lists(_names, min_size=1, max_size=6, unique=True))
    ports = draw(st.lists(_names, min_size=1, max_size=3, unique=True))
    nodes = {name: (list(ports), list(ports)) for name in names}
    flows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(names), st.sampled_from(ports), st.sampled_from(names), st.sampled_from(ports)
            ),
            max_size=10,
            unique=True,
        )
    )
    return nodes, flows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_graphs())
def test_random_graphs_read_back_whole(graph):
    """Any names, any connections (ANY_SIZE inputs, so any fan-in and self-loops): every operator
    and every edge comes back from the text, each ANY_SIZE queue named once."""
    nodes, flows = graph
    dot = read_dot(_app(nodes, flows).to_dot())
    assert sorted(n.name for n in dot.nodes.values()) == sorted(nodes)
    assert dot.port_edges() == set(flows)
    queues = [(e.target, e.label[0].rsplit(", capacity", 1)[0]) for e in dot.edges]
    assert len(queues) == len(set(queues)) == len(flows)


@needs_dot
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_graphs())
def test_graphviz_draws_random_graphs_without_a_warning(graph):
    nodes, flows = graph
    graphviz_check(_app(nodes, flows).to_dot())


@pytest.mark.parametrize("name", ["", " "])
def test_blank_names_still_draw(name):
    dot = read_dot(_app({name: ([], ["out"]), "b": (["in"], [])}, [(name, "out", "b", "in")]).to_dot())
    assert dot.port_edges() == {(name, "out", "b", "in")}
