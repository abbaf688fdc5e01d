"""Conditions over several input ports, OR combinations, and GXF-style evaluation of every condition."""

from __future__ import annotations

import datetime
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holoflow.conditions import (
    BooleanCondition,
    CountCondition,
    MessageAvailableCondition,
    MultiMessageAvailableCondition,
    MultiMessageAvailableTimeoutCondition,
    PeriodicCondition,
)
from holoflow.core import (
    Application,
    Arg,
    ArgList,
    Condition,
    ConditionType,
    IOSpec,
    MultiMessageConditionInfo,
    Operator,
    QueuePolicy,
    Receiver,
    SchedulingStatusType,
)
from holoflow.core.run import GraphRun, leaf_conditions
from holoflow.errors import GraphError, HoloflowInternalError
from holoflow.resources import ManualClock, OrConditionCombiner
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler
from holoflow.schedulers._threaded import _SIGNALLED
from holoflow.testing import Source

READY, WAIT = SchedulingStatusType.READY, SchedulingStatusType.WAIT
MS = 1_000_000


class Gather(Operator):
    """Takes every message waiting on each of its ports at each run and records them.

    ``ports`` maps port names to queue sizes; a port of size > 1 yields a tuple (possibly empty),
    a port of size 1 one message or ``None`` (a tuple too with ``multi=True``). ``declare(spec)``
    adds the conditions under test.
    """

    def __init__(self, fragment, *args, ports=None, declare=None, clock=None, multi=False, **kwargs):
        self.ports = ports if ports is not None else {"in1": 8, "in2": 8}
        self.declare, self.clock, self.kind = declare, clock, "multi" if multi else ""
        self.runs, self.stamps = [], []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        for name, size in self.ports.items():
            spec.input(name, size=IOSpec.IOSize(size))
        if self.declare is not None:
            self.declare(spec)

    def compute(self, op_input, op_output, context):
        self.runs.append({name: op_input.receive(name, kind=self.kind) for name in self.ports})
        if self.clock is not None:
            self.stamps.append(self.clock.timestamp())


def _feed(app, rx, items_by_port):
    """Connect one ``Source`` per port of ``rx``."""
    for port, items in items_by_port.items():
        app.add_flow(Source(app, items, name=f"src_{port}"), rx, {("out", port)})


def _received(rx, port):
    return [m for run in rx.runs for m in run[port]]


# -- counting across ports -------------------------------------------------------------------------


def test_sum_of_all_runs_once_enough_messages_wait_in_total(app, use_scheduler):
    use_scheduler(app)
    rx = Gather(
        app,
        declare=lambda spec: spec.multi_port_condition(
            ConditionType.MULTI_MESSAGE_AVAILABLE, ["in1", "in2"], sampling_mode="SumOfAll", min_sum=3
        ),
        name="rx",
    )
    _feed(app, rx, {"in1": range(5), "in2": range(100, 104)})
    app.run()
    assert rx.runs, "the operator never ran"
    assert all(len(run["in1"]) + len(run["in2"]) >= 3 for run in rx.runs)
    in1, in2 = _received(rx, "in1"), _received(rx, "in2")
    assert in1 == list(range(len(in1))) and in2 == list(range(100, 100 + len(in2)))
    assert (5 - len(in1)) + (4 - len(in2)) < 3  # what stays behind cannot satisfy the rule


def test_per_receiver_runs_once_every_port_has_its_count(app, use_scheduler):
    use_scheduler(app)
    rx = Gather(
        app,
        declare=lambda spec: spec.multi_port_condition(
            ConditionType.MULTI_MESSAGE_AVAILABLE,
            ["in1", "in2"],
            sampling_mode="PerReceiver",
            min_sizes=[1, 2],
        ),
        name="rx",
    )
    _feed(app, rx, {"in1": range(6), "in2": range(100, 105)})
    app.run()
    assert rx.runs
    assert all(len(run["in1"]) >= 1 and len(run["in2"]) >= 2 for run in rx.runs)
    in1, in2 = _received(rx, "in1"), _received(rx, "in2")
    assert in1 == list(range(len(in1))) and in2 == list(range(100, 100 + len(in2)))
    assert not (6 - len(in1) >= 1 and 5 - len(in2) >= 2)


def test_per_receiver_with_the_sampling_mode_enum_and_one_pass_per_batch(app):
    """Under the greedy scheduler each source emits once per pass, so the runs are exact."""
    mode = MultiMessageAvailableCondition.SamplingMode.PER_RECEIVER
    rx = Gather(
        app,
        ports={"in1": 1, "in2": 2, "in3": 1},
        declare=lambda spec: spec.multi_port_condition(
            ConditionType.MULTI_MESSAGE_AVAILABLE,
            ["in1", "in2", "in3"],
            sampling_mode=mode,
            min_sizes=[1, 2, 1],
        ),
        name="rx",
    )
    _feed(app, rx, {"in1": "abc", "in2": range(6), "in3": "xyz"})
    app.run()
    assert rx.runs == [
        {"in1": "a", "in2": (0, 1), "in3": "x"},
        {"in1": "b", "in2": (2, 3), "in3": "y"},
        {"in1": "c", "in2": (4, 5), "in3": "z"},
    ]


def test_ports_in_a_multi_port_condition_get_no_default_condition(app, use_scheduler):
    use_scheduler(app)
    rx = Gather(
        app,
        ports={"in1": 4, "in2": 4, "in3": 1},
        declare=lambda spec: spec.multi_port_condition(
            ConditionType.MULTI_MESSAGE_AVAILABLE, ["in1", "in2"], min_sum=1
        ),
        name="rx",
    )
    # in2 never receives anything: with its default condition rx could never run. in3 keeps its
    # default, so every run also waits for one message there.
    _feed(app, rx, {"in1": range(3), "in2": [], "in3": "xyz"})
    app.run()
    assert _received(rx, "in1") == [0, 1, 2]
    assert [run["in3"] for run in rx.runs] == list("xyz")[: len(rx.runs)]
    assert all(run["in2"] == () for run in rx.runs)


# -- the timeout variant ---------------------------------------------------------------------------


def test_single_port_timeout_runs_with_partial_data(app, scheduler_kind, use_scheduler):
    clock = ManualClock(app)
    use_scheduler(app, clock=clock, stop_on_deadlock_timeout=5000)
    rx = Gather(app, CountCondition(app, 2), ports={"in": 5}, clock=clock, name="rx")
    rx.spec.inputs["in"].condition(
        ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT, execution_frequency="100ms", min_sum=5
    )
    _feed(app, rx, {"in": range(2)})
    app.run()
    # Two messages never make five: the operator runs 100 ms after its first evaluation, then
    # again 100 ms after that run, with nothing left.
    assert rx.stamps == [100 * MS, 200 * MS]
    assert [run["in"] for run in rx.runs] == [(0, 1), ()]


def test_timeout_runs_at_once_when_the_count_is_met(app, use_scheduler):
    clock = ManualClock(app)
    use_scheduler(app, clock=clock, stop_on_deadlock_timeout=5000)
    rx = Gather(app, CountCondition(app, 2), ports={"in": 5}, clock=clock, name="rx")
    rx.spec.inputs["in"].condition(
        ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT,
        execution_frequency=datetime.timedelta(milliseconds=250),
        sampling_mode="PerReceiver",
        min_sizes=[5],
    )
    _feed(app, rx, {"in": range(7)})
    app.run()
    assert rx.stamps == [0, 250 * MS]
    assert [run["in"] for run in rx.runs] == [(0, 1, 2, 3, 4), (5, 6)]


def test_multi_port_timeout_sums_across_ports(app, use_scheduler):
    clock = ManualClock(app)
    use_scheduler(app, clock=clock, stop_on_deadlock_timeout=5000)
    rx = Gather(
        app,
        CountCondition(app, 2),
        clock=clock,
        declare=lambda spec: spec.multi_port_condition(
            ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT,
            ["in1", "in2"],
            execution_frequency=50 * MS,
            min_sum=10,
        ),
        name="rx",
    )
    _feed(app, rx, {"in1": range(3), "in2": range(100, 102)})
    app.run()
    assert rx.stamps == [50 * MS, 100 * MS]
    assert rx.runs == [{"in1": (0, 1, 2), "in2": (100, 101)}, {"in1": (), "in2": ()}]


class Ticker(Operator):
    """Emits 1, 2, 3, ... on ``out``."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.sent = 0

    def compute(self, op_input, op_output, context):
        self.sent += 1
        op_output.emit(self.sent, "out")


def _ticking_timeout_app(app, clock, ticks, *rx_conditions):
    tx = Ticker(app, PeriodicCondition(app, "100ms"), CountCondition(app, ticks), name="tx")
    rx = Gather(app, *rx_conditions, ports={"in": 5}, clock=clock, name="rx")
    rx.spec.inputs["in"].condition(
        ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT, execution_frequency="250ms", min_sum=5
    )
    app.add_flow(tx, rx)
    return rx


def test_a_timeout_is_seen_when_the_scheduler_next_wakes_as_in_holoscan(app):
    """Holoscan's single_message_timeout: a deadline does not wake the scheduler while another
    operator is timed; it is noticed at the next tick, so the batches are 4, 3, 3 and the rest."""
    clock = ManualClock(app)
    app.scheduler(GreedyScheduler(app, clock=clock, stop_on_deadlock_timeout=5000))
    rx = _ticking_timeout_app(app, clock, 12, CountCondition(app, 5))
    app.run()
    assert [len(run["in"]) for run in rx.runs] == [4, 3, 3, 2, 0]
    # The last two: nothing else is timed, so the scheduler wakes for the deadline itself.
    assert rx.stamps == [300 * MS, 600 * MS, 900 * MS, 1150 * MS, 1400 * MS]


def test_a_pending_timeout_does_not_keep_an_idle_graph_alive(app, use_scheduler):
    """Once the sender is done, the run ends after ``stop_on_deadlock_timeout`` although the
    receiver's timeout would let it run again (Holoscan's documented example behaviour)."""
    clock = ManualClock(app)
    use_scheduler(app, clock=clock)  # stop_on_deadlock_timeout = 0
    rx = _ticking_timeout_app(app, clock, 12)
    app.run()
    received = _received(rx, "in")
    assert received == list(range(1, len(received) + 1))
    assert 12 - len(received) < 5
    assert all(0 < len(run["in"]) <= 5 for run in rx.runs)


# -- OR combinations -------------------------------------------------------------------------------


def test_or_combined_ports_run_on_either_message(app, use_scheduler):
    use_scheduler(app)
    rx = Gather(
        app,
        ports={"in1": 1, "in2": 1},
        declare=lambda spec: spec.or_combine_port_conditions(["in1", "in2"]),
        name="rx",
    )
    _feed(app, rx, {"in1": range(3), "in2": []})
    app.run()
    assert rx.runs == [{"in1": i, "in2": None} for i in range(3)]


def test_an_or_group_is_anded_with_the_other_conditions(app, use_scheduler):
    use_scheduler(app)
    rx = Gather(
        app,
        ports={"in1": 1, "in2": 1, "in3": 1},
        declare=lambda spec: spec.or_combine_port_conditions(("in1", "in2")),
        name="rx",
    )
    _feed(app, rx, {"in1": range(3), "in2": [], "in3": "ab"})
    app.run()
    assert [run["in3"] for run in rx.runs] == ["a", "b"]  # in3 still gates every run
    assert [run["in1"] for run in rx.runs] == [0, 1]


def test_or_condition_combiner_of_counts_ends_with_the_smaller_count(app, use_scheduler):
    """Holoscan's test_or_combiner: an OR term that says NEVER finishes the operator."""
    use_scheduler(app)
    combiner = OrConditionCombiner(
        app, terms=[CountCondition(app, 3, name="c3"), CountCondition(app, 5, name="c5")]
    )
    op = Gather(app, combiner, ports={}, name="op")
    app.add_operator(op)
    app.run()
    assert len(op.runs) == 3
    app.run()  # the terms are reset for each run
    assert len(op.runs) == 6


def test_or_condition_combiner_of_port_conditions(app, use_scheduler):
    use_scheduler(app)
    terms = [MessageAvailableCondition(app, receiver="in1"), MessageAvailableCondition(app, receiver="in2")]
    rx = Gather(app, OrConditionCombiner(app, terms), ports={"in1": 1, "in2": 1}, name="rx")
    _feed(app, rx, {"in1": [], "in2": "xy"})
    app.run()
    assert rx.runs == [{"in1": None, "in2": "x"}, {"in1": None, "in2": "y"}]


class Waits(Condition):
    def check(self, timestamp):
        return WAIT, None


def test_or_of_a_wait_and_a_periodic_runs_on_the_period(app, use_scheduler):
    clock = ManualClock(app)
    use_scheduler(app, clock=clock)
    terms = [Waits(app, name="waits"), PeriodicCondition(app, "100ms", name="periodic")]
    op = Gather(
        app, OrConditionCombiner(app, terms), CountCondition(app, 3), ports={}, clock=clock, name="op"
    )
    app.add_operator(op)
    app.run()
    assert op.stamps == [0, 100 * MS, 200 * MS]


def test_or_of_two_periodics_wakes_for_the_earlier(app):
    """Logical OR: ready at the earlier target. (GXF wakes for the later target instead.)"""
    clock = ManualClock(app)
    app.scheduler(GreedyScheduler(app, clock=clock))
    terms = [PeriodicCondition(app, "300ms", name="slow"), PeriodicCondition(app, "100ms", name="fast")]
    op = Gather(
        app, OrConditionCombiner(app, terms), CountCondition(app, 3), ports={}, clock=clock, name="op"
    )
    app.add_operator(op)
    app.run()
    assert op.stamps == [0, 100 * MS, 200 * MS]


def test_a_term_also_given_to_the_operator_is_ored_only(app):
    flag = BooleanCondition(app, enable_tick=True, name="flag")
    never = Waits(app, name="waits")
    op = Gather(
        app, flag, never, OrConditionCombiner(app, [flag, never]), CountCondition(app, 2), ports={}, name="op"
    )
    app.add_operator(op)
    app.run()  # ANDed, the WAIT would block it
    assert len(op.runs) == 2


# -- errors ----------------------------------------------------------------------------------------


def _run_with(app, declare, ports=None, items=None):
    ports = ports or {"in1": 1, "in2": 1}
    rx = Gather(app, ports=ports, declare=declare, name="rx")
    _feed(app, rx, items or {name: [1] for name in ports})
    app.run()


def test_a_multi_port_condition_naming_an_unknown_port(app):
    with pytest.raises(
        GraphError,
        match=re.escape(
            "operator 'rx': multi_port_condition names input port 'nope'; declared inputs: ['in1', 'in2']"
        ),
    ):
        _run_with(
            app,
            lambda s: s.multi_port_condition(
                ConditionType.MULTI_MESSAGE_AVAILABLE, ["in1", "nope"], min_sum=1
            ),
        )


def test_an_or_combination_naming_an_unknown_port(app):
    with pytest.raises(
        GraphError,
        match=re.escape(
            "operator 'rx': or_combine_port_conditions names input port 'zzz'; "
            "declared inputs: ['in1', 'in2']"
        ),
    ):
        _run_with(app, lambda s: s.or_combine_port_conditions(["in1", "zzz"]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"sampling_mode": "PerReceiver", "min_sizes": [1]},
            "min_sizes has 1 count(s) but the condition watches 2 port(s)",
        ),
        ({"sampling_mode": "PerReceiver"}, "'PerReceiver' sampling mode needs min_sizes"),
        (
            {"sampling_mode": "PerReceiver", "min_sizes": [1, 1], "min_sum": 2},
            "min_sum applies to the 'SumOfAll'",
        ),
        ({"min_sizes": [1, 1]}, "min_sizes applies to the 'PerReceiver' sampling mode"),
        ({"sampling_mode": "Sum"}, "sampling_mode must be 'SumOfAll', 'PerReceiver'"),
        ({"min_sum": 0}, "min_sum counts must be >= 1, got 0"),
        ({"sampling_mode": "PerReceiver", "min_sizes": [1, "2"]}, "min_sizes takes integer counts"),
        ({"min_size": 2}, "unexpected keyword argument 'min_size'"),
    ],
)
def test_invalid_multi_port_arguments_fail_before_the_run(app, kwargs, message):
    def declare(spec):
        spec.multi_port_condition(ConditionType.MULTI_MESSAGE_AVAILABLE, ["in1", "in2"], **kwargs)

    with pytest.raises(
        GraphError, match=r"^operator 'rx': multi-port condition MULTI_MESSAGE_AVAILABLE on ports"
    ) as err:
        _run_with(app, declare)
    assert message in str(err.value)


@pytest.mark.parametrize("frequency", ["soon", -5, "0ms"])
def test_invalid_execution_frequency(app, frequency):
    def declare(spec):
        spec.multi_port_condition(
            ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT, ["in1", "in2"], execution_frequency=frequency
        )

    with pytest.raises(GraphError, match="MULTI_MESSAGE_AVAILABLE_TIMEOUT on ports"):
        _run_with(app, declare)


def test_declaration_errors_are_raised_in_setup(app):
    spec_errors = [
        (
            lambda s: s.multi_port_condition(ConditionType.COUNT, ["in1"]),
            GraphError,
            "takes ConditionType.MULTI_MESSAGE",
        ),
        (
            lambda s: s.multi_port_condition(ConditionType.MULTI_MESSAGE_AVAILABLE, "in1"),
            TypeError,
            "not the string",
        ),
        (
            lambda s: s.multi_port_condition(ConditionType.MULTI_MESSAGE_AVAILABLE, []),
            GraphError,
            "at least one",
        ),
        (
            lambda s: s.multi_port_condition(ConditionType.MULTI_MESSAGE_AVAILABLE, ["in1", "in1"]),
            GraphError,
            "names port(s) ['in1'] more than once",
        ),
        (lambda s: s.or_combine_port_conditions(["in1", 2]), TypeError, "port names as strings"),
    ]
    for declare, error, message in spec_errors:
        with pytest.raises(error, match=re.escape(message)):
            Gather(app, declare=declare, name="rx")


def test_a_port_in_two_or_groups(app):
    def declare(spec):
        spec.or_combine_port_conditions(["in1", "in2"])
        spec.or_combine_port_conditions(["in2", "in1"])

    with pytest.raises(GraphError, match="input port 'in2' is named by two or_combine_port_conditions calls"):
        _run_with(app, declare)


def test_an_or_group_without_any_condition(app):
    def declare(spec):
        spec.inputs["in1"].condition(ConditionType.NONE)
        spec.or_combine_port_conditions(["in1"])

    with pytest.raises(GraphError, match="none of these ports has a condition to combine"):
        _run_with(app, declare)


def test_multi_port_condition_on_unsuitable_ports(app):
    with pytest.raises(GraphError, match="input port 'in2' is connected to nothing"):
        _run_with(
            app,
            lambda s: s.multi_port_condition(ConditionType.MULTI_MESSAGE_AVAILABLE, ["in1", "in2"]),
            items={"in1": [1]},
        )


def test_multi_port_condition_on_an_any_size_port(app):
    class AnySize(Operator):
        def setup(self, spec):
            spec.input("many", size=IOSpec.ANY_SIZE)
            spec.multi_port_condition(ConditionType.MULTI_MESSAGE_AVAILABLE, ["many"])

    rx = AnySize(app, name="rx")
    app.add_flow(Source(app, [1], name="a"), rx, {("out", "many")})
    with pytest.raises(GraphError, match="multi_port_condition cannot watch input port 'many'"):
        app.run()


def test_single_port_kinds(app):
    """On one port only the timeout kind is accepted (as in Holoscan's IOSpec.condition)."""
    with pytest.raises(GraphError, match="condition MULTI_MESSAGE_AVAILABLE is not supported on this port"):
        _run_with(app, lambda s: s.inputs["in1"].condition(ConditionType.MULTI_MESSAGE_AVAILABLE, min_sum=1))


def test_a_multi_message_condition_given_to_the_operator_directly(app):
    rx = Gather(app, MultiMessageAvailableCondition(app, min_sum=2), name="rx")
    _feed(app, rx, {"in1": [1], "in2": [2]})
    with pytest.raises(GraphError, match="declare it in setup with spec.multi_port_condition"):
        app.run()


def test_combiner_terms_belong_to_one_combiner(app):
    count = CountCondition(app, 1)
    op = Gather(
        app,
        OrConditionCombiner(app, [count], name="a"),
        OrConditionCombiner(app, [count], name="b"),
        ports={},
    )
    app.add_operator(op)
    with pytest.raises(GraphError, match="is a term of both resource 'a' and resource 'b'"):
        app.run()
    with pytest.raises(TypeError, match="terms must be conditions"):
        OrConditionCombiner(app, [count, "nope"])


# -- GXF-style evaluation: every condition, every pass ---------------------------------------------


class Spy(Condition):
    def __init__(self, fragment, *args, **kwargs):
        self.calls = {"update_state": 0, "check": 0, "on_execute": 0}
        super().__init__(fragment, *args, **kwargs)

    def update_state(self, timestamp):
        self.calls["update_state"] += 1

    def check(self, timestamp):
        self.calls["check"] += 1
        return READY, None

    def on_execute(self, timestamp):
        self.calls["on_execute"] += 1


@pytest.mark.parametrize("spy_first", [False, True])
def test_every_condition_is_evaluated_in_the_pass_that_finds_never(app, use_scheduler, spy_first):
    """Holoscan's ping_periodic_native: after the last tick the CountCondition says NEVER, and
    the native condition still gets update_state and check in that evaluation."""
    use_scheduler(app)
    spy, count = Spy(app, name="spy"), CountCondition(app, 3)
    op = Gather(app, *((spy, count) if spy_first else (count, spy)), ports={}, name="op")
    app.add_operator(op)
    app.run()
    assert len(op.runs) == 3
    assert spy.calls == {"update_state": 4, "check": 4, "on_execute": 3}


def test_every_condition_is_evaluated_after_stop_execution(app):
    spy = Spy(app, name="spy")

    class StopsAtOnce(Gather):
        def compute(self, op_input, op_output, context):
            super().compute(op_input, op_output, context)
            self.stop_execution()

    op = StopsAtOnce(app, spy, ports={}, name="op")
    app.add_operator(op)
    app.run()
    assert len(op.runs) == 1
    assert spy.calls == {"update_state": 2, "check": 2, "on_execute": 1}


def test_the_new_conditions_need_no_polling(app):
    rx = Gather(
        app,
        ports={"a": 1, "b": 1, "c": 2, "d": 2},
        declare=lambda spec: (
            spec.or_combine_port_conditions(["a", "b"]),
            spec.multi_port_condition(
                ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT, ["c", "d"], execution_frequency="1s"
            ),
        ),
        name="rx",
    )
    _feed(app, rx, {name: [1] for name in rx.ports})
    run = GraphRun(app)
    (op_run,) = [o for o in run.ops if o.op is rx]
    leaves = leaf_conditions(op_run.conds)
    assert {type(c) for c in leaves} == {MessageAvailableCondition, MultiMessageAvailableTimeoutCondition}
    assert all(type(c) in _SIGNALLED for c in leaves)


# -- the spec API and the condition objects --------------------------------------------------------


def test_the_spec_records_its_multi_port_conditions(app):
    def declare(spec):
        spec.multi_port_condition(
            kind=ConditionType.MULTI_MESSAGE_AVAILABLE,
            port_names=("in1", "in2"),
            sampling_mode="SumOfAll",
            min_sum=2,
        )

    rx = Gather(app, declare=declare, name="rx")
    (info,) = rx.spec.multi_port_conditions()
    assert isinstance(info, MultiMessageConditionInfo)
    assert info.kind is ConditionType.MULTI_MESSAGE_AVAILABLE and info.port_names == ["in1", "in2"]
    assert [(a.name, a.value) for a in info.args] == [("sampling_mode", "SumOfAll"), ("min_sum", 2)]
    blank = MultiMessageConditionInfo()
    blank.port_names, blank.args = ["x"], ArgList([Arg("min_sum", 1)])
    assert blank.kind is ConditionType.MULTI_MESSAGE_AVAILABLE and len(blank.args) == 1


@pytest.mark.parametrize(
    ("frequency", "ns"),
    [
        ("10ms", 10 * MS),
        ("10000000", 10 * MS),
        (10 * MS, 10 * MS),
        (datetime.timedelta(milliseconds=10), 10 * MS),
        ("100Hz", 10 * MS),
        ("0.2s", 200 * MS),
    ],
)
def test_execution_frequency_forms(app, frequency, ns):
    assert MultiMessageAvailableTimeoutCondition(app, frequency).execution_frequency_ns == ns


def test_condition_objects_expose_their_counts(app):
    total = MultiMessageAvailableCondition(app)
    assert total.sampling_mode is MultiMessageAvailableCondition.SamplingMode.SUM_OF_ALL
    assert (total.min_sum, total.min_sizes, total.name) == (1, None, "multi_message_condition")
    per = MultiMessageAvailableTimeoutCondition(app, "1s", sampling_mode="PerReceiver", min_sizes=[2])
    per.add_min_size(3)
    assert per.SamplingMode is MultiMessageAvailableCondition.SamplingMode
    assert (per.min_sum, per.min_sizes, per.name) == (None, [2, 3], "multi_message_timeout_condition")
    assert per.receivers == []
    with pytest.raises(ValueError, match="add_min_size applies to the 'PerReceiver'"):
        total.add_min_size(1)
    with pytest.raises(TypeError, match="period must be int nanoseconds"):
        MultiMessageAvailableTimeoutCondition(app, 1.5)


def test_the_timeout_state_machine(app):
    timeout = MultiMessageAvailableTimeoutCondition(app, 100, min_sum=2)
    with pytest.raises(HoloflowInternalError, match="checked before the run bound it"):
        timeout.check(0)
    receiver = Receiver("rx", 4, QueuePolicy.FAULT)
    timeout.bind(receiver)
    assert timeout.receivers == [receiver]
    timeout.update_state(1000)  # the first evaluation starts the period
    timeout.update_state(1040)
    assert timeout.check(1050) == (WAIT, 1100)
    assert timeout.check(1100) == (READY, None)
    timeout.on_execute(1100)
    assert timeout.check(1150) == (WAIT, 1200)
    receiver.queue.extend("ab")
    assert timeout.check(1150) == (READY, None)  # the count is met before the deadline
    receiver.queue.clear()
    timeout.reset()
    timeout.update_state(5000)
    assert timeout.check(5000) == (WAIT, 5100)


def test_or_terms_get_every_call(app, use_scheduler):
    use_scheduler(app)
    spy = Spy(app, name="spy")
    op = Gather(app, OrConditionCombiner(app, [spy, Waits(app)]), CountCondition(app, 2), ports={}, name="op")
    app.add_operator(op)
    app.run()
    assert spy.calls == {"update_state": 3, "check": 3, "on_execute": 2}


def test_a_declaration_whose_kind_was_changed_afterwards(app):
    rx = Gather(
        app,
        declare=lambda s: s.multi_port_condition(ConditionType.MULTI_MESSAGE_AVAILABLE, ["in1"]),
        name="rx",
    )
    rx.spec.multi_port_conditions()[0].kind = ConditionType.COUNT  # the info objects are writable
    _feed(app, rx, {"in1": [1], "in2": [2]})
    with pytest.raises(GraphError, match="the kind must be MULTI_MESSAGE_AVAILABLE or"):
        app.run()


# -- property: random arrivals ---------------------------------------------------------------------


def _rule(mode, need):
    if mode == "SumOfAll":
        return lambda counts: sum(counts) >= need
    return lambda counts: all(c >= n for c, n in zip(counts, need))


def _simulate_greedy(items, capacity, rule):
    """The runs the greedy scheduler makes: each pass every source with room emits one message
    (and commits) before the receiver is evaluated."""
    queued, left, runs = [0] * len(items), list(items), []
    while True:
        progress = False
        for i in range(len(items)):
            if left[i] and queued[i] < capacity:
                left[i], queued[i], progress = left[i] - 1, queued[i] + 1, True
        if rule(queued):
            runs.append(tuple(queued))
            queued, progress = [0] * len(items), True
        if not progress:
            return runs


@st.composite
def arrivals(draw):
    ports = draw(st.integers(1, 3))
    items = draw(st.lists(st.integers(0, 7), min_size=ports, max_size=ports))
    capacity = draw(st.integers(1, 4))
    if draw(st.booleans()):
        return items, capacity, "SumOfAll", draw(st.integers(1, ports * capacity))
    return (
        items,
        capacity,
        "PerReceiver",
        draw(st.lists(st.integers(1, capacity), min_size=ports, max_size=ports)),
    )


def _run_arrivals(scheduler, items, capacity, mode, need):
    app = Application([])
    app.scheduler(scheduler(app))
    names = [f"in{i}" for i in range(len(items))]
    kwargs = {"min_sum": need} if mode == "SumOfAll" else {"min_sizes": need}
    rx = Gather(
        app,
        ports=dict.fromkeys(names, capacity),
        multi=True,
        declare=lambda spec: spec.multi_port_condition(
            ConditionType.MULTI_MESSAGE_AVAILABLE, names, sampling_mode=mode, **kwargs
        ),
        name="rx",
    )
    for i, n in enumerate(items):
        app.add_flow(Source(app, [(i, k) for k in range(n)], name=f"src{i}"), rx, {("out", names[i])})
    app.run()
    return [tuple(run[name] for name in names) for run in rx.runs]


def _check_exactly_once(items, capacity, runs, rule):
    for i in range(len(items)):
        got = [m for run in runs for m in run[i]]
        assert got == [(i, k) for k in range(len(got))]  # in order, none lost or repeated
    assert all(rule([len(port) for port in run]) for run in runs)  # each run met the rule
    # At the end each queue holds what is left, up to its capacity, and that must not meet the rule.
    queued = [min(n - sum(len(run[i]) for run in runs), capacity) for i, n in enumerate(items)]
    assert not rule(queued)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals())
def test_greedy_runs_exactly_when_the_rule_holds(case):
    items, capacity, mode, need = case
    rule = _rule(mode, need)
    runs = _run_arrivals(GreedyScheduler, items, capacity, mode, need)
    assert [tuple(len(port) for port in run) for run in runs] == _simulate_greedy(items, capacity, rule)
    _check_exactly_once(items, capacity, runs, rule)


@pytest.mark.parametrize("scheduler", [MultiThreadScheduler, EventBasedScheduler])
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=arrivals())
def test_threaded_runs_only_when_the_rule_holds_and_loses_nothing(scheduler, case):
    items, capacity, mode, need = case
    rule = _rule(mode, need)
    runs = _run_arrivals(lambda app: scheduler(app, worker_thread_number=2), items, capacity, mode, need)
    _check_exactly_once(items, capacity, runs, rule)
