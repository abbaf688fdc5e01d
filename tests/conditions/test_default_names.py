"""Conditions and resources built without a name take Holoscan 4.6's default names, which are
also their keys in ``Operator.conditions`` / ``Operator.resources``."""

from __future__ import annotations

import pytest

from holoflow.conditions import (
    AsynchronousCondition,
    BooleanCondition,
    CountCondition,
    DownstreamMessageAffordableCondition,
    ExpiringMessageAvailableCondition,
    MessageAvailableCondition,
    MultiMessageAvailableCondition,
    MultiMessageAvailableTimeoutCondition,
    PeriodicCondition,
)
from holoflow.core import Application, Operator
from holoflow.resources import (
    BlockMemoryPool,
    CudaStreamPool,
    ManualClock,
    MemoryStorageType,
    OrConditionCombiner,
    RealtimeClock,
    UnboundedAllocator,
)
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler
from holoflow.testing import Recorder

# (factory, the name Holoscan 4.6 prints for ``Cls(app, <required args>).name``)
HOLOSCAN_4_6_NAMES = [
    (lambda app: AsynchronousCondition(app), "async_condition"),
    (lambda app: BooleanCondition(app), "boolean_condition"),
    (lambda app: CountCondition(app, 3), "count_condition"),
    (lambda app: DownstreamMessageAffordableCondition(app), "downstream_affordable_condition"),
    (
        lambda app: ExpiringMessageAvailableCondition(app, 5, 1_000_000),
        "expiring_message_available_condition",
    ),
    (lambda app: MessageAvailableCondition(app), "message_available_condition"),
    (lambda app: MultiMessageAvailableCondition(app), "multi_message_condition"),
    (
        lambda app: MultiMessageAvailableTimeoutCondition(app, execution_frequency="10ms"),
        "multi_message_timeout_condition",
    ),
    (lambda app: PeriodicCondition(app, 1000), "periodic_condition"),
    (lambda app: BlockMemoryPool(app, MemoryStorageType.HOST, 64, 2), "block_memory_pool"),
    (lambda app: CudaStreamPool(app), "cuda_stream_pool"),
    (lambda app: ManualClock(app), "manual_clock"),
    (lambda app: OrConditionCombiner(app, []), "or_condition_combiner"),
    (lambda app: RealtimeClock(app), "realtime_clock"),
    (lambda app: UnboundedAllocator(app), "unbounded_allocator"),
    (lambda app: GreedyScheduler(app), "greedy_scheduler"),
    (lambda app: MultiThreadScheduler(app), "multithread_scheduler"),
    (lambda app: EventBasedScheduler(app), "event_based_scheduler"),
]


@pytest.mark.parametrize(("make", "name"), HOLOSCAN_4_6_NAMES, ids=[name for _, name in HOLOSCAN_4_6_NAMES])
def test_default_name_is_holoscan_4_6s(app, make, name):
    assert make(app).name == name


def test_unnamed_conditions_and_resources_are_keyed_by_their_default_names(app):
    op = Recorder(
        app,
        CountCondition(app, 3),
        PeriodicCondition(app, 1000),
        BooleanCondition(app),
        UnboundedAllocator(app),
        name="rx",
    )
    assert sorted(op.conditions) == ["boolean_condition", "count_condition", "periodic_condition"]
    assert sorted(op.resources) == ["unbounded_allocator"]


def test_code_that_looks_conditions_up_by_default_name_runs(scheduler_kind, use_scheduler):
    app = Application([])
    use_scheduler(app)

    class Ticker(Operator):
        def compute(self, op_input, op_output, context):
            self.ticks = getattr(self, "ticks", 0) + 1
            if self.ticks == 4:
                self.conditions["boolean_condition"].disable_tick()

    ticker = Ticker(app, BooleanCondition(app), CountCondition(app, 10), name="ticker")
    app.add_operator(ticker)
    app.run()
    assert ticker.ticks == 4
    assert ticker.conditions["count_condition"].count == 10
