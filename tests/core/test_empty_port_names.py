"""``add_flow`` port pairs with an empty name: ``""`` stands for the operator's only data port
on that side, as in Holoscan (``src/core/fragment.cpp``)."""

from __future__ import annotations

import re

import pytest

from holoflow.conditions import CountCondition
from holoflow.core import Application, IOSpec, Operator
from holoflow.errors import GraphError
from holoflow.testing import Recorder, Source


class TwoOut(Operator):
    def setup(self, spec):
        spec.output("out1")
        spec.output("out2")


class Many(Operator):
    def setup(self, spec):
        spec.input("any", size=IOSpec.ANY_SIZE)

    def compute(self, op_input, op_output, context):
        self.got.append(op_input.receive("any"))

    def start(self):
        self.got = []


@pytest.mark.parametrize("pair", [("", "in"), ("out", ""), ("", "")])
def test_empty_name_means_the_only_port(pair, scheduler_kind, use_scheduler):
    app = Application([])
    use_scheduler(app)
    src, rx = Source(app, [1, 2, 3], name="src"), Recorder(app, name="rx")
    app.add_flow(src, rx, {pair})
    assert [(c.output, c.input) for c in app.graph.connections] == [("out", "in")]
    app.run()
    assert rx.received == [1, 2, 3]


def test_empty_name_reaches_an_any_size_input_in_sorted_order(scheduler_kind, use_scheduler):
    app = Application([])
    use_scheduler(app)
    a, b = Source(app, ["a1", "a2"], name="a"), Source(app, ["b1", "b2"], name="b")
    many = Many(app, name="many")
    app.add_flow(a, many, {("", "")})
    app.add_flow(b, many, {("out", "any")})
    app.run()
    assert many.got == [("a1", "b1"), ("a2", "b2")]


def test_empty_and_named_pairs_for_the_same_ports_connect_once(app):
    src, rx = Source(app, [1], name="src"), Recorder(app, name="rx")
    app.add_flow(src, rx, {("", "in"), ("out", "in"), ("out", "")})
    assert len(app.graph.connections) == 1


def test_execution_ports_do_not_count(app):
    first = Operator(app, CountCondition(app, 1), name="first")
    src = Source(app, [7], name="src")
    rx = Recorder(app, name="rx")
    app.add_flow(first, src)  # control flow: src now also has an execution input, tx an output
    app.add_flow(src, rx)  # src gains an execution output only when it is an upstream of one
    app.add_flow(src, Operator(app, name="after"))
    app.add_flow(src, (rx2 := Recorder(app, name="rx2")), {("", "")})
    app.run()
    assert rx.received == [7] and rx2.received == [7]


def test_empty_name_with_several_ports_is_an_error_naming_them(app):
    tx, rx = TwoOut(app, name="tx"), Recorder(app, name="rx")
    with pytest.raises(
        GraphError,
        match=re.escape(
            "add_flow('tx', 'rx'): cannot choose the output port of operator 'tx' "
            "(it declares ['out1', 'out2']); name it in the port pairs"
        ),
    ):
        app.add_flow(tx, rx, {("", "in")})
    with pytest.raises(
        GraphError, match=re.escape("cannot choose the input port of operator 'sink' (it declares none)")
    ):
        app.add_flow(Source(app, [1], name="src"), Operator(app, name="sink"), {("out", "")})
    assert len(app.graph) == 0


def test_empty_name_on_the_operator_end_of_a_subgraph_flow(app):
    from holoflow.core import Subgraph

    class Sink(Subgraph):
        def compose(self):
            self.rx = Recorder(self, name="rx")
            self.add_input_interface_port("data", self.rx, "in")

    sink = Sink(app, "sink")
    app.add_flow(Source(app, [4, 5], name="src"), sink, {("", "data")})
    app.run()
    assert sink.rx.received == [4, 5]
