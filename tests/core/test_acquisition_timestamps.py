"""Acquisition timestamps travel with messages; the scheduler exposes the clock they refer to."""

from __future__ import annotations

import pytest

from holoflow.conditions import CountCondition, PeriodicCondition, PeriodicConditionPolicy
from holoflow.core import ConditionType, IOSpec, ManualClock, Operator, RealtimeClock
from holoflow.errors import GraphError
from holoflow.schedulers import GreedyScheduler


class StampedTx(Operator):
    """Emits i on "out" with acquisition timestamp 1000 * i (None: without one)."""

    def __init__(self, fragment, stamps, *args, **kwargs):
        self.stamps = stamps
        self.index = 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        stamp = self.stamps[self.index % len(self.stamps)]
        if stamp is None:
            op_output.emit(self.index, "out")
        else:
            op_output.emit(self.index, "out", acq_timestamp=stamp)
        self.index += 1


class TimestampRx(Operator):
    def __init__(self, fragment, log, *args, size=1, **kwargs):
        self.log = log
        self.size = size
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in", size=self.size)

    def compute(self, op_input, op_output, context):
        value = op_input.receive("in")
        self.log.append(
            (value, op_input.get_acquisition_timestamp("in"), op_input.get_acquisition_timestamps())
        )


def test_timestamps_reach_the_receiver_and_reset_per_compute(app, use_scheduler):
    log = []
    tx = StampedTx(app, [5, None, 7], CountCondition(app, 3), name="tx")
    rx = TimestampRx(app, log, name="rx")
    app.add_flow(tx, rx)
    use_scheduler(app)
    app.run()
    assert log == [(0, 5, [5]), (1, None, []), (2, 7, [7])]


def test_a_batch_port_reports_every_timestamp_in_order(app, use_scheduler):
    log = []
    tx = StampedTx(app, [10, None, 30], CountCondition(app, 6), name="tx")
    rx = TimestampRx(app, log, size=3, name="rx")
    app.add_flow(tx, rx)
    use_scheduler(app)
    app.run()
    assert log == [((0, 1, 2), 10, [10, 30]), ((3, 4, 5), 10, [10, 30])]


def test_timestamps_and_metadata_travel_together(app, use_scheduler):
    log = []

    class Tagged(StampedTx):
        def compute(self, op_input, op_output, context):
            self.metadata["frame"] = self.index
            super().compute(op_input, op_output, context)

    class Both(TimestampRx):
        def compute(self, op_input, op_output, context):
            super().compute(op_input, op_output, context)
            self.log.append(self.metadata.get("frame"))

    app.add_flow(Tagged(app, [100, 200], CountCondition(app, 2), name="tx"), Both(app, log, name="rx"))
    use_scheduler(app)
    app.run()
    assert log == [(0, 100, [100]), 0, (1, 200, [200]), 1]


def test_unknown_port_raises(app):
    errors = []

    class Asker(TimestampRx):
        def compute(self, op_input, op_output, context):
            op_input.receive("in")
            with pytest.raises(GraphError, match="no input port 'nope'") as info:
                op_input.get_acquisition_timestamp("nope")
            errors.append(info.value)

    app.add_flow(StampedTx(app, [1], CountCondition(app, 1), name="tx"), Asker(app, [], name="rx"))
    app.run()
    assert len(errors) == 1


def test_expiring_messages_age_from_their_acquisition(app):
    """Messages acquired long ago expire at once, although they just arrived."""
    clock = ManualClock(app, initial_timestamp=10_000_000_000)
    batches = []

    class Old(StampedTx):
        def compute(self, op_input, op_output, context):
            self.stamps = [clock.timestamp() - 5_000_000_000]  # acquired 5 s ago
            super().compute(op_input, op_output, context)

    class Batcher(Operator):
        def setup(self, spec):
            spec.input("in").connector(IOSpec.ConnectorType.DOUBLE_BUFFER, capacity=10).condition(
                ConditionType.EXPIRING_MESSAGE_AVAILABLE, max_batch_size=10, max_delay_ns=1_000_000_000
            )

        def compute(self, op_input, op_output, context):
            batch = []
            while (value := op_input.receive("in")) is not None:
                batch.append(value)
            batches.append((batch, clock.timestamp()))

    tx = Old(app, [0], CountCondition(app, 3), PeriodicCondition(app, 100_000_000), name="tx")
    app.add_flow(tx, Batcher(app, name="rx"))
    app.scheduler(GreedyScheduler(app, clock=clock))
    app.run()
    # each message is already 5 s old (> 1 s) when it arrives: it leaves in a batch of its own
    assert [batch for batch, _ in batches] == [[0], [1], [2]]


def test_the_scheduler_exposes_the_clock_of_the_run(app, scheduler_kind, use_scheduler):
    seen = []

    class Reader(Operator):
        def compute(self, op_input, op_output, context):
            clock = self.fragment.scheduler().clock
            seen.append((clock, clock.timestamp()))

    app.add_operator(Reader(app, CountCondition(app, 2), name="reader"))
    scheduler = use_scheduler(app)
    assert scheduler.clock is None
    app.run()
    (first, t1), (second, t2) = seen
    assert first is second is scheduler.clock
    assert isinstance(first, RealtimeClock) and 0 <= t1 <= t2
    app.run()
    assert seen[2][0] is scheduler.clock and seen[2][0] is not first  # a fresh clock per run


def test_a_given_clock_is_kept(app):
    clock = ManualClock(app)
    scheduler = app.scheduler(GreedyScheduler(app, clock=clock))
    app.add_operator(Operator(app, CountCondition(app, 1), name="op"))
    app.run()
    assert scheduler.clock is clock


def test_scheduler_before_run_is_a_default_greedy_scheduler(app):
    scheduler = app.scheduler()
    assert isinstance(scheduler, GreedyScheduler)
    assert app.scheduler() is scheduler


@pytest.mark.parametrize(
    ("name", "policy"),
    [
        ("CatchUpMissedTicks", PeriodicConditionPolicy.CATCH_UP_MISSED_TICKS),
        ("MinTimeBetweenTicks", PeriodicConditionPolicy.MIN_TIME_BETWEEN_TICKS),
        ("NoCatchUpMissedTicks", PeriodicConditionPolicy.NO_CATCH_UP_MISSED_TICKS),
        ("MIN_TIME_BETWEEN_TICKS", PeriodicConditionPolicy.MIN_TIME_BETWEEN_TICKS),
    ],
)
def test_periodic_policy_by_name(app, name, policy):
    assert PeriodicCondition(app, 1000, policy=name).policy is policy


def test_unknown_periodic_policy_name_raises(app):
    with pytest.raises(ValueError, match="unknown policy 'Sometimes'.*MinTimeBetweenTicks"):
        PeriodicCondition(app, 1000, policy="Sometimes")
