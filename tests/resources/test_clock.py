"""Clocks: real-time with offset and scale, manual time that jumps when waited on."""

from __future__ import annotations

import datetime
import threading
import time

import pytest

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Clock, Operator
from holoflow.resources import ManualClock, RealtimeClock
from holoflow.schedulers import GreedyScheduler


def test_realtime_clock_advances_with_offset(app):
    clock = RealtimeClock(app, initial_time_offset=5.0)
    first = clock.timestamp()
    assert first >= 5_000_000_000
    clock.sleep_for("20ms")
    assert clock.timestamp() - first >= 19_000_000
    assert abs(clock.time() - clock.timestamp() / 1e9) < 0.01


def test_realtime_clock_scale(app):
    clock = RealtimeClock(app, initial_time_scale=10.0)
    t0, c0 = time.monotonic(), clock.timestamp()
    clock.sleep_until(c0 + 200_000_000)  # 200 ms of clock time = 20 ms real at scale 10
    assert time.monotonic() - t0 < 0.15
    with pytest.raises(ValueError, match="time scale must be > 0"):
        clock.set_time_scale(0)


def test_epoch_clock(app):
    clock = RealtimeClock(app, use_time_since_epoch=True)
    assert abs(clock.timestamp() - time.time_ns()) < 1e9


def test_wait_until_returns_early_when_woken(app):
    clock = RealtimeClock(app)
    wake = threading.Event()
    threading.Timer(0.02, wake.set).start()
    t0 = time.monotonic()
    clock.wait_until(clock.timestamp() + 10_000_000_000, wake)
    assert time.monotonic() - t0 < 2.0


def test_manual_clock_jumps(app):
    clock = ManualClock(app, initial_timestamp=10)
    clock.sleep_for(90)
    assert clock.timestamp() == 100
    clock.advance_to(50)  # never backwards
    assert clock.timestamp() == 100


def test_scaled_clock_speeds_up_periodic_graphs(app):
    class Tick(Operator):
        def compute(self, op_input, op_output, context):
            pass

    app.add_operator(Tick(app, CountCondition(app, 5), PeriodicCondition(app, "100ms"), name="t"))
    app.scheduler(GreedyScheduler(app, clock=RealtimeClock(app, initial_time_scale=20.0)))
    t0 = time.monotonic()
    app.run()
    elapsed = time.monotonic() - t0
    assert 0.018 <= elapsed < 0.3  # 400 ms of clock time at 20x


def test_cast_to_returns_the_clock_of_that_kind(app):
    realtime, manual = RealtimeClock(app), ManualClock(app)
    assert realtime.cast_to(RealtimeClock) is realtime
    assert manual.cast_to(ManualClock) is manual
    assert manual.cast_to(Clock) is manual
    with pytest.raises(
        TypeError, match="resource 'manual_clock': a ManualClock cannot be cast to RealtimeClock"
    ):
        manual.cast_to(RealtimeClock)
    with pytest.raises(TypeError, match="cast_to\\(\\) takes a clock class such as RealtimeClock"):
        realtime.cast_to("RealtimeClock")
    with pytest.raises(TypeError, match="takes a clock class"):
        realtime.cast_to(int)


def test_the_scheduler_clock_cast_during_a_run(app, scheduler_kind, use_scheduler):
    """Holoscan's resources/clock example: pause, pause until, scale time, through the cast clock."""
    seen = []

    class Rx(Operator):
        def compute(self, op_input, op_output, context):
            clock = self.fragment.scheduler().clock
            realtime = clock.cast_to(RealtimeClock)
            t0 = realtime.timestamp()
            realtime.sleep_for(20_000_000)
            t1 = realtime.timestamp()
            realtime.sleep_until(t1 + 10_000_000)
            t2 = realtime.timestamp()
            realtime.set_time_scale(50.0)
            realtime.sleep_for(datetime.timedelta(seconds=1.0))  # 20 ms real at scale 50
            t3 = clock.timestamp()
            realtime.set_time_scale(1.0)
            seen.append((realtime is clock, t1 - t0, t2 - t1, t3 - t2))

    app.add_operator(Rx(app, CountCondition(app, 2), name="rx"))
    use_scheduler(app)
    started = time.monotonic()
    app.run()
    assert len(seen) == 2
    for same, pause, until, scaled in seen:
        assert same
        assert pause >= 20_000_000 and until >= 10_000_000 and scaled >= 1_000_000_000
    assert time.monotonic() - started >= 2 * 0.05  # the scaled pause really waited (20 ms real)
