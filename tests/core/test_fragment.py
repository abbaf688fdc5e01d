"""Graph building with add_flow, its errors, running, run_async and stop_execution."""

from __future__ import annotations

import re
import threading
import time

import pytest

from holoflow.conditions import BooleanCondition, CountCondition, PeriodicCondition
from holoflow.core import Application, ConditionType, Fragment, IOSpec, Operator
from holoflow.errors import GraphError, SchedulingError
from holoflow.schedulers import GreedyScheduler
from holoflow.testing import Recorder, Source


class TwoOut(Operator):
    def setup(self, spec):
        spec.output("out1")
        spec.output("out2")


class TwoIn(Operator):
    def setup(self, spec):
        spec.input("in1")
        spec.input("in2")


def test_implicit_mapping_needs_one_port_each_side(app):
    tx, rx = TwoOut(app, name="tx"), Recorder(app, name="rx")
    with pytest.raises(
        GraphError,
        match=re.escape(
            "add_flow('tx', 'rx'): cannot choose the output port of operator 'tx' "
            "(it declares ['out1', 'out2']); name it in the port pairs, such as {('out', 'in')}"
        ),
    ):
        app.add_flow(tx, rx)


def test_unknown_ports_are_errors_naming_the_choices(app):
    tx, rx = TwoOut(app, name="tx"), TwoIn(app, name="rx")
    with pytest.raises(
        GraphError,
        match=re.escape("operator 'tx' has no output port 'out3'; declared outputs: ['out1', 'out2']"),
    ):
        app.add_flow(tx, rx, {("out3", "in1")})
    with pytest.raises(
        GraphError, match=re.escape("operator 'rx' has no input port 'in9'; declared inputs: ['in1', 'in2']")
    ):
        app.add_flow(tx, rx, {("out1", "in9")})
    assert len(app.graph) == 0  # nothing was half-added


def test_bad_port_pair_shape(app):
    with pytest.raises(GraphError, match="port pairs must be"):
        app.add_flow(TwoOut(app, name="tx"), TwoIn(app, name="rx"), {("out1",)})


def test_duplicate_operator_names(app):
    app.add_operator(Recorder(app, name="x"))
    with pytest.raises(GraphError, match="duplicate operator name 'x'"):
        app.add_operator(Recorder(app, name="x"))


def test_required_input_connected_to_nothing_fails_before_start(app):
    started = []

    class Op(Recorder):
        def start(self):
            started.append(self.name)

    app.add_operator(Op(app, name="rx"))
    app.add_operator(Source(app, [1], name="src"))
    with pytest.raises(GraphError, match=re.escape("operator 'rx': input port 'in' is connected to nothing")):
        app.run()
    assert started == []


def test_optional_input_may_stay_unconnected(app):
    seen = []

    class Optional(Operator):
        def setup(self, spec):
            spec.input("in").condition(ConditionType.NONE)

        def compute(self, op_input, op_output, context):
            seen.append(op_input.receive("in"))

    app.add_operator(Optional(app, CountCondition(app, 3), name="op"))
    app.run()
    assert seen == [None, None, None]


def test_port_pairs_are_connected_in_sorted_order(app):
    class Tx(Operator):
        def setup(self, spec):
            for name in ("b", "a", "c"):
                spec.output(name)

        def compute(self, op_input, op_output, context):
            for name in ("a", "b", "c"):
                op_output.emit(name, name)

    class Rx(Operator):
        def setup(self, spec):
            spec.input("any", size=IOSpec.ANY_SIZE)

        def compute(self, op_input, op_output, context):
            self.got = op_input.receive("any")

    tx, rx = Tx(app, CountCondition(app, 1), name="tx"), Rx(app, name="rx")
    app.add_flow(tx, rx, {("c", "any"), ("a", "any"), ("b", "any")})
    app.run()
    assert rx.got == ("a", "b", "c")


def test_graph_queries(app):
    src, mid, sink = Source(app, [1], name="src"), Recorder(app, name="mid"), Recorder(app, name="sink")

    class Fwd(Operator):
        def setup(self, spec):
            spec.input("in")
            spec.output("out")

    fwd = Fwd(app, name="fwd")
    app.add_flow(src, fwd)
    app.add_flow(fwd, mid)
    app.add_flow(src, sink)
    graph = app.graph
    assert [op.name for op in graph.get_nodes()] == ["src", "fwd", "mid", "sink"]
    assert graph.get_root_nodes() == [src]
    assert graph.get_next_nodes(src) == [fwd, sink]
    assert graph.get_previous_nodes(mid) == [fwd]
    assert graph.is_root(src) and graph.is_leaf(sink) and not graph.is_leaf(fwd)
    assert graph.get_port_map(src, fwd) == {"out": {"in"}}
    assert [op.name for op in graph.topological_order()] == ["src", "fwd", "sink", "mid"]


def test_compose_runs_once_across_runs():
    calls = []

    class App(Application):
        def compose(self):
            calls.append(1)
            self.add_flow(Source(self, [1, 2], name="src"), Recorder(self, name="rx"))

    app = App([])
    app.run()
    app.run()
    assert calls == [1]
    assert app.graph.find_node("rx").received == [1, 2, 1, 2]


def test_run_async_returns_a_future(app):
    app.add_flow(Source(app, range(5), name="src"), rx := Recorder(app, name="rx"))
    future = app.run_async()
    assert future.result(timeout=10) is None
    assert rx.received == [0, 1, 2, 3, 4]


def test_run_async_future_carries_the_exception(app):
    class Boom(Operator):
        def compute(self, op_input, op_output, context):
            raise KeyError("boom")

    app.add_operator(Boom(app, CountCondition(app, 1), name="boom"))
    with pytest.raises(KeyError, match="boom"):
        app.run_async().result(timeout=10)


def test_stop_execution_from_another_thread_stops_an_endless_app(app):
    ticks = []
    ticking = threading.Event()

    class Forever(Operator):
        def compute(self, op_input, op_output, context):
            ticks.append(1)
            if len(ticks) == 3:
                ticking.set()

    app.add_operator(Forever(app, PeriodicCondition(app, "1ms"), name="forever"))
    future = app.run_async()
    assert ticking.wait(5)
    t0 = time.monotonic()
    app.stop_execution()
    future.result(timeout=5)
    assert time.monotonic() - t0 < 0.1
    assert ticks


def test_stop_execution_of_one_operator(app):
    class Stopper(Operator):
        def setup(self, spec):
            spec.output("out")

        def compute(self, op_input, op_output, context):
            self.n = getattr(self, "n", 0) + 1
            op_output.emit(self.n, "out")
            if self.n == 3:
                self.fragment.stop_execution("tx")

    tx = Stopper(app, name="tx")  # no count condition: only stop_execution ends it
    app.add_flow(tx, rx := Recorder(app, name="rx"))
    app.run()
    assert rx.received == [1, 2, 3]
    with pytest.raises(GraphError, match="no operator 'nope'"):
        app.stop_execution("nope")


def test_run_while_running_is_an_error(app):
    gate = threading.Event()
    computing = threading.Event()

    class Wait(Operator):
        def compute(self, op_input, op_output, context):
            computing.set()
            gate.wait(5)

    app.add_operator(Wait(app, CountCondition(app, 1), name="w"))
    future = app.run_async()
    assert computing.wait(5)
    with pytest.raises(SchedulingError, match="already running"):
        app.run()
    gate.set()
    future.result(timeout=5)


def test_scheduler_setter_validates(app):
    with pytest.raises(TypeError, match="takes a Scheduler"):
        app.scheduler("greedy")
    sched = app.scheduler(GreedyScheduler(app, name="s"))
    assert app.scheduler() is sched


def test_fragment_with_app_inherits_config(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("a: {b: 1}\n")
    app = Application([])
    app.config(path)
    frag = Fragment(app, "f")
    assert frag.kwargs("a") == {"b": 1}
    assert frag.application is app
    with pytest.raises(TypeError, match="takes an Application"):
        Fragment("not an app")


def test_boolean_condition_disabled_from_compute(app):
    class Op(Operator):
        def compute(self, op_input, op_output, context):
            self.n = getattr(self, "n", 0) + 1
            if self.n == 4:
                self.conditions["switch"].disable_tick()

    op = Op(app, switch=BooleanCondition(app), name="op")
    app.add_operator(op)
    app.run()
    assert op.n == 4
