"""What a fragment hands its data loggers: ids, directions, data, metadata, timestamps, under
every scheduler; and that fragments without loggers keep the plain contexts."""

from __future__ import annotations

import numpy as np
import pytest

from holoflow.conditions import CountCondition
from holoflow.core import Application, ConditionType, InputContext, OutputContext
from holoflow.data_loggers import BasicConsoleLogger
from holoflow.tensor import Tensor, TensorMap

from ._graphs import INPUT, OUTPUT, ArrayTx, CountTx, Recorder, Sink, chain


def test_every_emit_and_receive_is_logged_once_under_every_scheduler(app, use_scheduler):
    use_scheduler(app)
    chain(app, 4)
    recorder = Recorder()
    app.add_data_logger(recorder)
    app.run()
    assert recorder.ids(OUTPUT) == ["tx.out"] * 4
    assert recorder.ids(INPUT) == ["rx.in"] * 4
    emitted = [c for c in recorder.calls if c[5] is OUTPUT]
    received = [c for c in recorder.calls if c[5] is INPUT]
    assert [c[2] for c in emitted] == [1, 2, 3, 4]
    assert sorted(c[2] for c in received) == [1, 2, 3, 4]
    assert {c[0] for c in recorder.calls} == {"data"}
    # acquisition timestamps travel with the message to the receiving side too
    assert [c[3] for c in emitted] == [1000, 2000, 3000, 4000]
    assert sorted(c[3] for c in received) == [1000, 2000, 3000, 4000]
    assert (recorder.initialized, recorder.shut_down) == (1, 1)


def test_metadata_is_the_operators_at_the_call(app):
    chain(app, 2)
    recorder = Recorder()
    app.add_data_logger(recorder)
    app.run()
    by_dir = {io: [c[4] for c in recorder.calls if c[5] is io] for io in (INPUT, OUTPUT)}
    assert by_dir[OUTPUT] == [{"n": 1}, {"n": 2}]
    assert by_dir[INPUT] == [{"n": 1}, {"n": 2}]  # the receiver's metadata after the merge


def test_metadata_disabled_is_not_passed(app):
    app.enable_metadata(False)
    chain(app, 1)
    recorder = Recorder()
    app.add_data_logger(recorder)
    app.run()
    assert [c[4] for c in recorder.calls] == [None, None]


def test_tensor_messages_reach_the_tensor_methods(app):
    tx = ArrayTx(app, CountCondition(app, 1), name="tx")
    rx = Sink(app, inputs=("in", "raw"), name="rx")
    app.add_flow(tx, rx, {("out", "in"), ("raw", "raw")})
    recorder = Recorder()
    app.add_data_logger(recorder)
    app.run()
    kinds = {(c[1], c[0]) for c in recorder.calls}
    assert kinds == {("tx.out", "tensormap"), ("rx.in", "tensormap"), ("tx.raw", "data"), ("rx.raw", "data")}
    emitted = next(c[2] for c in recorder.calls if c[1] == "tx.out")
    assert type(emitted) is TensorMap and isinstance(emitted["image"], Tensor)
    received = next(c[2] for c in recorder.calls if c[1] == "rx.in")
    assert received is rx.got[0]  # what compute got, not a copy


def test_any_size_port_logs_each_connection_with_its_index(app):
    app.enable_metadata(False)
    a = CountTx(app, CountCondition(app, 1), name="a")
    b = CountTx(app, CountCondition(app, 1), name="b")
    rx = Sink(app, inputs=(), any_size=("many",), name="rx")
    app.add_flow(a, rx, {("out", "many")})
    app.add_flow(b, rx, {("out", "many")})
    recorder = Recorder()
    app.add_data_logger(recorder)
    app.run()
    assert recorder.ids(INPUT) == ["rx.many:0", "rx.many:1"]


def test_nothing_received_is_not_logged(app):
    tx = CountTx(app, CountCondition(app, 2), name="tx")
    idle = CountTx(app, CountCondition(app, 0), name="idle")
    rx = Sink(app, inputs=("in", "other"), name="rx")
    rx.spec.inputs["other"].condition(ConditionType.NONE)  # the port may be empty when rx runs
    app.add_flow(tx, rx, {("out", "in")})
    app.add_flow(idle, rx, {("out", "other")})
    recorder = Recorder()
    app.add_data_logger(recorder)
    app.run()
    assert rx.got == [1, None, 2, None]
    assert recorder.ids(INPUT) == ["rx.in", "rx.in"]


@pytest.mark.parametrize(
    ("inputs", "outputs", "expected"), [(True, False, ["rx.in"]), (False, True, ["tx.out"])]
)
def test_one_direction(app, inputs, outputs, expected):
    chain(app, 1)
    recorder = Recorder(inputs=inputs, outputs=outputs)
    app.add_data_logger(recorder)
    app.run()
    assert recorder.ids() == expected


def test_without_loggers_the_run_builds_the_plain_contexts(app):
    tx, rx = chain(app, 1)
    seen = []

    class Look(CountTx):
        def compute(self, op_input, op_output, context):
            seen.append((type(op_input), type(op_output)))
            super().compute(op_input, op_output, context)

    look = Look(app, CountCondition(app, 1), name="look")
    app.add_operator(look)
    app.run()
    assert seen == [(InputContext, OutputContext)]
    app.add_data_logger(Recorder())
    app.run()
    assert seen[1] != (InputContext, OutputContext)
    assert issubclass(seen[1][0], InputContext) and issubclass(seen[1][1], OutputContext)


def test_loggers_are_kept_in_order_and_checked(app):
    first, second = Recorder(), BasicConsoleLogger(app)
    app.add_data_logger(first)
    app.add_data_logger(second)
    assert app.data_loggers == [first, second]
    with pytest.raises(TypeError, match="add_data_logger\\(\\) takes a DataLogger, not int"):
        app.add_data_logger(3)


def test_each_run_initializes_and_shuts_down_its_loggers():
    app = Application([])
    chain(app, 1)
    recorder = Recorder()
    app.add_data_logger(recorder)
    app.run()
    app.run()
    assert (recorder.initialized, recorder.shut_down) == (2, 2)
    assert len(recorder.calls) == 4


def test_a_fragment_logs_its_own_operators_only():
    from holoflow.core import Fragment

    app = Application([])
    fragment = Fragment(app, "f")
    chain(fragment, 1)
    recorder = Recorder()
    fragment.add_data_logger(recorder)
    fragment.run()
    assert recorder.ids() == ["rx.in", "tx.out"]
    assert app.data_loggers == []


def test_emit_logs_after_the_message_is_queued_and_errors_still_raise(app):
    from holoflow.errors import GraphError

    class Bad(CountTx):
        def compute(self, op_input, op_output, context):
            op_output.emit(1, "nope")

    app.add_operator(Bad(app, CountCondition(app, 1), name="bad"))
    app.add_data_logger(Recorder())
    with pytest.raises(GraphError, match="no output port 'nope'"):
        app.run()


def test_numpy_scalar_and_object_messages_are_logged_as_data(app):
    class Tx(CountTx):
        def compute(self, op_input, op_output, context):
            op_output.emit(np.float32(2.5), "out")

    tx = Tx(app, CountCondition(app, 1), name="tx")
    rx = Sink(app, name="rx")
    app.add_flow(tx, rx)
    recorder = Recorder()
    app.add_data_logger(recorder)
    app.run()
    assert [(c[0], float(c[2])) for c in recorder.calls] == [("data", 2.5), ("data", 2.5)]


def test_sides_no_logger_wants_keep_the_plain_contexts(app):
    seen = {}

    class Look(Sink):
        def compute(self, op_input, op_output, context):
            seen[self.name] = (type(op_input), type(op_output))
            super().compute(op_input, op_output, context)

    tx = CountTx(app, CountCondition(app, 1), name="tx")
    rx = Look(app, name="rx")
    app.add_flow(tx, rx)
    app.add_data_logger(BasicConsoleLogger(app, allowlist_patterns=["^tx\\."]))
    app.run()
    assert seen["rx"] == (InputContext, OutputContext)
