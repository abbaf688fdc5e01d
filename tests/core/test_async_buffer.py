"""The async buffer connector (``IOSpec.ConnectorType.ASYNC_BUFFER``): producer and consumer run
at their own rates, the consumer reads the latest message (again until a newer one comes, None
before the first), and the producer never waits. The orders under GreedyScheduler are those
Holoscan 4.6 prints for its ping_simple_async_buffer pattern."""

from __future__ import annotations

import threading

import pytest

from holoflow.conditions import CountCondition
from holoflow.core import (
    AsyncBufferReceiver,
    AsyncBufferTransmitter,
    ConditionType,
    IOSpec,
    Operator,
)
from holoflow.errors import GraphError
from holoflow.resources import AsyncBufferReceiver as ResourcesAsyncBufferReceiver

ASYNC = IOSpec.ConnectorType.ASYNC_BUFFER


class Tx(Operator):
    def __init__(self, fragment, *args, log=None, **kwargs):
        self.log = log if log is not None else []
        self.sent = 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        self.sent += 1
        op_output.emit(self.sent, "out")
        self.log.append(("tx", self.sent))


class Rx(Operator):
    def __init__(self, fragment, *args, log=None, **kwargs):
        self.log = log if log is not None else []
        self.values = []
        self.receivers = []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        self.receivers.append(self.receiver("in"))
        value = op_input.receive("in")
        self.values.append(value)
        self.log.append(("rx", value))


def pipeline(app, tx_count, rx_count):
    log = []
    tx = Tx(app, CountCondition(app, tx_count), name="tx", log=log)
    rx = Rx(app, CountCondition(app, rx_count), name="rx", log=log)
    app.add_flow(tx, rx, ASYNC)
    return tx, rx, log


def test_greedy_reads_each_new_value_then_the_last_one_again(app):
    tx, rx, log = pipeline(app, 5, 12)
    app.run()
    assert log == [entry for i in range(1, 6) for entry in (("tx", i), ("rx", i))] + [("rx", 5)] * 7


def test_greedy_producer_runs_on_after_the_consumer_is_done(app):
    tx, rx, log = pipeline(app, 20, 3)
    app.run()
    assert rx.values == [1, 2, 3]
    assert tx.sent == 20  # a default connector would have held it at a full queue


def test_the_consumer_reads_none_before_the_first_message(app, use_scheduler):
    tx, rx, _ = pipeline(app, 0, 3)
    use_scheduler(app)
    app.run()
    assert rx.values == [None, None, None]


def test_under_every_scheduler_both_sides_run_their_counts_and_reads_never_go_back(app, use_scheduler):
    tx, rx, _ = pipeline(app, 30, 10)
    use_scheduler(app)
    app.run()
    assert tx.sent == 30
    assert len(rx.values) == 10
    seen = [v for v in rx.values if v is not None]
    assert seen == sorted(seen) and set(seen) <= set(range(1, 31))
    assert rx.values[: rx.values.count(None)] == [None] * rx.values.count(None)  # None only first


def test_a_slow_consumer_never_holds_the_producer_back(app, scheduler_kind, use_scheduler):
    """The consumer waits inside compute until the producer has sent everything: with a default
    connector the producer would block at the full queue and the run would hang."""
    done = threading.Event()

    class Waiting(Rx):
        def compute(self, op_input, op_output, context):
            if not self.values:  # the first read waits for the producer to finish
                done.wait(10)
            super().compute(op_input, op_output, context)

    class Signalling(Tx):
        def compute(self, op_input, op_output, context):
            super().compute(op_input, op_output, context)
            if self.sent == 25:
                done.set()

    tx = Signalling(app, CountCondition(app, 25), name="tx")
    rx = Waiting(app, CountCondition(app, 2), name="rx")
    app.add_flow(tx, rx, ASYNC)
    if scheduler_kind == "greedy":
        pytest.skip("one thread: the consumer would wait for a producer that cannot run meanwhile")
    use_scheduler(app)
    app.run()
    assert tx.sent == 25
    assert rx.values[-1] == 25


def test_the_run_gives_the_consumer_an_async_buffer(app):
    tx, rx, _ = pipeline(app, 1, 1)
    app.run()
    (receiver,) = rx.receivers
    assert isinstance(receiver, AsyncBufferReceiver) and isinstance(receiver, ResourcesAsyncBufferReceiver)
    assert receiver.size == 1 and receiver.statistics().dropped == 0


def test_ports_declared_async_in_setup_connect_with_a_default_add_flow(app):
    class AsyncTx(Tx):
        def setup(self, spec):
            spec.output("out").connector(ASYNC)

    class AsyncRx(Rx):
        def setup(self, spec):
            spec.input("in").connector(ASYNC)

    tx = AsyncTx(app, CountCondition(app, 0), name="tx")
    rx = AsyncRx(app, CountCondition(app, 2), name="rx")
    app.add_flow(tx, rx)
    app.run()
    assert rx.values == [None, None]


def test_add_flow_marks_both_ports(app):
    tx, rx, _ = pipeline(app, 1, 1)
    assert tx.spec.outputs["out"].connector_type is ASYNC
    assert rx.spec.inputs["in"].connector_type is ASYNC


def test_the_last_emit_of_a_compute_wins(app):
    class Twice(Tx):
        def compute(self, op_input, op_output, context):
            op_output.emit("first", "out")
            op_output.emit("second", "out")

    tx = Twice(app, CountCondition(app, 1), name="tx")
    rx = Rx(app, CountCondition(app, 2), name="rx")
    app.add_flow(tx, rx, ASYNC)
    app.run()
    assert rx.values == ["second", "second"]


# -- what an async buffer cannot be -------------------------------------------------------------------


def test_one_output_cannot_feed_two_async_buffers(app):
    tx = Tx(app, name="tx")
    app.add_flow(tx, Rx(app, name="rx1"), ASYNC)
    with pytest.raises(GraphError, match="output port 'out' of operator 'tx' is connected already"):
        app.add_flow(tx, Rx(app, name="rx2"), ASYNC)


def test_an_input_cannot_take_a_second_producer(app):
    rx = Rx(app, name="rx")
    app.add_flow(Tx(app, name="tx1"), rx)
    with pytest.raises(GraphError, match="input port 'in' of operator 'rx' is connected already"):
        app.add_flow(Tx(app, name="tx2"), rx, ASYNC)


def test_a_port_in_two_pairs_is_refused(app):
    class TwoIn(Operator):
        def setup(self, spec):
            spec.input("a")
            spec.input("b")

    with pytest.raises(GraphError, match=r"output port\(s\) \['out'\] appear in several pairs"):
        app.add_flow(Tx(app, name="tx"), TwoIn(app, name="rx"), {("out", "a"), ("out", "b")}, ASYNC)


def test_a_default_connection_onto_an_async_port_fails_before_the_run(app):
    tx = Tx(app, CountCondition(app, 1), name="tx")
    app.add_flow(tx, Rx(app, CountCondition(app, 1), name="rx1"), ASYNC)
    app.add_flow(tx, Rx(app, CountCondition(app, 1), name="rx2"))
    with pytest.raises(GraphError, match=r"output port 'out' \(ASYNC_BUFFER\): connected to 2 inputs"):
        app.run()


def test_ends_that_disagree_fail_before_the_run(app):
    class AsyncRx(Rx):
        def setup(self, spec):
            spec.input("in").connector(ASYNC)

    app.add_flow(Tx(app, CountCondition(app, 1), name="tx"), AsyncRx(app, CountCondition(app, 1), name="rx"))
    with pytest.raises(
        GraphError, match="its producer's operator 'tx': output port 'out' is not an async buffer"
    ):
        app.run()


def test_an_async_input_holds_one_message(app):
    class Batch(Rx):
        def setup(self, spec):
            spec.input("in", size=2).connector(ASYNC)

    class AsyncTx(Tx):
        def setup(self, spec):
            spec.output("out").connector(ASYNC)

    app.add_flow(
        AsyncTx(app, CountCondition(app, 1), name="tx"), Batch(app, CountCondition(app, 1), name="rx")
    )
    with pytest.raises(GraphError, match="an async buffer holds one message"):
        app.run()


def test_an_async_input_takes_no_expiring_condition(app):
    class Expiring(Rx):
        def setup(self, spec):
            spec.input("in").condition(
                ConditionType.EXPIRING_MESSAGE_AVAILABLE, max_batch_size=1, max_delay_ns=1000
            )

    app.add_flow(Tx(app, CountCondition(app, 1), name="tx"), Expiring(app, name="rx"), ASYNC)
    with pytest.raises(GraphError, match="cannot take an expiring condition"):
        app.run()


def test_a_control_flow_takes_only_the_default_connector(app):
    with pytest.raises(GraphError, match="a control flow takes the default connector"):
        app.add_flow(Operator(app, name="a"), Operator(app, name="b"), ASYNC)


def test_standalone_buffers_behave_like_the_run_ones(app):
    receiver = AsyncBufferReceiver(app)
    assert receiver.name == "async_buffer_receiver" and receiver.take() is None and receiver.size == 0
    receiver.push(1, 0)
    receiver.push(2, 0)
    assert receiver.peek() == [2] and receiver.take() == 2 and receiver.take() == 2
    transmitter = AsyncBufferTransmitter(app, name="tx")
    transmitter.receivers.append(receiver)
    transmitter.pending.append(3)
    transmitter.overflow(4)
    transmitter.deliver(0)
    assert receiver.take() == 4 and transmitter.name == "tx"
