"""Subgraphs: qualified names, nesting, data and execution interface ports, add_flow with
subgraph ends (explicit and automatic), errors, and runs under every scheduler."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.conditions import CountCondition
from holoflow.core import (
    Application,
    InterfacePort,
    InterfacePortMapping,
    InterfacePortType,
    IOSpec,
    Operator,
    Subgraph,
)
from holoflow.errors import ConfigError, GraphError
from holoflow.resources import UnboundedAllocator

INPUT_EXEC = Operator.INPUT_EXEC_PORT_NAME
OUTPUT_EXEC = Operator.OUTPUT_EXEC_PORT_NAME


class Tx(Operator):
    """Emits 1, 2, 3, ... on "out"."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.value = 0

    def compute(self, op_input, op_output, context):
        self.value += 1
        op_output.emit(self.value, "out")


class Fwd(Operator):
    """Forwards "in" to "out", adding ``self.add``."""

    def __init__(self, fragment, *args, add=0, **kwargs):
        self.add = add
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(op_input.receive("in") + self.add, "out")


class Rx(Operator):
    """Records what arrives on "in"."""

    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.received = []

    def compute(self, op_input, op_output, context):
        self.received.append(op_input.receive("in"))


class MultiRx(Operator):
    """Records the tuple an ANY_SIZE "receivers" port yields."""

    def setup(self, spec):
        spec.input("receivers", size=IOSpec.ANY_SIZE)

    def start(self):
        self.received = []

    def compute(self, op_input, op_output, context):
        self.received.append(op_input.receive("receivers"))


class TwoByTwo(Operator):
    def setup(self, spec):
        spec.input("a")
        spec.input("b")
        spec.output("x")
        spec.output("y")


class Step(Operator):
    """No data ports; logs its name when it runs."""

    def __init__(self, fragment, log, *args, **kwargs):
        self.log = log
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        self.log.append(self.name)


class Pipe(Subgraph):
    """in → fwd → out, with both ends exposed."""

    def compose(self):
        self.fwd = Fwd(self, name="fwd", add=10)
        self.add_input_interface_port("in", self.fwd, "in")
        self.add_output_interface_port("out", self.fwd, "out")


class Source(Subgraph):
    """A counted transmitter behind a forwarder, exposing "data_out"."""

    def __init__(self, fragment, name, count=3):
        self.count = count
        super().__init__(fragment, name)

    def compose(self):
        tx = Tx(self, CountCondition(self, self.count), name="transmitter")
        self.fwd = Fwd(self, name="forwarding")
        self.add_flow(tx, self.fwd, {("out", "in")})
        self.add_output_interface_port("data_out", self.fwd, "out")


class Sequence(Subgraph):
    """Two steps in a control flow, exposed as execution ports "exec_in" / "exec_out"."""

    def __init__(self, fragment, name, log):
        self.log = log
        super().__init__(fragment, name)

    def compose(self):
        first, second = Step(self, self.log, name="first"), Step(self, self.log, name="second")
        self.add_flow(first, second)
        self.add_input_exec_interface_port("exec_in", first)
        self.add_output_exec_interface_port("exec_out", second)


def mappings(port):
    return [(m.internal_operator.name, m.internal_port_name) for m in port.mappings]


def run(app, use_scheduler):
    use_scheduler(app)
    app.run()


# -- naming --------------------------------------------------------------------------------------


def test_components_created_with_a_subgraph_get_qualified_names_and_its_fragment(app):
    names = {}

    class Built(Subgraph):
        def compose(self):
            count = CountCondition(self, 2, name="count")
            pool = UnboundedAllocator(self, name="pool")
            self.op = Tx(self, count, pool, name="tx")
            names.update(condition=count.name, resource=pool.name, op=self.op.name)
            names["keys"] = (sorted(self.op.conditions), sorted(self.op.resources))
            names["fragments"] = {count.fragment, pool.fragment, self.op.fragment}

    built = Built(app, "cam")
    assert names == {
        "condition": "cam_count",
        "resource": "cam_pool",
        "op": "cam_tx",
        "keys": (["cam_count"], ["cam_pool"]),
        "fragments": {app},
    }
    assert built.fragment is app
    # creating an operator does not add it to the graph; add_operator / add_flow do
    assert app.graph.find_node("cam_tx") is None
    built.add_operator(built.op)
    assert app.graph.find_node("cam_tx") is built.op


def test_default_names_are_qualified_too(app):
    class Defaults(Subgraph):
        def compose(self):
            self.op = Fwd(self)
            self.count = CountCondition(self, 1)

    sg = Defaults(app, "d")
    assert sg.op.name.startswith("d_unnamed_operator_")
    assert sg.count.name == "d_count_condition"


def test_nested_subgraphs_chain_their_prefixes(app):
    class Outer(Subgraph):
        def compose(self):
            self.inner = Pipe(self, "inner")
            self.deeper = Outer2(self.inner, "deep")

    class Outer2(Subgraph):
        def compose(self):
            self.op = Fwd(self, name="op")
            self.add_operator(self.op)

    outer = Outer(app, "outer")
    assert outer.inner.name == "outer_inner"
    assert outer.inner.fwd.name == "outer_inner_fwd"
    assert outer.deeper.name == "outer_inner_deep"
    assert outer.deeper.op.name == "outer_inner_deep_op"
    assert outer.nested_subgraphs == [outer.inner]
    assert outer.inner.nested_subgraphs == [outer.deeper]
    assert app.subgraphs == [outer]
    assert [op.name for op in outer.operators()] == ["outer_inner_fwd", "outer_inner_deep_op"]
    assert [op.name for op in outer.deeper.operators()] == ["outer_inner_deep_op"]


def test_a_name_that_already_has_the_prefix_is_kept(app):
    class Prefixed(Subgraph):
        def compose(self):
            self.op = Fwd(self, name="p_already")
            self.add_operator(self.op)
            self.add_operator(self.op)  # a second add changes nothing

    assert Prefixed(app, "p").op.name == "p_already"
    assert [op.name for op in app.graph.get_nodes()] == ["p_already"]


def test_operators_from_the_fragment_are_qualified_when_a_subgraph_adds_them(app):
    outside = Fwd(app, name="outside")
    app.add_operator(outside)
    loose = Fwd(app, name="loose")
    other = Fwd(app, name="other")

    class Adopting(Subgraph):
        def compose(self):
            self.add_flow(loose, other)
            self.add_flow(other, outside)

    Adopting(app, "a")
    # not yet in the graph: it takes the subgraph's prefix; already in it: it keeps its name
    assert (loose.name, other.name, outside.name) == ("a_loose", "a_other", "outside")


def test_a_child_named_like_its_subgraph_is_refused(app):
    class Clash(Subgraph):
        def compose(self):
            Fwd(self, name="clash")

    with pytest.raises(
        GraphError, match="operator 'clash' cannot have the same name as its subgraph 'clash'"
    ):
        Clash(app, "clash")


def test_subgraph_names_are_unique_in_a_fragment(app):
    Pipe(app, "p")
    with pytest.raises(GraphError, match="duplicate subgraph name 'p'"):
        Pipe(app, "p")

    class Holder(Subgraph):
        def compose(self):
            Pipe(self, "b")

    Pipe(app, "a_b")
    with pytest.raises(GraphError, match="duplicate subgraph name 'a_b'"):
        Holder(app, "a")


def test_same_operator_names_from_two_subgraphs_do_not_collide_but_clash_when_qualified(app):
    first, second = Pipe(app, "one"), Pipe(app, "two")
    first.add_operator(first.fwd)
    second.add_operator(second.fwd)
    assert [op.name for op in app.graph.get_nodes()] == ["one_fwd", "two_fwd"]
    app.add_operator(Fwd(app, name="three_fwd"))
    with pytest.raises(GraphError, match="duplicate operator name 'three_fwd'"):
        Pipe(app, "three")  # exposing its ports adds "three_fwd" to the graph


def test_constructor_arguments_are_checked(app):
    with pytest.raises(TypeError, match="takes the Fragment .* not int"):
        Pipe(3, "x")
    with pytest.raises(ValueError, match="a name is required"):
        Pipe(app)
    with pytest.raises(ValueError, match="name cannot be empty"):
        Pipe(app, "")
    with pytest.raises(TypeError, match="name must be a str"):
        Pipe(app, 5)
    with pytest.raises(ValueError, match="not both"):
        Pipe(app, "x", instance_name="y")
    with pytest.warns(DeprecationWarning, match="instance_name"):
        old = Pipe(app, instance_name="old")
    assert old.name == "old"
    with pytest.warns(DeprecationWarning, match="instance_name"):
        assert old.instance_name == "old"
    assert repr(old) == "<Pipe 'old'>"


def test_compose_runs_once_in_the_constructor(app):
    calls = []

    class Counted(Subgraph):
        def compose(self):
            calls.append(self.is_composed())

    sg = Counted(app, "c")
    assert calls == [False]
    assert sg.is_composed()
    sg.set_composed(False)
    assert not sg.is_composed()


def test_add_subgraph_confirms_ownership(app):
    class Holder(Subgraph):
        def compose(self):
            self.child = Pipe(self, "child")
            assert self.add_subgraph(self.child) is self.child

    holder = Holder(app, "holder")
    stray = Pipe(app, "stray")
    with pytest.raises(GraphError, match="subgraph 'stray' was not created inside subgraph 'holder'"):
        holder.add_subgraph(stray)
    app.add_subgraph(stray)  # already owned: nothing changes
    assert app.subgraphs == [holder, stray]
    other = Application([])
    with pytest.raises(GraphError, match="subgraph 'stray' was created for another fragment"):
        other.add_subgraph(stray)
    with pytest.raises(GraphError, match="subgraph 'stray' was created for another fragment"):
        other.add_flow(stray, Rx(other, name="rx"))
    with pytest.raises(TypeError, match="add_subgraph takes a Subgraph"):
        app.add_subgraph(Fwd(app, name="f"))


def test_operators_of_another_fragment_are_refused(app):
    foreign = Fwd(Application([]), name="foreign")

    class Taking(Subgraph):
        def compose(self):
            self.add_operator(foreign)

    with pytest.raises(GraphError, match="operator 'foreign' was created for another fragment"):
        Taking(app, "t")


# -- data interface ports --------------------------------------------------------------------------


def test_interface_ports_map_onto_inner_ports(app):
    pipe = Pipe(app, "p")
    ports = pipe.interface_ports()
    assert set(ports) == {"in", "out"}
    assert (ports["in"].is_input, ports["out"].is_input) == (True, False)
    assert ports["in"].port_type is InterfacePortType.DATA
    assert mappings(ports["in"]) == [("p_fwd", "in")]
    assert pipe.interface_port_names() == ["in", "out"]
    assert pipe.exec_interface_ports() == {}
    assert pipe.get_interface_operator_port("out") == (pipe.fwd, "out")
    assert pipe.get_interface_operator_port("missing") == (None, "")
    assert pipe.get_exec_interface_operator_port("in") == (None, "")
    # exposing a port adds the operator to the graph
    assert app.graph.find_node("p_fwd") is pipe.fwd


def test_interface_port_reprs_read_like_holoscan(app):
    pipe = Pipe(app, "p")
    port = pipe.interface_ports()["in"]
    assert isinstance(port, InterfacePort)
    assert repr(port) == "<InterfacePort: mappings=[p_fwd:in], is_input=true, type=DATA>"
    assert repr(port.mappings[0]) == "<InterfacePortMapping: operator=p_fwd, port=in>"
    assert port.mappings[0] == InterfacePortMapping(pipe.fwd, "in")


def test_add_interface_port_detects_the_direction_and_defaults_the_inner_name(app):
    class Auto(Subgraph):
        def compose(self):
            self.fwd = Fwd(self, name="f")
            self.add_interface_port("in", self.fwd)
            self.add_interface_port("result", self.fwd, "out")

    ports = Auto(app, "au").interface_ports()
    assert {name: (p.is_input, mappings(p)) for name, p in ports.items()} == {
        "in": (True, [("au_f", "in")]),
        "result": (False, [("au_f", "out")]),
    }


class BothWays(Operator):
    def setup(self, spec):
        spec.input("p")
        spec.output("p")


@pytest.mark.parametrize(
    ("expose", "message"),
    [
        (
            lambda sg, op: sg.add_interface_port("x", op, "nope"),
            r"has no port 'nope'; inputs: \['in'\], outputs: \['out'\]",
        ),
        (
            lambda sg, op: sg.add_input_interface_port("x", op, "out"),
            r"has no input port 'out'; declared inputs: \['in'\]",
        ),
        (lambda sg, op: sg.add_interface_port("x", op, "in", is_input=False), r"has no output port 'in'"),
        (
            lambda sg, op: sg.add_interface_port("p", BothWays(sg, name="both")),
            "has both an input and an output named 'p'; use add_input_interface_port",
        ),
        (
            lambda sg, op: (
                sg.add_output_interface_port("x", op, "out"),
                sg.add_output_interface_port("x", op, "out"),
            ),
            "already has an output interface port 'x'; an output maps to exactly one inner port",
        ),
        (
            lambda sg, op: (
                sg.add_input_interface_port("x", op, "in"),
                sg.add_output_interface_port("x", op, "out"),
            ),
            "already has an input interface port 'x'",
        ),
        (
            lambda sg, op: (
                sg.add_input_exec_interface_port("x", op),
                sg.add_input_interface_port("x", op, "in"),
            ),
            "already has an execution interface port 'x'",
        ),
        (
            lambda sg, op: (
                sg.add_input_interface_port("x", op, "in"),
                sg.add_output_exec_interface_port("x", op),
            ),
            "already has a data interface port 'x'",
        ),
        (
            lambda sg, op: (
                sg.add_input_exec_interface_port("x", op),
                sg.add_input_exec_interface_port("x", op),
            ),
            "already has an execution interface port 'x'",
        ),
    ],
)
def test_bad_interface_ports_are_refused(app, expose, message):
    class Bad(Subgraph):
        def compose(self):
            expose(self, Fwd(self, name="f"))

    with pytest.raises(GraphError, match=message):
        Bad(app, "bad")


def test_an_input_name_added_twice_broadcasts(app, use_scheduler):
    class Broadcast(Subgraph):
        def compose(self):
            self.a, self.b = Fwd(self, name="a", add=100), Fwd(self, name="b", add=200)
            self.add_input_interface_port("in", self.a, "in")
            self.add_input_interface_port("in", self.b, "in")
            self.add_input_interface_port("in", self.b, "in")  # the same mapping again: kept once

    sg = Broadcast(app, "bc")
    assert mappings(sg.interface_ports()["in"]) == [("bc_a", "in"), ("bc_b", "in")]
    assert sg.get_interface_operator_port("in") == (sg.a, "in")
    tx = Tx(app, CountCondition(app, 2), name="tx")
    rx_a, rx_b = Rx(app, name="rx_a"), Rx(app, name="rx_b")
    app.add_flow(tx, sg)
    app.add_flow(sg.a, rx_a)
    app.add_flow(sg.b, rx_b)
    run(app, use_scheduler)
    assert (rx_a.received, rx_b.received) == ([101, 102], [201, 202])


def test_nested_subgraph_ports_can_be_exposed_and_are_found_through_the_parent(app):
    class Outer(Subgraph):
        def compose(self):
            self.inner = Pipe(self, "inner")
            self.add_interface_port("feed", self.inner, "in")
            self.add_output_interface_port("out", self.inner)

    outer = Outer(app, "o")
    ports = outer.interface_ports()
    assert {name: (p.is_input, mappings(p)) for name, p in ports.items()} == {
        "feed": (True, [("o_inner_fwd", "in")]),
        "out": (False, [("o_inner_fwd", "out")]),
    }
    # a port a nested subgraph exposes is found through its parent (Holoscan's hierarchical lookup)
    assert outer.get_interface_operator_port("in") == (outer.inner.fwd, "in")


@pytest.mark.parametrize(
    ("expose", "message"),
    [
        (
            lambda sg, inner: sg.add_interface_port("x", inner, "nope"),
            r"has no interface port 'nope'; data ports: \['in', 'out'\]",
        ),
        (
            lambda sg, inner: sg.add_input_interface_port("x", inner, "out"),
            "'out' of subgraph 'n_inner' is an output port, not an input port",
        ),
        (
            lambda sg, inner: sg.add_input_exec_interface_port("x", inner, "in"),
            "'in' of subgraph 'n_inner' is a data interface port, not an execution one",
        ),
    ],
)
def test_bad_nested_ports_are_refused(app, expose, message):
    class Nest(Subgraph):
        def compose(self):
            expose(self, Pipe(self, "inner"))

    with pytest.raises(GraphError, match=message):
        Nest(app, "n")


def test_interface_port_arguments_are_type_checked(app):
    class Wrong(Subgraph):
        def compose(self):
            self.add_interface_port("x", "not an operator")

    with pytest.raises(TypeError, match="expose a port of an Operator or Subgraph, not str"):
        Wrong(app, "w")


# -- add_flow with subgraph ends -------------------------------------------------------------------


def test_subgraph_ping_runs_under_every_scheduler(app, use_scheduler):
    """Holoscan's subgraph_ping: three source subgraphs and an operator into one ANY_SIZE port."""

    class Receiver(Subgraph):
        def compose(self):
            self.rx = MultiRx(self, name="multi_receiver")
            self.add_operator(self.rx)
            self.add_input_interface_port("data_in", self.rx, "receivers")

    tx1 = Source(app, "tx1")
    tx2 = Tx(app, CountCondition(app, 3), name="tx2")
    tx3 = Source(app, "tx3")
    receiver = Receiver(app, "multi_rx")
    app.add_flow(tx1, receiver, {("data_out", "data_in")})
    app.add_flow(tx2, receiver, {("out", "data_in")})
    app.add_flow(tx3, receiver)
    run(app, use_scheduler)
    assert receiver.rx.received == [(i, i, i) for i in (1, 2, 3)]
    assert app.subgraphs == [tx1, tx3, receiver]


def test_subgraph_to_subgraph_chains_run(app, use_scheduler):
    source = Source(app, "src", count=4)
    pipes = [Pipe(app, f"p{i}") for i in range(3)]
    rx = Rx(app, name="rx")
    app.add_flow(source, pipes[0], {("data_out", "in")})
    app.add_flow(pipes[0], pipes[1])
    app.add_flow(pipes[1], pipes[2], {("out", "in")})
    app.add_flow(pipes[2], rx)
    run(app, use_scheduler)
    assert rx.received == [31, 32, 33, 34]


def test_subgraph_add_flow_between_nested_subgraphs(app, use_scheduler):
    class Twice(Subgraph):
        def compose(self):
            first, second = Pipe(self, "first"), Pipe(self, "second")
            self.add_flow(first, second)
            self.add_input_interface_port("in", first)
            self.add_output_interface_port("out", second)

    twice = Twice(app, "twice")
    tx, rx = Tx(app, CountCondition(app, 2), name="tx"), Rx(app, name="rx")
    app.add_flow(tx, twice)
    app.add_flow(twice, rx)
    run(app, use_scheduler)
    assert rx.received == [21, 22]
    assert [sg.name for sg in twice.nested_subgraphs] == ["twice_first", "twice_second"]


@pytest.mark.parametrize(
    ("connect", "message"),
    [
        (
            lambda app, pipe, many: app.add_flow(pipe, Rx(app, name="rx"), {("nope", "in")}),
            r"interface port 'nope' not found in subgraph 'p'; "
            r"data ports: \['in', 'out'\], execution ports: \[\]",
        ),
        (
            lambda app, pipe, many: app.add_flow(pipe, Rx(app, name="rx"), {("in", "in")}),
            "'in' of subgraph 'p' is an input port, so it cannot be the upstream end",
        ),
        (
            lambda app, pipe, many: app.add_flow(Tx(app, name="tx"), pipe, {("out", "out")}),
            "'out' of subgraph 'p' is an output port, so it cannot be the downstream end",
        ),
        (
            lambda app, pipe, many: app.add_flow(pipe, Rx(app, name="rx"), {("out", "nope")}),
            "operator 'rx' has no input port 'nope'",
        ),
        (
            lambda app, pipe, many: app.add_flow(TwoByTwo(app, name="two"), pipe),
            r"add_flow\(operator 'two', subgraph 'p'\): cannot connect automatically: "
            r"the upstream end has more than one output port \(x, y\)",
        ),
        (
            lambda app, pipe, many: app.add_flow(pipe, TwoByTwo(app, name="two")),
            r"the downstream end has more than one input port \(a, b\)",
        ),
        (
            lambda app, pipe, many: app.add_flow(many, pipe),
            r"add_flow\(subgraph 'm', subgraph 'p'\): .* upstream end has more than one output port \(x, y\)",
        ),
        (
            lambda app, pipe, many: app.add_flow(pipe, many),
            r"downstream end has more than one input port \(a, b\)",
        ),
        (
            lambda app, pipe, many: app.add_flow(pipe, Step(app, [], name="step")),
            r"cannot connect automatically: no data or execution ports to join",
        ),
        (
            lambda app, pipe, many: app.add_flow(pipe, Rx(app, name="rx"), [("out",)]),
            r"port pairs must be \(output, input\) tuples of str",
        ),
        (
            lambda app, pipe, many: app.add_flow(pipe, "rx"),
            "add_flow connects Operators and Subgraphs, not str",
        ),
    ],
)
def test_bad_subgraph_flows_are_refused(app, connect, message):
    class Many(Subgraph):
        def compose(self):
            op = TwoByTwo(self, name="t")
            for name in "ab":
                self.add_input_interface_port(name, op)
            for name in "xy":
                self.add_output_interface_port(name, op)

    pipe, many = Pipe(app, "p"), Many(app, "m")
    with pytest.raises((GraphError, TypeError), match=message):
        connect(app, pipe, many)


def test_operator_to_subgraph_pairs_connect_in_sorted_order(app, use_scheduler):
    """Like operator flows, the pairs of one add_flow connect in sorted order (ANY_SIZE order)."""

    class Two(Subgraph):
        def compose(self):
            self.rx = MultiRx(self, name="rx")
            self.add_input_interface_port("b_in", self.rx, "receivers")
            self.add_input_interface_port("a_in", self.rx, "receivers")

    class Pair(Operator):
        def setup(self, spec):
            spec.output("first")
            spec.output("second")

        def compute(self, op_input, op_output, context):
            op_output.emit("first", "first")
            op_output.emit("second", "second")

    two = Two(app, "two")
    app.add_flow(Pair(app, CountCondition(app, 1), name="pair"), two, {("second", "b_in"), ("first", "a_in")})
    run(app, use_scheduler)
    assert two.rx.received == [("first", "second")]


# -- execution interface ports ---------------------------------------------------------------------


def test_execution_ports_map_onto_execution_ports(app):
    seq = Sequence(app, "seq", [])
    ports = seq.exec_interface_ports()
    assert {name: (p.is_input, p.port_type, mappings(p)) for name, p in ports.items()} == {
        "exec_in": (True, InterfacePortType.EXECUTION, [("seq_first", INPUT_EXEC)]),
        "exec_out": (False, InterfacePortType.EXECUTION, [("seq_second", OUTPUT_EXEC)]),
    }
    assert seq.interface_ports() == {}
    assert seq.get_exec_interface_operator_port("exec_in")[1] == INPUT_EXEC
    assert seq.get_interface_operator_port("exec_in") == (None, "")
    assert repr(ports["exec_out"]) == (
        "<InterfacePort: mappings=[seq_second:__output_exec__], is_input=false, type=EXECUTION>"
    )


def test_sequential_with_subgraph_runs_under_every_scheduler(app, use_scheduler):
    """Holoscan's sequential_with_subgraph: start → node1 → (node2 → node3) → node4."""
    log = []
    node1, node4 = Step(app, log, name="node1"), Step(app, log, name="node4")
    seq = Sequence(app, "seq", log)
    app.add_flow(app.start_op(), node1)
    app.add_flow(node1, seq)  # automatic: the subgraph's only execution input
    app.add_flow(seq, node4)  # automatic: its only execution output
    run(app, use_scheduler)
    assert log == ["node1", "seq_first", "seq_second", "node4"]


def test_execution_ports_connect_subgraph_to_subgraph_explicitly_and_automatically(app, use_scheduler):
    log = []
    a, b, c = Sequence(app, "a", log), Sequence(app, "b", log), Sequence(app, "c", log)
    app.add_flow(app.start_op(), a, {(OUTPUT_EXEC, "exec_in")})
    app.add_flow(a, b)
    app.add_flow(b, c, {("exec_out", "exec_in")})
    run(app, use_scheduler)
    assert log == ["a_first", "a_second", "b_first", "b_second", "c_first", "c_second"]


def test_nested_execution_ports(app, use_scheduler):
    log = []

    class Wrapper(Subgraph):
        def compose(self):
            self.inner = Sequence(self, "inner", log)
            self.add_input_exec_interface_port("go", self.inner, "exec_in")
            self.add_output_exec_interface_port("exec_out", self.inner)  # same name inside

    wrapper = Wrapper(app, "w")
    assert mappings(wrapper.exec_interface_ports()["go"]) == [("w_inner_first", INPUT_EXEC)]
    end = Step(app, log, name="end")
    app.add_flow(app.start_op(), wrapper)
    app.add_flow(wrapper, end)
    run(app, use_scheduler)
    assert log == ["w_inner_first", "w_inner_second", "end"]


@pytest.mark.parametrize(
    ("connect", "message"),
    [
        (
            lambda app, seq, pipe: app.add_flow(seq, Rx(app, name="rx"), {("exec_out", "in")}),
            r"\('exec_out', 'in'\) joins an execution port to a data port",
        ),
        (
            lambda app, seq, pipe: app.add_flow(Tx(app, name="tx"), seq, {("out", "exec_in")}),
            r"\('out', 'exec_in'\) joins an execution port to a data port",
        ),
        (
            lambda app, seq, pipe: app.add_flow(pipe, seq),
            "cannot connect automatically: no data or execution ports to join",
        ),
        (
            lambda app, seq, pipe: app.add_flow(seq, Rx(app, name="rx")),
            r"upstream execution outputs: \['exec_out'\], downstream execution inputs: \[\]",
        ),
    ],
)
def test_execution_and_data_ports_do_not_mix(app, connect, message):
    seq, pipe = Sequence(app, "seq", []), Pipe(app, "p")
    with pytest.raises(GraphError, match=message):
        connect(app, seq, pipe)


def test_automatic_choice_needs_a_single_execution_port(app):
    class TwoDoors(Subgraph):
        def compose(self):
            first, second = Step(self, [], name="first"), Step(self, [], name="second")
            self.add_input_exec_interface_port("door1", first)
            self.add_input_exec_interface_port("door2", second)

    with pytest.raises(GraphError, match=r"more than one execution input port \(door1, door2\)"):
        app.add_flow(Step(app, [], name="s"), TwoDoors(app, "two"))


def test_bad_execution_ports_are_refused(app):
    class OperatorWithInnerName(Subgraph):
        def compose(self):
            self.add_input_exec_interface_port("x", Step(self, [], name="s"), "inner")

    with pytest.raises(TypeError, match="internal_interface_port applies to a nested Subgraph"):
        OperatorWithInnerName(app, "a")

    class WrongDirection(Subgraph):
        def compose(self):
            self.add_output_exec_interface_port("x", Sequence(self, "inner", []), "exec_in")

    with pytest.raises(
        GraphError, match="'exec_in' of subgraph 'b_inner' is an input port, not an output port"
    ):
        WrongDirection(app, "b")

    class Missing(Subgraph):
        def compose(self):
            self.add_input_exec_interface_port("x", Sequence(self, "inner", []), "nope")

    with pytest.raises(
        GraphError, match=r"has no interface port 'nope'; .*execution ports: \['exec_in', 'exec_out'\]"
    ):
        Missing(app, "c")

    class DataFromExec(Subgraph):
        def compose(self):
            self.add_input_interface_port("x", Sequence(self, "inner", []), "exec_in")

    with pytest.raises(GraphError, match="is an execution interface port, not a data one"):
        DataFromExec(app, "d")


def test_subgraph_set_dynamic_flows_routes_through_the_fragment(app, use_scheduler):
    log = []

    class Branching(Subgraph):
        def compose(self):
            self.decide = Step(self, log, CountCondition(self, 4), name="decide")
            self.left, self.right = Step(self, log, name="left"), Step(self, log, name="right")
            self.add_flow(self.decide, self.left)
            self.add_flow(self.decide, self.right)
            self.set_dynamic_flows(self.decide, self.route)

        def route(self, op):
            op.add_dynamic_flow(self.left if log.count("b_decide") % 2 else self.right)

    Branching(app, "b")
    run(app, use_scheduler)
    assert sorted(log) == sorted(["b_decide"] * 4 + ["b_left"] * 2 + ["b_right"] * 2)


# -- configuration ---------------------------------------------------------------------------------


def test_a_subgraph_reads_its_own_config(app, tmp_path):
    path = tmp_path / "sg.yaml"
    path.write_text("fwd:\n  add: 5\n")

    class Configured(Subgraph):
        def compose(self):
            self.fwd = Fwd(self, name="fwd", **self.kwargs("fwd"))

    sg = Configured(app, "c", config=path)
    assert sg.fwd.add == 5
    assert sg.config_keys() == {"fwd", "fwd.add"}
    assert sg.from_config("fwd.add").value == 5
    assert sg.config() is not None
    plain = Pipe(app, "plain")
    assert (plain.config(), plain.config_keys()) == (None, set())
    with pytest.raises(ConfigError, match="subgraph 'plain' has no config file"):
        plain.kwargs("fwd")


# -- properties ------------------------------------------------------------------------------------

NAME = st.text(st.characters(categories=("Ll", "Lu", "Nd")), min_size=1, max_size=6)
"""Names without "_", so only a name equal to its parent's can meet the prefix rules."""


@settings(deadline=None)
@given(path=st.lists(NAME, min_size=1, max_size=4), leaf=NAME)
def test_qualified_names_chain_the_whole_nesting_path(path, leaf):
    """An operator created at nesting depth d is named ``p1_p2_..._pd_leaf``; a child named like
    its parent subgraph is refused."""
    app = Application([])
    made = {}

    class Level(Subgraph):
        def __init__(self, parent, name, rest):
            self.rest = rest
            super().__init__(parent, name)

        def compose(self):
            if self.rest:
                Level(self, self.rest[0], self.rest[1:])
            else:
                made["op"] = Fwd(self, name=leaf)

    chain = [*path, leaf]
    qualified = [chain[0]]
    for name in chain[1:]:
        qualified.append(f"{qualified[-1]}_{name}")
    if any(chain[i + 1] == qualified[i] for i in range(len(path))):
        with pytest.raises(GraphError, match="cannot have the same name as its subgraph"):
            Level(app, path[0], path[1:])
        return
    top = Level(app, path[0], path[1:])
    assert made["op"].name == qualified[-1]
    assert made["op"].fragment is app
    assert top.operators() == []  # created, never added
    level = top
    for name in qualified[1:-1]:
        (level,) = level.nested_subgraphs
        assert level.name == name
