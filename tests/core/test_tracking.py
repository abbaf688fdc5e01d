"""Data-flow tracking: Fragment.track, DataFlowTracker, DataFlowMetric and Tracker."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.conditions import CountCondition
from holoflow.core import (
    Application,
    DataFlowMetric,
    DataFlowTracker,
    InputContext,
    IOSpec,
    Operator,
    OutputContext,
    Subgraph,
    Tracker,
)
from holoflow.core._tracked_contexts import TrackedInputContext, TrackedOutputContext
from holoflow.core._tracked_run import cyclic_operators
from holoflow.schedulers import GreedyScheduler

M = DataFlowMetric


class Tx(Operator):
    def __init__(self, fragment, *args, sleep=0.0, **kwargs):
        self.sleep = sleep
        self.i = 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        time.sleep(self.sleep)
        self.i += 1
        op_output.emit(self.i, "out")


class Mid(Operator):
    def __init__(self, fragment, *args, sleep=0.0, **kwargs):
        self.sleep = sleep
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        value = op_input.receive("in")
        time.sleep(self.sleep)
        op_output.emit(value, "out")


class Rx(Operator):
    def __init__(self, fragment, *args, sleep=0.0, **kwargs):
        self.sleep = sleep
        self.got = []
        self.contexts = set()
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in", size=IOSpec.ANY_SIZE)

    def compute(self, op_input, op_output, context):
        self.got.extend(op_input.receive("in"))
        self.contexts.add((type(op_input), type(op_output)))
        time.sleep(self.sleep)


class Chain(Application):
    """tx → mid → rx with sleeps in each compute."""

    def __init__(self, count, sleeps=(0.0, 0.0, 0.0)):
        self.count, self.sleeps = count, sleeps
        super().__init__([])

    def compose(self):
        tx = Tx(self, CountCondition(self, self.count), name="tx", sleep=self.sleeps[0])
        mid = Mid(self, name="mid", sleep=self.sleeps[1])
        self.rx = Rx(self, name="rx", sleep=self.sleeps[2])
        self.add_flow(tx, mid)
        self.add_flow(mid, self.rx, {("out", "in")})


class TwoRoots(Application):
    """The graph of Holoscan's flow_tracker example: root1 → middle1 → {leaf1, leaf2},
    root2 → middle2 → leaf2."""

    def compose(self):
        root1 = Tx(self, CountCondition(self, 10), name="root1")
        root2 = Tx(self, CountCondition(self, 10), name="root2")
        middle1, middle2 = Mid(self, name="middle1"), Mid(self, name="middle2")
        leaf1, leaf2 = Rx(self, name="leaf1"), Rx(self, name="leaf2")
        self.add_flow(root1, middle1)
        self.add_flow(middle1, leaf1, {("out", "in")})
        self.add_flow(middle1, leaf2, {("out", "in")})
        self.add_flow(root2, middle2)
        self.add_flow(middle2, leaf2, {("out", "in")})


def test_latency_covers_the_known_sleeps_under_every_scheduler(use_scheduler):
    sleeps = (0.004, 0.010, 0.006)  # the root's and the leaf's compute count too, as in Holoscan
    app = Chain(7, sleeps)
    use_scheduler(app)
    tracker = app.track(num_start_messages_to_skip=1, num_last_messages_to_discard=2)
    app.run()
    assert tracker.get_path_strings() == ["tx,mid,rx"]
    path = "tx,mid,rx"
    assert tracker.get_metric(path, M.NUM_DST_MESSAGES) == 4
    low, avg, high = (
        tracker.get_metric(path, m) for m in (M.MIN_E2E_LATENCY, M.AVG_E2E_LATENCY, M.MAX_E2E_LATENCY)
    )
    assert 20.0 <= low <= avg <= high < 20.0 + 500.0  # generous ceiling: a loaded machine is slow
    assert 1 <= tracker.get_metric(path, M.MIN_MESSAGE_ID) <= 4
    assert 1 <= tracker.get_metric(path, M.MAX_MESSAGE_ID) <= 4
    assert tracker.get_metric(M.NUM_SRC_MESSAGES) == {"tx->out": 7}
    assert tracker.get_latencies(path)[0] >= 20.0 and len(tracker.get_latencies(path)) == 4
    assert app.rx.got == list(range(1, 8))  # the messages themselves arrive untouched


def test_every_root_to_leaf_path_under_every_scheduler(use_scheduler):
    app = TwoRoots([])
    use_scheduler(app)
    tracker = app.track(2, 3)
    app.run()
    assert tracker.get_num_paths() == 3
    assert tracker.get_path_strings() == ["root1,middle1,leaf1", "root1,middle1,leaf2", "root2,middle2,leaf2"]
    for path in tracker.get_path_strings():
        assert tracker.get_metric(path, M.NUM_DST_MESSAGES) == 10 - 2 - 3
    assert tracker.get_metric() == {"root1->out": 10, "root2->out": 10}


@settings(max_examples=25, deadline=None)
@given(count=st.integers(0, 12), skip=st.integers(0, 6), discard=st.integers(0, 6))
def test_skip_and_discard_leave_exactly_the_middle_messages(count, skip, discard):
    app = Chain(count)
    tracker = app.track(skip, discard)
    app.run()
    counted = max(0, count - skip - discard)
    if count == 0:
        assert tracker.get_num_paths() == 0
        return
    assert tracker.get_metric("tx,mid,rx", M.NUM_DST_MESSAGES) == counted
    assert len(tracker.get_latencies("tx,mid,rx")) == counted
    assert tracker.get_metric(M.NUM_SRC_MESSAGES) == {"tx->out": count}


def test_latency_threshold_leaves_fast_messages_out(capsys):
    app = Chain(5)
    tracker = app.track(0, 0, latency_threshold=10_000)
    app.run()
    assert tracker.get_path_strings() == ["tx,mid,rx"]
    assert tracker.get_metric("tx,mid,rx", M.NUM_DST_MESSAGES) == 0
    tracker.print()
    assert "Path 1: tx,mid,rx\nNo messages tracked for this path.\n" in capsys.readouterr().out


# Holoscan 4.6's print() for its flow_tracker example (num_start_messages_to_skip=2,
# num_last_messages_to_discard=3), recorded from a run; the numbers vary, the layout must not.
HOLOSCAN_LAYOUT = """\
Data Flow Tracking Results:
Total paths: 3

Path 1: root1,middle1,leaf1
Number of messages: 5
Min Latency Message No: 4
Min end-to-end Latency (ms): 0.255
Avg end-to-end Latency (ms): 0.851
Max Latency Message No: 2
Max end-to-end Latency (ms): 3.148

Path 2: root1,middle1,leaf2
Number of messages: 5
Min Latency Message No: 1
Min end-to-end Latency (ms): 0.317
Avg end-to-end Latency (ms): 0.9142
Max Latency Message No: 2
Max end-to-end Latency (ms): 3.226

Path 3: root2,middle2,leaf2
Number of messages: 5
Min Latency Message No: 1
Min end-to-end Latency (ms): 0.317
Avg end-to-end Latency (ms): 0.914
Max Latency Message No: 2
Max end-to-end Latency (ms): 3.226

Number of source messages [format: source operator->transmitter name: number of messages]:
root1->out: 10
root2->out: 10
"""


def _shape(text):
    return re.sub(r"\d+(\.\d+)?(e[+-]\d+)?", "N", text)


def test_print_has_holoscans_layout(capsys):
    app = TwoRoots([])
    with Tracker(app, num_start_messages_to_skip=2, num_last_messages_to_discard=3) as tracker:
        app.run()
        tracker.print()
    out = capsys.readouterr().out
    assert _shape(out) == _shape(HOLOSCAN_LAYOUT)
    numbers = re.findall(r"Number of messages: (\S+)", out)
    assert numbers == ["5", "5", "5"]  # integral values print as C++ prints doubles: "5"


def test_print_without_runs_says_so(capsys):
    DataFlowTracker().print()
    assert (
        capsys.readouterr().out
        == "Data Flow Tracking Results:\nTotal paths: 0\n\nNo source messages found.\n"
    )


def test_untracked_run_builds_no_tracking_objects():
    app = Chain(3)
    app.run()
    assert app.data_flow_tracker is None
    assert app.rx.contexts == {(InputContext, OutputContext)}  # the plain classes, nothing extra


def test_tracked_run_uses_the_tracking_contexts():
    app = Chain(3)
    tracker = app.track()
    assert app.data_flow_tracker is tracker and app.track() is tracker
    app.run()
    ((inputs, outputs),) = app.rx.contexts
    assert issubclass(inputs, TrackedInputContext) and issubclass(outputs, TrackedOutputContext)


def test_limited_tracking_keeps_roots_and_leaves_only():
    app = Chain(4)
    tracker = app.track(0, 0, is_limited_tracking=True)
    app.run()
    assert tracker.limited_tracking()
    assert tracker.get_path_strings() == ["tx,rx"]
    assert tracker.get_metric("tx,rx", M.NUM_DST_MESSAGES) == 4


def test_logging_writes_holoscans_log_format(tmp_path):
    log = tmp_path / "flow.log"
    app = Chain(3)
    with Tracker(app, filename=str(log), num_buffered_messages=2, num_start_messages_to_skip=0) as tracker:
        app.run()
    assert isinstance(tracker, DataFlowTracker)
    entries = log.read_text().split("\n\n")
    assert entries[-1] == ""
    assert [e.split(":\n")[0] for e in entries[:-1]] == ["1", "2", "3"]
    hop = r"\((\w+),(\d+),(\d+)\)"
    for entry in entries[:-1]:
        line = entry.split(":\n")[1]
        match = re.fullmatch(rf"{hop} -> {hop} -> {hop} \n", line + "\n" if not line.endswith("\n") else line)
        assert match, line
        names = match.group(1, 4, 7)
        times = [int(t) for t in match.group(2, 3, 5, 6, 8, 9)]
        assert names == ("tx", "mid", "rx")
        assert times == sorted(times)  # microseconds, in order along the path


def test_subgraph_operators_appear_under_qualified_names():
    class Pipe(Subgraph):
        def compose(self):
            self.mid = Mid(self, name="mid")
            self.add_input_interface_port("in", self.mid, "in")
            self.add_output_interface_port("out", self.mid, "out")

    class App(Application):
        def compose(self):
            tx = Tx(self, CountCondition(self, 4), name="tx")
            pipe = Pipe(self, "pipe")
            rx = Rx(self, name="rx")
            self.add_flow(tx, pipe, {("out", "in")})
            self.add_flow(pipe, rx, {("out", "in")})

    app = App([])
    tracker = app.track(0, 0)
    app.run()
    (path,) = tracker.get_path_strings()
    assert path.startswith("tx,pipe") and path.endswith(",rx") and path.count(",") == 2
    assert tracker.get_metric(path, M.NUM_DST_MESSAGES) == 4


def test_flow_control_signals_do_not_disturb_tracking(scheduler_kind):
    from tests.conftest import SCHEDULERS

    class App(Application):
        def compose(self):
            tx = Tx(self, name="tx")
            mid = Mid(self, name="mid")
            self.rx = Rx(self, name="rx")
            self.add_flow(self.start_op(), tx)  # tx runs once, started by the execution signal
            self.add_flow(tx, mid, {("out", "in")})
            self.add_flow(mid, self.rx, {("out", "in")})

    app = App([])
    app.scheduler(SCHEDULERS[scheduler_kind](app))
    tracker = app.track(0, 0)
    app.run()
    assert app.rx.got == [1]
    assert tracker.get_path_strings() == ["tx,mid,rx"]
    assert tracker.get_metric("tx,mid,rx", M.NUM_DST_MESSAGES) == 1


def test_metadata_and_acquisition_timestamps_still_travel_when_tracked():
    seen = []

    class Stamped(Tx):
        def compute(self, op_input, op_output, context):
            self.metadata["n"] = 1
            op_output.emit(1, "out", acq_timestamp=123)

    class Look(Rx):
        def compute(self, op_input, op_output, context):
            seen.append(
                (op_input.receive("in"), self.metadata.get("n"), op_input.get_acquisition_timestamp("in"))
            )

    class App(Application):
        def compose(self):
            self.enable_metadata(True)
            self.add_flow(
                Stamped(self, CountCondition(self, 2), name="tx"), Look(self, name="rx"), {("out", "in")}
            )

    app = App([])
    tracker = app.track(0, 0)
    app.run()
    assert seen == [((1,), 1, 123)] * 2
    assert tracker.get_metric("tx,rx", M.NUM_DST_MESSAGES) == 2


def test_get_metric_bad_requests_answer_as_holoscan(caplog):
    app = Chain(2)
    tracker = app.track(0, 0)
    app.run()
    assert tracker.get_metric("no,such,path", M.AVG_E2E_LATENCY) == -1
    assert tracker.get_metric("tx,mid,rx", M.NUM_SRC_MESSAGES) == -1
    assert tracker.get_metric(M.MAX_E2E_LATENCY) == {}
    assert "no path 'no,such,path'" in caplog.text
    with pytest.raises(TypeError, match="DataFlowMetric"):
        tracker.get_metric("tx,mid,rx", "avg")
    with pytest.raises(ValueError, match="num_start_messages_to_skip"):
        app.track(-1)


def test_a_path_with_no_counted_messages_keeps_holoscans_starting_values():
    app = Chain(2)
    tracker = app.track(5, 0)
    app.run()
    path = "tx,mid,rx"
    assert tracker.get_metric(path, M.NUM_DST_MESSAGES) == 0
    assert tracker.get_metric(path, M.MAX_E2E_LATENCY) == -2147483648
    assert tracker.get_metric(path, M.MIN_E2E_LATENCY) == 2147483647
    assert tracker.get_metric(path, M.MAX_MESSAGE_ID) == -1


def test_enum_values_are_holoscans():
    assert [m.name for m in DataFlowMetric] == [
        "MAX_MESSAGE_ID",
        "MIN_MESSAGE_ID",
        "MAX_E2E_LATENCY",
        "AVG_E2E_LATENCY",
        "MIN_E2E_LATENCY",
        "NUM_SRC_MESSAGES",
        "NUM_DST_MESSAGES",
    ]
    assert [m.value for m in DataFlowMetric] == list(range(7))


def test_cyclic_operators_finds_data_cycles_only():
    app = Chain(1)
    app.compose_graph()
    assert cyclic_operators(app.graph) == set()


def test_tracking_survives_a_second_run():
    app = Chain(4)
    app.scheduler(GreedyScheduler(app, name="g"))
    tracker = app.track(0, 0)
    app.run()
    app.run()
    assert tracker.get_metric("tx,mid,rx", M.NUM_DST_MESSAGES) == 4 + 4


def test_a_cycle_ends_its_path_where_it_comes_back():
    # greedy only: a does not wait for what comes back, so under threads whether anything comes
    # back before a's last run is a race; the tracking of a cycle is the same under every scheduler
    from holoflow.core import ConditionType

    class Loop(Operator):
        def setup(self, spec):
            spec.input("back").condition(ConditionType.NONE)
            spec.output("out")

        def compute(self, op_input, op_output, context):
            op_input.receive("back")
            op_output.emit(1, "out")

    class App(Application):
        def compose(self):
            a = Loop(self, CountCondition(self, 5), name="a")
            b = Mid(self, name="b")
            self.add_flow(a, b, {("out", "in")})
            self.add_flow(b, a, {("out", "back")})

    app = App([])
    tracker = app.track(0, 0)
    app.run()
    assert cyclic_operators(app.graph) == {"a", "b"}
    assert tracker.get_path_strings() == ["a,b,a"]
    # a runs 5 times; the message of its last run is not received back before the run ends
    assert tracker.get_metric("a,b,a", M.NUM_DST_MESSAGES) == 4
    assert tracker.get_metric() == {}  # a has a data predecessor: no root, no source counts


def test_tracking_and_data_loggers_see_every_message_in_one_run(use_scheduler):
    from tests.data_loggers._graphs import INPUT, OUTPUT, Recorder

    app = Chain(12, sleeps=(0.0, 0.001, 0.0))
    use_scheduler(app)
    recorder = Recorder()
    app.add_data_logger(recorder)
    tracker = app.track(2, 3)
    app.run()
    assert app.rx.got == list(range(1, 13))  # the messages arrive untouched
    sent = [(uid, data) for _, uid, data, _, _, io in recorder.calls if io is OUTPUT]
    received = [(uid, data) for _, uid, data, _, _, io in recorder.calls if io is INPUT]
    every = range(1, 13)
    assert sorted(sent) == sorted([("tx.out", i) for i in every] + [("mid.out", i) for i in every])
    assert sorted(received) == sorted([("mid.in", i) for i in every] + [("rx.in:0", i) for i in every])
    assert tracker.get_path_strings() == ["tx,mid,rx"]
    assert tracker.get_metric("tx,mid,rx", M.NUM_DST_MESSAGES) == 12 - 2 - 3
    assert tracker.get_metric(M.NUM_SRC_MESSAGES) == {"tx->out": 12}
    assert min(tracker.get_latencies("tx,mid,rx")) >= 1.0  # mid sleeps 1 ms


def test_tracking_with_a_logger_on_one_port_only():
    from tests.data_loggers._graphs import Recorder

    class OnlyMid(Recorder):
        def should_log_output(self):
            return False

    app = Chain(5)
    recorder = OnlyMid()
    app.add_data_logger(recorder)
    tracker = app.track(0, 0)
    app.run()
    assert recorder.ids() == ["mid.in"] * 5 + ["rx.in:0"] * 5
    assert tracker.get_metric("tx,mid,rx", M.NUM_DST_MESSAGES) == 5
