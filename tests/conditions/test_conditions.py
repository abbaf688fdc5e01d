"""Built-in conditions, alone and inside running graphs."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from holoflow.conditions import (
    AsynchronousCondition,
    AsynchronousEventState,
    BooleanCondition,
    CountCondition,
    DownstreamMessageAffordableCondition,
    ExpiringMessageAvailableCondition,
    MessageAvailableCondition,
    PeriodicCondition,
    PeriodicConditionPolicy,
)
from holoflow.core import Condition, ConditionType, IOSpec, Operator, SchedulingStatusType
from holoflow.errors import GraphError
from holoflow.resources import ManualClock
from holoflow.schedulers import GreedyScheduler
from holoflow.testing import EventDriver, Recorder, Source

READY, NEVER = SchedulingStatusType.READY, SchedulingStatusType.NEVER


class Ticker(Operator):
    """Records the scheduler clock at each compute."""

    def __init__(self, fragment, *args, clock=None, **kwargs):
        self.clock, self.ticks = clock, []
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        self.ticks.append(self.clock.timestamp() if self.clock else time.monotonic())


def test_count_condition_states(app):
    count = CountCondition(app, 2)
    assert count.check(0) == (READY, None)
    count.on_execute(0)
    count.on_execute(0)
    assert count.check(0) == (NEVER, None)
    count.reset()
    assert count.remaining == 2
    with pytest.raises(ValueError, match="count must be >= 0"):
        CountCondition(app, -1)


def test_count_zero_never_runs(app):
    op = Ticker(app, CountCondition(app, 0), name="op")
    app.add_operator(op)
    app.run()
    assert op.ticks == []


def test_boolean_condition(app):
    flag = BooleanCondition(app, enable_tick=False)
    assert not flag.check_tick_enabled() and flag.check(0) == (NEVER, None)
    flag.enable_tick()
    assert flag.check(0) == (READY, None)


@pytest.mark.parametrize(
    ("period", "ns"),
    [
        (5_000_000, 5_000_000),
        (datetime.timedelta(milliseconds=2), 2_000_000),
        ("10ms", 10_000_000),
        ("250us", 250_000),
        ("1.5s", 1_500_000_000),
        ("100Hz", 10_000_000),
        ("1kHz", 1_000_000),
        ("7ns", 7),
        (0.05, 50_000_000),  # a float is seconds, as in Holoscan
        (1.5, 1_500_000_000),
        (1e-7, 100),
    ],
)
def test_periodic_accepts_ns_timedelta_and_strings(app, period, ns):
    assert PeriodicCondition(app, period).recess_period_ns() == ns


@pytest.mark.parametrize(
    "bad", ["10 parsecs", "ms", "-5ms", 0, "0Hz", 0.0, -0.5, 1e-12, float("inf"), float("nan")]
)
def test_periodic_rejects_bad_periods(app, bad):
    with pytest.raises(ValueError, match="period|frequency"):
        PeriodicCondition(app, bad)


def test_periodic_rejects_wrong_type(app):
    with pytest.raises(TypeError, match="period must be int nanoseconds"):
        PeriodicCondition(app, [1])


def test_periodic_ticks_on_the_grid_under_a_manual_clock(app):
    clock = ManualClock(app, initial_timestamp=1_000)
    op = Ticker(app, CountCondition(app, 5), PeriodicCondition(app, "100ms"), clock=clock, name="op")
    app.add_operator(op)
    app.scheduler(GreedyScheduler(app, clock=clock))
    t0 = time.monotonic()
    app.run()
    assert time.monotonic() - t0 < 1.0  # manual time: no real waiting
    assert op.ticks == [1_000 + k * 100_000_000 for k in range(5)]


def test_periodic_policy_targets(app):
    def targets(policy):
        periodic = PeriodicCondition(app, 100, policy=policy)
        periodic.on_execute(0)  # first tick at 0
        periodic.on_execute(250)  # second tick ran late, at 250
        return periodic.check(251)[1]

    assert targets(PeriodicConditionPolicy.CATCH_UP_MISSED_TICKS) is None  # 200 is already due
    assert targets(PeriodicConditionPolicy.MIN_TIME_BETWEEN_TICKS) == 350
    assert targets(PeriodicConditionPolicy.NO_CATCH_UP_MISSED_TICKS) == 300


_PERIODIC_CPU = """
import json, sys, time
from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler

class CpuTicker(Operator):
    ticks, cpu = [], []

    def compute(self, op_input, op_output, context):
        self.ticks.append(time.monotonic())
        self.cpu.append(time.process_time())

app = Application()
op = CpuTicker(app, CountCondition(app, 4), PeriodicCondition(app, "50ms"), name="op")
app.add_operator(op)
kind = sys.argv[1]
if kind == "greedy":
    app.scheduler(GreedyScheduler(app))
else:
    make = MultiThreadScheduler if kind == "multi" else EventBasedScheduler
    app.scheduler(make(app, worker_thread_number=2))
app.run()
print(json.dumps({"ticks": op.ticks, "cpu": op.cpu}))
"""


def test_periodic_real_time_spacing_and_idle_cpu(scheduler_kind):
    """Measured in a fresh process: the process's CPU time would also count threads that other
    libraries left behind in this one (PyTorch's and CUDA's)."""
    root = Path(__file__).resolve().parents[2]
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", _PERIODIC_CPU, scheduler_kind],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    measured = json.loads(result.stdout.splitlines()[-1])
    ticks, cpu = measured["ticks"], measured["cpu"]
    # The default policy keeps ticks on the grid start + k * period (a late tick is not carried over).
    offsets = [t - ticks[0] for t in ticks]
    assert all(offset >= 0.05 * k - 0.001 for k, offset in enumerate(offsets)), offsets
    wall, busy = ticks[-1] - ticks[0], cpu[-1] - cpu[0]  # between ticks: no start-up work
    assert wall >= 0.149
    assert busy < 0.5 * wall  # the scheduler sleeps between ticks instead of spinning


def test_message_available_min_size_on_a_port(app, use_scheduler):
    use_scheduler(app)

    class Pairs(Operator):
        def setup(self, spec):
            spec.input("in").condition(ConditionType.MESSAGE_AVAILABLE, min_size=2).connector(capacity=2)

        def compute(self, op_input, op_output, context):
            self.got = getattr(self, "got", []) + [(op_input.receive("in"), op_input.receive("in"))]

    app.add_flow(Source(app, range(5), name="src"), rx := Pairs(app, name="rx"))
    app.run()
    assert rx.got == [(0, 1), (2, 3)]


def test_unsupported_port_condition(app):
    class Bad(Operator):
        def setup(self, spec):
            spec.input("in").condition(ConditionType.PERIODIC, recess_period=1)

    app.add_flow(Source(app, [1], name="src"), Bad(app, name="rx"))
    with pytest.raises(
        ValueError,
        match=re.escape("operator 'rx': input port 'in': condition PERIODIC is not supported on this port"),
    ):
        app.run()


def test_downstream_affordable_min_size(app, use_scheduler):
    use_scheduler(app)

    class Tx(Operator):
        def setup(self, spec):
            spec.output("out").connector(capacity=2).condition(
                ConditionType.DOWNSTREAM_MESSAGE_AFFORDABLE, min_size=2
            )

        def compute(self, op_input, op_output, context):
            op_output.emit("a", "out")
            op_output.emit("b", "out")

    class Rx(Recorder):
        def setup(self, spec):
            spec.input("in").connector(capacity=3)

    app.add_flow(Tx(app, CountCondition(app, 3), name="tx"), rx := Rx(app, name="rx"))
    app.run()
    assert rx.received == ["a", "b"] * 3


def test_condition_objects_bound_to_ports_by_name(app, use_scheduler):
    use_scheduler(app)

    class Rx(Recorder):
        pass

    rx = Rx(app, MessageAvailableCondition(app, min_size=3, receiver="in"), name="rx")
    rx.spec.inputs["in"].connector(capacity=3)
    app.add_flow(Source(app, range(7), name="src"), rx)
    app.run()
    assert rx.received == [0, 1, 2, 3, 4]  # runs while >= 3 wait: 6 stays behind with 5


def test_downstream_affordable_object_on_a_port(app, use_scheduler):
    use_scheduler(app)

    class Tx(Source):
        pass

    tx = Tx(app, range(3), DownstreamMessageAffordableCondition(app, transmitter="out"), name="tx")
    app.add_flow(tx, rx := Recorder(app, name="rx"))
    app.run()
    assert rx.received == [0, 1, 2]


def test_expiring_message_batches_or_times_out(app, use_scheduler):
    use_scheduler(app)

    class Rx(Operator):
        def setup(self, spec):
            spec.input("in").connector(capacity=5).condition(
                ConditionType.EXPIRING_MESSAGE_AVAILABLE, max_batch_size=5, max_delay_ns="30ms"
            )

        def compute(self, op_input, op_output, context):
            batch = []
            while (m := op_input.receive("in", kind="single")) is not None:
                batch.append(m)
            self.batches = getattr(self, "batches", []) + [(batch, time.monotonic())]

    app.add_flow(Source(app, range(7), name="src"), rx := Rx(app, name="rx"))
    t0 = time.monotonic()
    app.run()
    assert [b for b, _ in rx.batches] == [[0, 1, 2, 3, 4], [5, 6]]
    assert rx.batches[1][1] - t0 >= 0.029  # the short batch waited for its delay


def test_expiring_message_validation(app):
    with pytest.raises(ValueError, match="max_batch_size must be >= 1"):
        ExpiringMessageAvailableCondition(app, 0, 10)


def test_asynchronous_condition_driven_from_a_thread(app):
    cond = AsynchronousCondition(app)
    cond.event_state = AsynchronousEventState.EVENT_WAITING
    op = Ticker(app, cond, name="op")
    app.add_operator(op)
    with EventDriver(cond, 5, gap=0.005, poll=0.001) as driver:
        app.run()
    assert len(op.ticks) == 5
    assert not driver.timed_out
    assert all(0 <= tick - stamp < 0.25 for tick, stamp in zip(op.ticks, driver.sent))


def test_asynchronous_event_during_compute_is_not_lost(app, use_scheduler):
    use_scheduler(app)
    cond = AsynchronousCondition(app)

    class Op(Operator):
        def compute(self, op_input, op_output, context):
            self.n = getattr(self, "n", 0) + 1
            if self.n < 3:
                cond.event_state = AsynchronousEventState.EVENT_DONE  # arrives mid-compute
            else:
                cond.event_state = AsynchronousEventState.EVENT_NEVER

    cond.event_state = AsynchronousEventState.EVENT_DONE
    op = Op(app, cond, name="op")
    app.add_operator(op)
    app.run()
    assert op.n == 3


def test_native_condition_with_receiver(app, use_scheduler):
    use_scheduler(app)

    class AtLeastTwo(Condition):
        def check(self, timestamp):
            ready = self.receiver("in").size >= 2
            return (SchedulingStatusType.READY if ready else SchedulingStatusType.WAIT), None

    class Rx(Operator):
        def setup(self, spec):
            spec.input("in", size=IOSpec.IOSize(1)).connector(capacity=2)

        def compute(self, op_input, op_output, context):
            self.got = getattr(self, "got", []) + [op_input.receive("in", kind="multi")]

    rx = Rx(app, AtLeastTwo(app, receiver_name="in", name="two"), name="rx")
    app.add_flow(Source(app, range(5), name="src"), rx)
    app.run()
    assert rx.got == [(0, 1), (2, 3)]


def test_native_condition_must_implement_check(app):
    class Lazy(Condition):
        pass

    app.add_operator(Ticker(app, Lazy(app), name="op"))
    with pytest.raises(NotImplementedError, match="Lazy must implement check"):
        app.run()


def test_native_condition_update_state_and_on_execute_are_called(app, use_scheduler):
    use_scheduler(app)
    calls = []

    class Trace(Condition):
        def update_state(self, timestamp):
            calls.append("update")

        def check(self, timestamp):
            calls.append("check")
            return SchedulingStatusType.READY, None

        def on_execute(self, timestamp):
            calls.append("exec")

    app.add_operator(Ticker(app, Trace(app), CountCondition(app, 1), name="op"))
    app.run()
    assert calls[:3] == ["update", "check", "exec"]


def test_condition_initialize_runs_each_run(app):
    """The user-guide example: a condition with state reset in initialize()."""

    class EveryOther(Condition):
        def initialize(self):
            self.ticks = 0

        def check(self, timestamp):
            ready = self.ticks % 2 == 0
            return (SchedulingStatusType.READY if ready else SchedulingStatusType.WAIT), None

        def on_execute(self, timestamp):
            self.ticks += 1

    op = Ticker(app, EveryOther(app), CountCondition(app, 5), name="op")
    app.add_operator(op)
    app.run()
    assert len(op.ticks) == 1  # after one tick the condition waits; nothing else can wake it
    app.run()
    assert len(op.ticks) == 2


def test_a_condition_naming_a_port_that_does_not_exist_fails_before_the_run(app):
    class Watcher(Condition):
        def check(self, timestamp):
            return SchedulingStatusType.READY, None

    app.add_flow(Source(app, [1], name="src"), Recorder(app, Watcher(app, receiver_name="nope"), name="rx"))
    with pytest.raises(
        GraphError, match=r"^operator 'rx': condition 'noname_condition' names input port 'nope'"
    ):
        app.run()


def test_a_plain_condition_with_bind_must_be_a_port_condition(app):
    class Binder(Condition):
        def bind(self, port):
            self.port = port

        def check(self, timestamp):
            return SchedulingStatusType.READY, None

    app.add_flow(Source(app, [1], name="src"), Recorder(app, Binder(app, receiver_name="in"), name="rx"))
    with pytest.raises(GraphError, match="defines bind\\(\\) but is not a PortCondition"):
        app.run()
