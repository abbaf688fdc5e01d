"""Control flow: start_op, execution ports, dynamic flows, FlowInfo, cycles, and their errors."""

from __future__ import annotations

import itertools
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holoflow.conditions import CountCondition
from holoflow.core import START_OPERATOR_NAME, Application, ConditionType, FlowInfo, IOSpec, Operator
from holoflow.errors import GraphError, SchedulingError
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler

SCHEDULERS = {
    "greedy": lambda app: GreedyScheduler(app),
    "multi": lambda app: MultiThreadScheduler(app, worker_thread_number=2),
    "event": lambda app: EventBasedScheduler(app, worker_thread_number=3),
}


class Step(Operator):
    """An operator without data ports that logs its executions."""

    def __init__(self, fragment, log, *args, **kwargs):
        self.log = log
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        self.log.append(self.name)


class Tx(Operator):
    """Emits 1, 2, 3, ... on "out"."""

    def __init__(self, fragment, *args, **kwargs):
        self.value = 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        self.value += 1
        op_output.emit(self.value, "out")


class Rx(Operator):
    """Logs (name, value) for every message on "in"."""

    def __init__(self, fragment, log, *args, **kwargs):
        self.log = log
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        self.log.append((self.name, op_input.receive("in")))


def run(app, scheduler_kind):
    app.scheduler(SCHEDULERS[scheduler_kind](app))
    app.run()


def test_start_op_is_created_once_and_runs_once(app):
    start = app.start_op()
    assert start is app.start_op()
    assert start.name == START_OPERATOR_NAME == "<|start|>"
    assert [type(c) for c in start.conditions.values()] == [CountCondition]
    assert app.graph.find_node(START_OPERATOR_NAME) is start


def test_sequential_control_flow(app, scheduler_kind):
    log = []
    ops = [Step(app, log, name=f"node{i}") for i in range(1, 4)]
    app.add_flow(app.start_op(), ops[0])
    app.add_flow(ops[0], ops[1])
    app.add_flow(ops[1], ops[2])
    run(app, scheduler_kind)
    assert log == ["node1", "node2", "node3"]
    assert Operator.OUTPUT_EXEC_PORT_NAME in ops[0].spec.outputs
    assert ops[1].spec.inputs[Operator.INPUT_EXEC_PORT_NAME].queue_size == IOSpec.PRECEDING_COUNT
    assert app.graph.get_port_map(ops[0], ops[1]) == {"__output_exec__": {"__input_exec__"}}


def test_explicit_execution_port_pair_makes_a_control_flow(app, scheduler_kind):
    log = []
    first, second = Step(app, log, name="first"), Step(app, log, name="second")
    app.add_flow(app.start_op(), first, {(Operator.OUTPUT_EXEC_PORT_NAME, Operator.INPUT_EXEC_PORT_NAME)})
    app.add_flow(first, second, {(Operator.OUTPUT_EXEC_PORT_NAME, Operator.INPUT_EXEC_PORT_NAME)})
    run(app, scheduler_kind)
    assert log == ["first", "second"]


def test_conditional_callback_picks_one_branch_per_execution(app, scheduler_kind):
    log = []
    decide = Step(app, log, CountCondition(app, 4), name="decide")
    left, right = Step(app, log, name="left"), Step(app, log, name="right")
    app.add_flow(decide, left)
    app.add_flow(decide, right)
    calls = []

    def route(op):
        calls.append(op)
        op.add_dynamic_flow(left if len(calls) % 2 else right)

    app.set_dynamic_flows(decide, route)
    run(app, scheduler_kind)
    assert calls == [decide] * 4
    assert sorted(log) == sorted(["decide"] * 4 + ["left"] * 2 + ["right"] * 2)
    # every branch execution follows the decision that chose it
    assert log.index("left") > log.index("decide")


def test_callback_that_adds_no_flow_stops_the_chain(app, scheduler_kind):
    log = []
    first, second = Step(app, log, CountCondition(app, 3), name="first"), Step(app, log, name="second")
    app.add_flow(first, second)
    app.set_dynamic_flows(first, lambda op: None)
    run(app, scheduler_kind)
    assert log == ["first"] * 3


def test_for_loop_through_a_cycle(app, scheduler_kind):
    """start → head → body1 → body2 → head (3 rounds) → done; head's exec port needs one signal."""
    log = []
    head, body1, body2, done = (Step(app, log, name=n) for n in ("head", "body1", "body2", "done"))
    app.add_flow(app.start_op(), head)
    app.add_flow(head, body1)
    app.add_flow(body1, body2)
    app.add_flow(body2, head)
    app.add_flow(head, done)
    rounds = []

    def loop(op):
        if len(rounds) < 3:
            rounds.append(1)
            op.add_dynamic_flow(body1)
        else:
            op.add_dynamic_flow(done)

    app.set_dynamic_flows(head, loop)
    run(app, scheduler_kind)
    assert log == ["head", "body1", "body2"] * 3 + ["head", "done"]


def test_fork_join_waits_for_every_branch(app, scheduler_kind):
    log = []
    fork, a, b, c, join = (Step(app, log, name=n) for n in ("fork", "a", "b", "c", "join"))
    app.add_flow(app.start_op(), fork)
    for branch in (a, b, c):
        app.add_flow(fork, branch)
        app.add_flow(branch, join)
    run(app, scheduler_kind)
    assert log[0] == "fork"
    assert sorted(log[1:4]) == ["a", "b", "c"]
    assert log[4:] == ["join"]


def test_self_loop_streams_until_the_callback_stops(app, scheduler_kind):
    log = []
    tx = Tx(app, name="tx")
    rx = Rx(app, log, name="rx")
    app.add_flow(app.start_op(), tx)
    app.add_flow(tx, tx)
    app.add_flow(tx, rx, {("out", "in")})

    def stream(op):
        if op.value < 5:
            op.add_dynamic_flow("out", rx)
            op.add_dynamic_flow(Operator.OUTPUT_EXEC_PORT_NAME, op)

    app.set_dynamic_flows(tx, stream)
    run(app, scheduler_kind)
    assert log == [("rx", v) for v in range(1, 5)]
    assert tx.value == 5


def test_mixed_data_and_control_flows(app, scheduler_kind):
    log = []
    tx = Tx(app, CountCondition(app, 4), name="tx")
    odd, even = Rx(app, log, name="odd"), Rx(app, log, name="even")
    alarm = Step(app, log, name="alarm")
    app.add_flow(tx, odd, {("out", "in")})
    app.add_flow(tx, alarm)
    app.add_flow(tx, even, {("out", "in")})

    def route(op):
        op.add_dynamic_flow("out", odd if op.value % 2 else even, "in")
        op.add_dynamic_flow(Operator.OUTPUT_EXEC_PORT_NAME, alarm)

    app.set_dynamic_flows(tx, route)
    run(app, scheduler_kind)
    assert sorted(x for x in log if x != "alarm") == [("even", 2), ("even", 4), ("odd", 1), ("odd", 3)]
    assert log.count("alarm") == 4


def test_add_dynamic_flow_from_compute_routes_from_then_on(app, scheduler_kind):
    """Before the first add_dynamic_flow an operator sends along every flow; from then on only
    along the flows each execution adds (none: nothing), as in Holoscan."""
    log = []

    class Picky(Tx):
        def compute(self, op_input, op_output, context):
            super().compute(op_input, op_output, context)
            if self.value == 2:
                self.add_dynamic_flow(b)

    tx = Picky(app, CountCondition(app, 3), name="tx")
    a, b = Rx(app, log, name="a"), Rx(app, log, name="b")
    app.add_flow(tx, a)
    app.add_flow(tx, b)
    run(app, scheduler_kind)
    assert sorted(log) == [("a", 1), ("b", 1), ("b", 2)]


def test_next_flows_and_the_forms_of_add_dynamic_flow(app, scheduler_kind):
    log = []
    seen = {}

    class Multi(Operator):
        def setup(self, spec):
            spec.output("x")
            spec.output("y")

        def compute(self, op_input, op_output, context):
            op_output.emit("x-value", "x")
            op_output.emit("y-value", "y")

    class TwoIn(Operator):
        def setup(self, spec):
            spec.input("p").condition(ConditionType.NONE)
            spec.input("q").condition(ConditionType.NONE)

        def compute(self, op_input, op_output, context):
            for port in ("p", "q"):
                value = op_input.receive(port)
                if value is not None:
                    log.append((port, value))

    src = Multi(app, CountCondition(app, 4), name="src")
    sink = TwoIn(app, CountCondition(app, 8), name="sink")
    app.add_flow(src, sink, {("x", "p"), ("y", "q")})
    step = [0]

    def route(op):
        flows = op.next_flows
        seen["flows"] = flows
        seen["x"] = op.find_flow_info(lambda f: f.output_port_name == "x")
        seen["none"] = op.find_flow_info(lambda f: f.output_port_name == "nope")
        seen["all"] = op.find_all_flow_info(lambda f: f.next_operator is sink)
        step[0] += 1
        if step[0] == 1:
            op.add_dynamic_flow(seen["x"])
        elif step[0] == 2:
            op.add_dynamic_flow(seen["all"])
        elif step[0] == 3:
            op.add_dynamic_flow("y", sink, "q")
        else:
            op.add_dynamic_flow("x", sink, "p")

    app.set_dynamic_flows(src, route)
    run(app, scheduler_kind)
    assert [(f.output_port_name, f.next_operator.name, f.input_port_name) for f in seen["flows"]] == [
        ("x", "sink", "p"),
        ("y", "sink", "q"),
    ]
    assert isinstance(seen["x"], FlowInfo) and seen["x"].input_port_name == "p"
    assert seen["x"].curr_operator is src and seen["x"].output_port_spec is src.spec.outputs["x"]
    assert seen["none"] is None
    assert seen["all"] == seen["flows"]
    assert sorted(log) == sorted([("p", "x-value")] * 3 + [("q", "y-value")] * 2)
    assert src.next_flows == seen["flows"]  # also readable outside a run


def test_routed_messages_keep_back_pressure(app, scheduler_kind):
    """A fast producer routing to a slow consumer never overflows its queue (FAULT policy)."""
    log = []
    tx = Tx(app, CountCondition(app, 50), name="tx")

    class Slow(Rx):
        def compute(self, op_input, op_output, context):
            threading.Event().wait(0.0005)
            super().compute(op_input, op_output, context)

    a, b = Slow(app, log, name="a"), Slow(app, log, name="b")
    app.add_flow(tx, a)
    app.add_flow(tx, b)
    app.set_dynamic_flows(tx, lambda op: op.add_dynamic_flow(a if op.value % 3 else b))
    run(app, scheduler_kind)
    assert sorted(v for _, v in log) == list(range(1, 51))
    assert all((name == "a") == bool(v % 3) for name, v in log)


# -- mistakes ---------------------------------------------------------------------------------------
def test_dynamic_flow_to_an_unconnected_operator_raises(app, scheduler_kind):
    tx = Tx(app, CountCondition(app, 1), name="tx")
    rx = Rx(app, [], name="rx")
    stranger = Rx(app, [], name="stranger")
    app.add_flow(tx, rx)
    app.add_flow(Tx(app, CountCondition(app, 1), name="other"), stranger)
    app.set_dynamic_flows(tx, lambda op: op.add_dynamic_flow(stranger))
    with pytest.raises(GraphError, match=r"operator 'tx'.*'stranger'.*not a flow of the graph.*add_flow"):
        run(app, scheduler_kind)


def test_dynamic_flow_from_an_unknown_port_raises(app):
    tx = Tx(app, CountCondition(app, 1), name="tx")
    rx = Rx(app, [], name="rx")
    app.add_flow(tx, rx)
    app.set_dynamic_flows(tx, lambda op: op.add_dynamic_flow("nope", rx))
    with pytest.raises(GraphError, match=r"operator 'tx'.*no output port 'nope'"):
        app.run()


def test_dynamic_flow_from_a_data_port_with_nothing_emitted_raises(app):
    class Quiet(Tx):
        def compute(self, op_input, op_output, context):
            pass

    tx = Quiet(app, CountCondition(app, 1), name="tx")
    rx = Rx(app, [], name="rx")
    app.add_flow(tx, rx)
    app.set_dynamic_flows(tx, lambda op: op.add_dynamic_flow(rx))
    with pytest.raises(SchedulingError, match=r"operator 'tx'.*output port 'out'.*emitted nothing"):
        app.run()


def test_add_dynamic_flow_outside_a_run_raises(app):
    tx, rx = Tx(app, name="tx"), Rx(app, [], name="rx")
    app.add_flow(tx, rx)
    with pytest.raises(GraphError, match="only while the graph runs"):
        tx.add_dynamic_flow(rx)


def test_add_dynamic_flow_with_bad_arguments_raises(app):
    tx, rx = Tx(app, CountCondition(app, 1), name="tx"), Rx(app, [], name="rx")
    app.add_flow(tx, rx)
    app.set_dynamic_flows(tx, lambda op: op.add_dynamic_flow(42))
    with pytest.raises(TypeError, match="add_dynamic_flow takes"):
        app.run()


def test_ambiguous_port_in_add_dynamic_flow_raises(app):
    class TwoOut(Operator):
        def setup(self, spec):
            spec.output("a")
            spec.output("b")

        def compute(self, op_input, op_output, context):
            op_output.emit(1, "a")

    src, rx = TwoOut(app, CountCondition(app, 1), name="src"), Rx(app, [], name="rx")
    app.add_flow(src, rx, {("a", "in")})
    app.set_dynamic_flows(src, lambda op: op.add_dynamic_flow(rx))
    with pytest.raises(GraphError, match=r"cannot choose among output ports \['a', 'b'\]"):
        app.run()


def test_execution_port_used_as_a_data_port_raises(app):
    tx, rx = Tx(app, name="tx"), Rx(app, [], name="rx")
    with pytest.raises(GraphError, match="joins an execution port to a data port"):
        app.add_flow(tx, rx, {("out", Operator.INPUT_EXEC_PORT_NAME)})
    with pytest.raises(GraphError, match="joins an execution port to a data port"):
        app.add_flow(tx, rx, {(Operator.OUTPUT_EXEC_PORT_NAME, "in")})


def test_compute_cannot_read_or_write_execution_ports(app):
    errors = []

    class Nosy(Operator):
        def compute(self, op_input, op_output, context):
            with pytest.raises(GraphError) as receiving:
                op_input.receive(Operator.INPUT_EXEC_PORT_NAME)
            with pytest.raises(GraphError) as emitting:
                op_output.emit(1, Operator.OUTPUT_EXEC_PORT_NAME)
            errors.extend(str(info.value) for info in (receiving, emitting))

    first, nosy, last = Step(app, [], name="first"), Nosy(app, name="nosy"), Step(app, [], name="last")
    app.add_flow(app.start_op(), first)
    app.add_flow(first, nosy)
    app.add_flow(nosy, last)
    app.run()
    assert len(errors) == 2
    assert all("execution port" in e and "operator 'nosy'" in e for e in errors)


def test_set_dynamic_flows_checks_its_arguments(app):
    tx = Tx(app, name="tx")
    with pytest.raises(TypeError, match="not callable"):
        app.set_dynamic_flows(tx, "nope")
    other = Application([])
    with pytest.raises(GraphError, match="another fragment"):
        other.set_dynamic_flows(tx, lambda op: None)


def test_control_flow_rejects_other_connectors(app):
    with pytest.raises(GraphError, match="control flow takes the default connector"):
        app.add_flow(Step(app, [], name="a"), Step(app, [], name="b"), IOSpec.ConnectorType.DOUBLE_BUFFER)


# -- properties --------------------------------------------------------------------------------------
class Router(Operator):
    """Forwards what it receives; a dynamic-flow callback picks the flows per message."""

    def __init__(self, fragment, choose, *args, **kwargs):
        self.choose = choose
        self.last = None
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        self.last = op_input.receive("in")
        op_output.emit(self.last, "out")


class Source(Operator):
    def __init__(self, fragment, n, *args, **kwargs):
        self.n = n
        self.sent = 0
        super().__init__(fragment, CountCondition(fragment, n), *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(self.sent, "out")
        self.sent += 1


@st.composite
def routed_graphs(draw):
    """Layers of routers: each router feeds 1-3 operators of the next layer; the last layer sinks."""
    widths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)) + [draw(st.integers(1, 3))]
    edges = []
    for layer, (width, nxt) in enumerate(itertools.pairwise(widths)):
        for i in range(width):
            targets = draw(st.lists(st.integers(0, nxt - 1), min_size=1, max_size=nxt, unique=True))
            edges.extend(((layer, i), (layer + 1, j)) for j in targets)
        fed = {b for (la, _), (_, b) in edges if la == layer}
        # every operator gets at least one producer
        edges.extend(
            ((layer, draw(st.integers(0, width - 1))), (layer + 1, j)) for j in sorted(set(range(nxt)) - fed)
        )
    seed = draw(st.integers(0, 2**16))
    n = draw(st.integers(1, 12))
    return widths, edges, seed, n


def _choice(seed, name, value, k):
    """The flows (indices among k) a router picks for a value: deterministic, possibly none."""
    h = hash((seed, name, value)) & 0xFFFF
    return [i for i in range(k) if (h >> i) & 1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graph=routed_graphs(), kind=st.sampled_from(sorted(SCHEDULERS)))
def test_dynamic_routing_delivers_every_message_exactly_once_along_its_routes(graph, kind):
    widths, edges, seed, n = graph
    app = Application([])
    received = []
    layers = []
    for layer, width in enumerate(widths):
        if layer == len(widths) - 1:
            layers.append([Rx(app, received, name=f"sink{layer}_{i}") for i in range(width)])
        else:
            layers.append([Router(app, None, name=f"r{layer}_{i}") for i in range(width)])
    source = Source(app, n, name="source")
    for op in layers[0]:
        app.add_flow(source, op)
    for (la, a), (lb, b) in edges:
        app.add_flow(layers[la][a], layers[lb][b])

    def route(op):
        flows = op.next_flows
        op.add_dynamic_flow([flows[i] for i in _choice(seed, op.name, op.last, len(flows))])

    for layer in layers[:-1]:
        for op in layer:
            app.set_dynamic_flows(op, route)

    # expected deliveries, walking each message along the routes its routers pick
    expected = []

    def walk(op, value):
        if isinstance(op, Rx):
            expected.append((op.name, value))
            return
        flows = op.next_flows
        for i in _choice(seed, op.name, value, len(flows)):
            walk(flows[i].next_operator, value)

    for value in range(n):
        for op in layers[0]:
            walk(op, value)

    before = threading.active_count()
    app.scheduler(SCHEDULERS[kind](app))
    app.run()
    assert sorted(received) == sorted(expected)
    assert threading.active_count() == before


def test_greedy_order_in_a_cyclic_graph_matches_holoscan(app):
    """With a cycle in the graph, the operators left over follow in the order they were added;
    Holoscan 4.6 prints src, fork, mid, deep, side for this graph."""
    log = []

    class Src(Tx):
        def compute(self, op_input, op_output, context):
            log.append(self.name)
            super().compute(op_input, op_output, context)

    class Mid(Operator):
        def setup(self, spec):
            spec.input("in")
            spec.output("out")

        def compute(self, op_input, op_output, context):
            op_input.receive("in")
            log.append(self.name)
            op_output.emit(1, "out")

    src, fork, mid = Src(app, name="src"), Mid(app, name="fork"), Mid(app, name="mid")
    deep, side = Rx(app, [], name="deep"), Rx(app, [], name="side")
    for sink in (deep, side):
        sink.log = log
    app.add_flow(app.start_op(), src)
    app.add_flow(src, src)
    app.add_flow(src, fork, {("out", "in")})
    app.add_flow(fork, mid)
    app.add_flow(mid, deep)
    app.add_flow(fork, side)
    app.set_dynamic_flows(src, lambda op: op.add_dynamic_flow("out", fork))
    app.run()
    assert [entry if isinstance(entry, str) else entry[0] for entry in log] == [
        "src",
        "fork",
        "mid",
        "deep",
        "side",
    ]
