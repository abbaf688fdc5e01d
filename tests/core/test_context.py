"""receive/emit semantics: single, batch, ANY_SIZE, PRECEDING_COUNT, kinds, policies, errors."""

from __future__ import annotations

import re

import pytest

from holoflow.conditions import CountCondition
from holoflow.core import ConditionType, IOSpec, Operator
from holoflow.errors import GraphError, SchedulingError
from holoflow.testing import Recorder, Source


class Collect(Operator):
    """Receives port ``in`` with the given size and kind and records each result."""

    def __init__(self, fragment, *args, size=1, kind="", **kwargs):
        self.size, self.kind, self.got = size, kind, []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in", size=self.size)

    def compute(self, op_input, op_output, context):
        self.got.append(op_input.receive("in", kind=self.kind))


def test_batch_port_waits_for_n_and_drops_the_remainder(app):
    rx = Collect(app, size=IOSpec.IOSize(4), name="rx")
    app.add_flow(Source(app, range(10), name="src"), rx)
    app.run()
    assert rx.got == [(0, 1, 2, 3), (4, 5, 6, 7)]


def test_preceding_count_takes_one_from_each_connection(app):
    rx = Collect(app, size=IOSpec.PRECEDING_COUNT, name="rx")
    app.add_flow(Source(app, [1, 2], name="a"), rx)
    app.add_flow(Source(app, [10, 20], name="b"), rx)
    app.run()
    assert [sorted(t) for t in rx.got] == [[1, 10], [2, 20]]


def test_any_size_yields_one_item_per_connection_in_connection_order(app):
    rx = Collect(app, size=IOSpec.ANY_SIZE, name="rx")
    app.add_flow(Source(app, "xyz", name="b"), rx)
    app.add_flow(Source(app, "XYZ", name="a"), rx)
    app.run()
    assert rx.got == [("x", "X"), ("y", "Y"), ("z", "Z")]


def test_kind_single_pops_one_and_multi_forces_a_tuple(app):
    single = Collect(app, size=IOSpec.IOSize(2), kind="single", name="single")
    multi = Collect(app, kind="multi", name="multi")
    src = Source(app, [1, 2, 3, 4], name="src")
    app.add_flow(src, single)
    app.add_flow(src, multi)
    app.run()
    # Runs whenever 2 messages wait and pops one each time: the last message stays behind.
    assert single.got == [1, 2, 3]
    assert multi.got == [(1,), (2,), (3,), (4,)]


def test_kind_single_on_any_size_port_is_an_error(app):
    rx = Collect(app, size=IOSpec.ANY_SIZE, kind="single", name="rx")
    app.add_flow(Source(app, [1], name="src"), rx)
    with pytest.raises(
        GraphError,
        match=re.escape(
            "operator 'rx': input port 'in': receive(kind='single') cannot read an IOSpec.ANY_SIZE port"
        ),
    ) as info:
        app.run()
    assert "raised in operator 'rx'.compute()" in info.value.__notes__


def test_unknown_kind(app):
    rx = Collect(app, kind="many", name="rx")
    app.add_flow(Source(app, [1], name="src"), rx)
    with pytest.raises(ValueError, match="receive kind must be '', 'single' or 'multi', got 'many'"):
        app.run()


def test_receive_and_emit_on_unknown_ports(app):
    class BadRx(Operator):
        def setup(self, spec):
            spec.input("in")

        def compute(self, op_input, op_output, context):
            op_input.receive("in2")

    app.add_flow(Source(app, [1], name="src"), BadRx(app, name="rx"))
    with pytest.raises(
        GraphError, match=re.escape("operator 'rx': no input port 'in2'; declared inputs: ['in']")
    ):
        app.run()


def test_emit_on_unknown_port(app):
    class BadTx(Operator):
        def setup(self, spec):
            spec.output("out")

        def compute(self, op_input, op_output, context):
            op_output.emit(1, "nope")

    app.add_operator(BadTx(app, CountCondition(app, 1), name="tx"))
    with pytest.raises(
        GraphError, match=re.escape("operator 'tx': no output port 'nope'; declared outputs: ['out']")
    ):
        app.run()


def test_port_name_may_be_omitted_with_a_single_port(app):
    class Fwd(Operator):
        def setup(self, spec):
            spec.input("in")
            spec.output("out")

        def compute(self, op_input, op_output, context):
            op_output.emit(op_input.receive() * 2)

    app.add_flow(Source(app, [1, 2], name="src"), fwd := Fwd(app, name="fwd"))
    app.add_flow(fwd, rx := Recorder(app, name="rx"))
    app.run()
    assert rx.received == [2, 4]


class Burst(Operator):
    """Emits ``n`` messages per compute on one port with the given connector settings."""

    def __init__(self, fragment, *args, n=2, capacity=None, policy=None, **kwargs):
        self.n, self.capacity, self.policy = n, capacity, policy
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        port = spec.output("out")
        kwargs = {k: v for k, v in (("capacity", self.capacity), ("policy", self.policy)) if v is not None}
        if kwargs:
            port.connector(IOSpec.ConnectorType.DOUBLE_BUFFER, **kwargs)

    def compute(self, op_input, op_output, context):
        self.base = getattr(self, "base", 0)
        for i in range(self.n):
            op_output.emit(self.base + i, "out")
        self.base += self.n


def test_second_emit_in_one_compute_faults_by_default(app):
    app.add_flow(Burst(app, CountCondition(app, 1), name="tx"), Recorder(app, name="rx"))
    with pytest.raises(
        SchedulingError,
        match=re.escape(
            "operator 'tx': output port 'out': emitted more than 1 message(s) in one compute "
            "under the FAULT policy"
        ),
    ):
        app.run()


@pytest.mark.parametrize(
    ("policy", "expected"), [(IOSpec.QueuePolicy.POP, [1]), (IOSpec.QueuePolicy.REJECT, [0])]
)
def test_emit_overflow_policies(app, policy, expected):
    app.add_flow(Burst(app, CountCondition(app, 1), policy=policy, name="tx"), rx := Recorder(app, name="rx"))
    app.run()
    assert rx.received == expected


def test_capacity_n_output_into_capacity_n_input(app):
    class BigRx(Operator):
        def setup(self, spec):
            spec.input("in", size=IOSpec.IOSize(3))

        def compute(self, op_input, op_output, context):
            self.got = getattr(self, "got", []) + [op_input.receive("in")]

    tx = Burst(app, CountCondition(app, 2), n=3, capacity=3, name="tx")
    app.add_flow(tx, rx := BigRx(app, name="rx"))
    app.run()
    assert rx.got == [(0, 1, 2), (3, 4, 5)]


@pytest.mark.parametrize(("policy", "expected"), [("pop", [1, 2]), ("reject", [0, 1])])
def test_receiver_policy_when_back_pressure_is_removed(app, policy, expected):
    class NoBackPressure(Burst):
        def setup(self, spec):
            spec.output("out").condition(ConditionType.NONE).connector(capacity=3)

    class Rx(Recorder):
        def setup(self, spec):
            spec.input("in", policy=IOSpec.QueuePolicy.POP if policy == "pop" else IOSpec.QueuePolicy.REJECT)
            spec.inputs["in"].connector(capacity=2)

    app.add_flow(NoBackPressure(app, CountCondition(app, 1), n=3, name="tx"), rx := Rx(app, name="rx"))
    app.run()
    assert rx.received == expected


def test_receiver_fault_policy_and_environment_default(app, monkeypatch):
    class NoBackPressure(Burst):
        def setup(self, spec):
            spec.output("out").condition(ConditionType.NONE).connector(capacity=2)

    app.add_flow(NoBackPressure(app, CountCondition(app, 1), n=2, name="tx"), rx := Recorder(app, name="rx"))
    with pytest.raises(
        SchedulingError, match=re.escape("operator 'rx': input port 'in': queue full (1 message(s))")
    ):
        app.run()
    monkeypatch.setenv("HOLOSCAN_QUEUE_POLICY", "pop")
    app.run()
    assert rx.received == [3]
    monkeypatch.setenv("HOLOFLOW_QUEUE_POLICY", "sometimes")
    with pytest.raises(GraphError, match="queue policy 'sometimes' from the environment"):
        app.run()


def test_fan_out_shares_the_same_object(app):
    payload = [1, 2, 3]
    src = Source(app, [payload], name="src")
    a, b = Recorder(app, name="a"), Recorder(app, name="b")
    app.add_flow(src, a)
    app.add_flow(src, b)
    app.run()
    assert a.received[0] is payload and b.received[0] is payload


def test_emit_none_is_delivered_as_none(app):
    app.add_flow(Source(app, [None, 1], name="src"), rx := Recorder(app, name="rx"))
    app.run()
    assert rx.received == [None, 1]


def test_output_connected_to_nothing_does_not_block(app):
    class Tx(Operator):
        def setup(self, spec):
            spec.output("used")
            spec.output("unused")

        def compute(self, op_input, op_output, context):
            op_output.emit(1, "used")
            op_output.emit(2, "unused")

    app.add_flow(Tx(app, CountCondition(app, 3), name="tx"), rx := Recorder(app, name="rx"), {("used", "in")})
    app.run()
    assert rx.received == [1, 1, 1]


def test_execution_context_finds_operators(app):
    class Look(Operator):
        def compute(self, op_input, op_output, context):
            self.found = context.find_operator("look")
            self.missing = context.find_operator("nobody")
            self.gpu = context.is_gpu_available

    look = Look(app, CountCondition(app, 1), name="look")
    app.add_operator(look)
    app.run()
    assert look.found is look and look.missing is None and isinstance(look.gpu, bool)
