"""``Operator.async_condition`` and ``Operator.stop_execution``: every operator's internal
asynchronous condition, driven from compute, from other operators and from other threads."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from holoflow.conditions import AsynchronousCondition, AsynchronousEventState, CountCondition
from holoflow.core import Operator, SchedulingStatusType
from holoflow.core.run import GraphRun
from holoflow.testing import Recorder

E = AsynchronousEventState


def wait_until(predicate, what: str, timeout: float = 10.0) -> None:
    """Poll ``predicate`` until it holds; fail (never hang) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.001)


class Counter(Operator):
    """Counts its computes; emits the count when it has an output."""

    def __init__(self, fragment, *args, output=False, **kwargs):
        self.output, self.n = output, 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        if self.output:
            spec.output("out")

    def compute(self, op_input, op_output, context):
        self.n += 1
        if self.output:
            op_output.emit(self.n, "out")


def test_async_condition_exists_only_during_the_run(app, use_scheduler):
    seen = []

    class Op(Operator):
        def initialize(self):
            seen.append(self.async_condition)  # already there before the base initialize
            super().initialize()

        def compute(self, op_input, op_output, context):
            seen.append(self.async_condition)

    op = Op(app, CountCondition(app, 1), name="op")
    app.add_operator(op)
    use_scheduler(app)
    assert op.async_condition is None
    op.stop_execution()  # outside a run: nothing to stop, no error
    app.run()
    first, during = seen
    assert first is during
    assert isinstance(first, AsynchronousCondition)
    assert first.name == "_internal_async_condition"
    assert first.operator is op
    assert first.event_state is E.READY
    assert op.async_condition is None
    assert "_internal_async_condition" not in op.conditions

    # Each run gets a fresh one, READY again even after the previous run stopped the operator.
    op.stop_execution()
    seen.clear()
    app.run()
    assert seen[1] is not first
    assert seen[1].event_state is E.READY


def test_stop_execution_from_another_thread_ends_one_operator(app, use_scheduler):
    """An endless operator is stopped from outside; the rest of the graph runs to its end."""
    forever = Counter(app, name="forever", output=True)  # no condition: ready on every pass
    sink = Recorder(app, name="sink")
    later = Counter(app, CountCondition(app, 1), name="later")
    app.add_flow(forever, sink)
    app.add_operator(later)

    class Hold(Operator):
        """Waits for an event, so that the run outlives ``forever``; then lets ``later`` run."""

        def start(self):
            self.async_condition.event_state = E.EVENT_WAITING
            later.async_condition.event_state = E.WAIT

        def compute(self, op_input, op_output, context):
            later.async_condition.event_state = E.READY
            self.stop_execution()

    app.add_operator(hold := Hold(app, name="hold"))
    use_scheduler(app)
    future = app.run_async()
    wait_until(lambda: forever.n >= 5, "forever to tick")
    forever.stop_execution()
    stopped_at = forever.n
    time.sleep(0.05)  # room for a wrong extra compute to show; the assert holds with any delay
    # A compute in progress may finish; none starts after stop_execution returned.
    assert forever.n <= stopped_at + 1
    assert later.n == 0
    hold.async_condition.event_state = E.EVENT_DONE
    future.result(timeout=10)
    assert forever.n <= stopped_at + 1
    assert sink.received == list(range(1, forever.n + 1))  # what it emitted is still delivered
    assert later.n == 1


def test_stop_execution_inside_compute_delivers_that_compute(app, use_scheduler):
    class Three(Counter):
        def compute(self, op_input, op_output, context):
            super().compute(op_input, op_output, context)
            if self.n == 3:
                self.stop_execution()

    tx = Three(app, name="tx", output=True)
    app.add_flow(tx, rx := Recorder(app, name="rx"))
    use_scheduler(app)
    app.run()
    assert tx.n == 3
    assert rx.received == [1, 2, 3]


def test_wait_in_initialize_gates_compute_until_the_run_deadlocks(app, use_scheduler):
    class Gated(Counter):
        def initialize(self):
            super().initialize()
            self.async_condition.event_state = E.WAIT

    app.add_operator(gated := Gated(app, name="gated"))
    use_scheduler(app)
    app.run()  # nothing ready, nothing waiting for an event: a deadlock ends the run
    assert gated.n == 0


def test_events_from_a_thread_drive_the_internal_condition(app, use_scheduler):
    """The pattern of Holoscan's ping_async: EVENT_WAITING, then EVENT_DONE once per event."""
    computed = threading.Semaphore(0)

    class Driven(Counter):
        def start(self):
            self.async_condition.event_state = E.EVENT_WAITING

        def compute(self, op_input, op_output, context):
            super().compute(op_input, op_output, context)
            computed.release()

    app.add_operator(driven := Driven(app, name="driven"))
    use_scheduler(app)
    future = app.run_async()
    wait_until(lambda: driven.async_condition is not None, "the run to start")
    condition = driven.async_condition
    wait_until(lambda: condition.event_state is E.EVENT_WAITING, "start")
    for _ in range(3):
        condition.event_state = E.EVENT_DONE
        assert computed.acquire(timeout=10)
        wait_until(lambda: condition.event_state is E.EVENT_WAITING, "the event to be consumed")
    condition.event_state = E.EVENT_NEVER
    future.result(timeout=10)
    assert driven.n == 3


def test_an_untouched_internal_condition_is_not_evaluated(app):
    """Operators nobody controls pay nothing: the condition joins the evaluated ones on its first
    state change only."""
    app.add_operator(op := Counter(app, name="op"))
    app.compose_graph()
    run = GraphRun(app)
    run.initialize()
    (op_run,) = run.ops
    assert op_run.conds == [] and op_run.exec_conds == []
    op.async_condition.event_state = E.EVENT_WAITING
    assert op_run.conds == [op.async_condition] == op_run.exec_conds
    op.async_condition.event_state = E.EVENT_DONE
    assert len(op_run.conds) == 1
    run.stop()


_EXPECTED = {
    E.READY: SchedulingStatusType.READY,
    E.WAIT: SchedulingStatusType.WAIT,
    E.EVENT_WAITING: SchedulingStatusType.WAIT_EVENT,
    E.EVENT_DONE: SchedulingStatusType.READY,
    E.EVENT_NEVER: SchedulingStatusType.NEVER,
}


@given(st.lists(st.sampled_from(list(E)), max_size=6))
def test_the_operator_status_follows_the_last_state_set(states):
    """Whatever was set before, the run evaluates the operator by the latest state."""
    from holoflow.core import Application

    app = Application([])
    app.add_operator(op := Counter(app, name="op"))
    app.compose_graph()
    run = GraphRun(app)
    run.initialize()
    (op_run,) = run.ops
    for state in states:
        op.async_condition.event_state = state
    status, _ = run.evaluate(op_run, 0)
    assert status is _EXPECTED[states[-1] if states else E.READY]
    run.stop()
