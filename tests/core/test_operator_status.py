"""``OperatorStatus`` and ``ExecutionContext.get_operator_status``: the lifecycle every scheduler
reports, seen from the operator itself, from other operators and from other threads."""

from __future__ import annotations

import threading
import time

import pytest

from holoflow.conditions import AsynchronousEventState, CountCondition
from holoflow.core import Operator, OperatorStatus
from holoflow.errors import GraphError

S = OperatorStatus


def wait_until(predicate, what: str, timeout: float = 10.0) -> None:
    """Poll ``predicate`` until it holds; fail (never hang) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.001)


def test_members_and_values_are_holoscans():
    assert [(m.name, m.value) for m in OperatorStatus] == [
        ("NOT_STARTED", 0),
        ("START_PENDING", 1),
        ("STARTED", 2),
        ("TICK_PENDING", 3),
        ("TICKING", 4),
        ("IDLE", 5),
        ("STOP_PENDING", 6),
    ]
    assert int(OperatorStatus.IDLE) == 5


def test_an_operator_sees_its_own_status_in_each_lifecycle_method(app, use_scheduler):
    seen = []

    class Op(Operator):
        def initialize(self):
            super().initialize()
            seen.append(("initialize", self.execution_context.get_operator_status()))

        def start(self):
            seen.append(("start", self.execution_context.get_operator_status(self.name)))

        def compute(self, op_input, op_output, context):
            assert context is self.execution_context
            assert context.find_operator() is self
            seen.append(("compute", context.get_operator_status()))

        def stop(self):
            seen.append(("stop", self.execution_context.get_operator_status()))

    op = Op(app, CountCondition(app, 2), name="op")
    app.add_operator(op)
    use_scheduler(app)
    assert op.execution_context is None
    app.run()
    assert seen == [
        ("initialize", S.NOT_STARTED),
        ("start", S.START_PENDING),
        ("compute", S.TICKING),
        ("compute", S.TICKING),
        ("stop", S.STOP_PENDING),
    ]
    assert op.execution_context is None


def test_statuses_of_neighbours_seen_during_compute(app, use_scheduler, scheduler_kind):
    seen: dict[str, list[tuple[OperatorStatus, OperatorStatus]]] = {"tx": [], "rx": []}

    class Tx(Operator):
        def setup(self, spec):
            spec.output("out")

        def compute(self, op_input, op_output, context):
            seen["tx"].append((context.get_operator_status(), context.get_operator_status("rx")))
            op_output.emit(1, "out")

    class Rx(Operator):
        def setup(self, spec):
            spec.input("in")

        def compute(self, op_input, op_output, context):
            op_input.receive("in")
            seen["rx"].append((context.get_operator_status(), context.get_operator_status("tx")))

    app.add_flow(Tx(app, CountCondition(app, 3), name="tx"), Rx(app, name="rx"))
    use_scheduler(app)
    app.run()
    # Nothing has reached rx before tx's first compute returns: rx is started, not yet run.
    assert seen["tx"][0] == (S.TICKING, S.STARTED)
    assert len(seen["tx"]) == len(seen["rx"]) == 3
    assert all(own is S.TICKING for own, _ in seen["tx"] + seen["rx"])
    if scheduler_kind == "greedy":
        # One thread: whoever computes is the only operator not idle.
        assert [other for _, other in seen["tx"][1:]] == [S.IDLE, S.IDLE]
        assert [other for _, other in seen["rx"]] == [S.IDLE, S.IDLE, S.IDLE]
    else:
        # tx may already be busy with its next message while rx handles this one.
        assert {other for _, other in seen["rx"]} <= {S.IDLE, S.TICK_PENDING, S.TICKING}
        assert {other for _, other in seen["tx"][1:]} <= {S.IDLE, S.TICK_PENDING, S.TICKING}


def test_whole_lifecycle_seen_from_another_thread(app, use_scheduler):
    """Each stage is held open by a gate, so the watcher sees every status without timing luck."""
    gates = {name: threading.Event() for name in ("start", "compute", "stop")}

    class Worker(Operator):
        def start(self):
            assert gates["start"].wait(10)
            # Not runnable until the watcher says so; a WAIT_EVENT keeps the run alive meanwhile.
            self.async_condition.event_state = AsynchronousEventState.EVENT_WAITING

        def compute(self, op_input, op_output, context):
            self.computed = getattr(self, "computed", 0) + 1
            assert gates["compute"].wait(10)

        def stop(self):
            assert gates["stop"].wait(10)

    class Keeper(Operator):
        """Keeps the run alive (waiting for an event) until it is stopped."""

        def start(self):
            self.async_condition.event_state = AsynchronousEventState.EVENT_WAITING

    worker, keeper = Worker(app, name="worker"), Keeper(app, name="keeper")
    app.add_operator(worker)
    app.add_operator(keeper)
    use_scheduler(app)
    future = app.run_async()
    try:
        wait_until(lambda: worker.execution_context is not None, "the run to initialize the worker")
        context = worker.execution_context
        seen = []

        def reach(status: OperatorStatus) -> None:
            wait_until(lambda: context.get_operator_status("worker") is status, f"worker {status.name}")
            seen.append(status)

        reach(S.START_PENDING)
        gates["start"].set()
        reach(S.STARTED)
        worker.async_condition.event_state = AsynchronousEventState.EVENT_DONE
        reach(S.TICKING)
        gates["compute"].set()
        reach(S.IDLE)
        assert worker.async_condition.event_state is AsynchronousEventState.EVENT_WAITING
        worker.stop_execution()
        assert context.get_operator_status("worker") is S.IDLE  # finished, not yet stopped
        keeper.stop_execution()  # the last live operator: the run ends and stops everyone
        reach(S.STOP_PENDING)
        gates["stop"].set()
        future.result(timeout=10)
    finally:
        for gate in gates.values():
            gate.set()
    assert context.get_operator_status("worker") is S.NOT_STARTED
    assert seen == [S.START_PENDING, S.STARTED, S.TICKING, S.IDLE, S.STOP_PENDING]
    assert worker.computed == 1


def test_a_finished_operator_stays_idle_until_the_run_stops(app, use_scheduler):
    seen = []

    class Done(Operator):
        def compute(self, op_input, op_output, context):
            pass

    class Watch(Operator):
        def compute(self, op_input, op_output, context):
            status = context.get_operator_status("done")
            seen.append(status)
            if status is S.IDLE and len([s for s in seen if s is S.IDLE]) == 3:
                self.stop_execution()

    app.add_operator(Done(app, CountCondition(app, 1), name="done"))
    # The count only bounds the test: watch stops itself after seeing "done" idle three times.
    app.add_operator(Watch(app, CountCondition(app, 100_000), name="watch"))
    use_scheduler(app)
    app.run()
    assert seen[-3:] == [S.IDLE] * 3
    assert len(seen) < 100_000
    assert set(seen) <= {S.STARTED, S.TICK_PENDING, S.TICKING, S.IDLE}


def test_unknown_operator_is_a_graph_error(app, use_scheduler):
    errors = []

    class Op(Operator):
        def compute(self, op_input, op_output, context):
            with pytest.raises(
                GraphError, match=r"no operator 'nope' in the running graph; operators: \['op'\]"
            ):
                context.get_operator_status("nope")
            errors.append(True)

    app.add_operator(Op(app, CountCondition(app, 1), name="op"))
    use_scheduler(app)
    app.run()
    assert errors == [True]


def test_a_context_kept_after_the_run_reports_not_started(app):
    kept = []

    class Op(Operator):
        def compute(self, op_input, op_output, context):
            kept.append(context)

    app.add_operator(Op(app, CountCondition(app, 1), name="op"))
    app.run()
    assert kept[0].get_operator_status() is S.NOT_STARTED
    assert kept[0].get_operator_status("op") is S.NOT_STARTED
