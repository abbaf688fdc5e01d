"""GreedyScheduler: ordering, termination, time limits, sleeping and error handling."""

from __future__ import annotations

import time

import pytest

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import ConditionType, Operator
from holoflow.schedulers import GreedyScheduler
from holoflow.testing import Recorder, Source


class Forever(Operator):
    def compute(self, op_input, op_output, context):
        self.n = getattr(self, "n", 0) + 1


class Middle(Operator):
    """An input without a default condition: runs on every tick of its own count."""

    def setup(self, spec):
        spec.input("in").condition(ConditionType.NONE)
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(op_input.receive("in"), "out")


def test_none_condition_middle_sees_values_then_nones(app):
    """Deterministic order: exactly `count` values, then `count` Nones (as Holoscan's greedy)."""
    count = 5
    tx = Source(app, range(1, count + 1), name="tx")
    mx = Middle(app, CountCondition(app, 2 * count), name="mx")
    app.add_flow(tx, mx)
    app.add_flow(mx, rx := Recorder(app, name="rx"))
    app.run()
    assert rx.received == [1, 2, 3, 4, 5] + [None] * 5


def test_deadlock_ends_the_run(app):
    app.add_flow(Source(app, [1, 2], name="tx"), rx := Recorder(app, name="rx"))
    app.scheduler(GreedyScheduler(app, stop_on_deadlock=True))
    app.run()
    assert rx.received == [1, 2]


def test_deadlock_timeout_waits_before_ending(app):
    app.add_flow(Source(app, [1], name="tx"), Recorder(app, name="rx"))
    app.scheduler(GreedyScheduler(app, stop_on_deadlock_timeout=100))
    t0 = time.monotonic()
    app.run()
    assert time.monotonic() - t0 >= 0.099


def test_without_stop_on_deadlock_max_duration_ends_the_run(app):
    app.add_flow(Source(app, [1], name="tx"), Recorder(app, name="rx"))
    app.scheduler(GreedyScheduler(app, stop_on_deadlock=False, max_duration_ms=100))
    t0 = time.monotonic()
    cpu0 = time.process_time()
    app.run()
    wall = time.monotonic() - t0
    assert 0.099 <= wall < 2.0
    assert time.process_time() - cpu0 < 0.5 * wall  # waited asleep


def test_max_duration_stops_an_always_ready_operator(app):
    op = Forever(app, name="op")
    app.add_operator(op)
    app.scheduler(GreedyScheduler(app, max_duration_ms=50))
    t0 = time.monotonic()
    app.run()
    assert 0.049 <= time.monotonic() - t0 < 2.0
    assert op.n > 10


def test_max_duration_bounds_a_long_periodic_wait(app):
    op = Forever(app, PeriodicCondition(app, "10s"), name="op")
    app.add_operator(op)
    app.scheduler(GreedyScheduler(app, max_duration_ms=100))
    t0 = time.monotonic()
    app.run()
    assert time.monotonic() - t0 < 2.0
    assert op.n == 1


def test_scheduler_validation(app):
    with pytest.raises(TypeError, match="clock must be a Clock"):
        GreedyScheduler(app, clock="wall")
    with pytest.raises(ValueError, match="must be >= 0"):
        GreedyScheduler(app, check_recession_period_ms=-1)


def test_empty_graph_returns(app):
    app.run()


def test_many_runs_do_not_accumulate_state(app):
    app.add_flow(Source(app, range(3), name="tx"), rx := Recorder(app, name="rx"))
    for _ in range(200):
        app.run()
    assert rx.received == [0, 1, 2] * 200
