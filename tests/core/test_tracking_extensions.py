"""holoflow's data-flow tracking extensions: percentiles, records, operator times, sampling,
the record limit, and the batch folding that must give Holoscan's one-at-a-time numbers."""

from __future__ import annotations

import bisect
import itertools
import math
import sys
import time
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.conditions import CountCondition
from holoflow.core import Application, ConditionType, DataFlowMetric, Operator, Tracker
from holoflow.core._tracking_paths import INT_MAX, INT_MIN, PathMetrics
from holoflow.core._tracking_stats import Distribution
from holoflow.schedulers import GreedyScheduler
from tests.core.test_tracking import Chain, Mid, TwoRoots, Tx

M = DataFlowMetric
PATH = "tx,mid,rx"


class StampedTx(Tx):
    """A Tx that notes when each of its computes began."""

    def __init__(self, fragment, *args, **kwargs):
        self.began = []
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        self.began.append(time.time_ns())
        super().compute(op_input, op_output, context)


class SleepyChain(Application):
    """tx → mid (sleeps 5 ms) → rx (sleeps 10 ms)."""

    def __init__(self, count, tx=StampedTx):
        self.count, self.tx_class = count, tx
        super().__init__([])

    def compose(self):
        self.tx = self.tx_class(self, CountCondition(self, self.count), name="tx")
        mid = Mid(self, name="mid", sleep=0.005)
        self.rx = _Sink(self, name="rx", sleep=0.010)
        self.add_flow(self.tx, mid)
        self.add_flow(mid, self.rx)


class _Sink(Operator):
    def __init__(self, fragment, *args, sleep=0.0, **kwargs):
        self.sleep = sleep
        self.got = []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        self.got.append(op_input.receive("in"))
        time.sleep(self.sleep)


def test_known_sleeps_show_in_latencies_records_and_operator_times(use_scheduler):
    app = SleepyChain(8)
    use_scheduler(app)
    tracker = app.track(1, 1, operator_timing=True)
    app.run()
    assert app.rx.got == list(range(1, 9))
    latencies = tracker.get_latencies(PATH)
    assert len(latencies) == 6
    assert all(15.0 <= latency < 15.0 + 500.0 for latency in latencies)  # a loaded machine is slow
    wanted = (0, 10, 50, 90, 99, 100)
    assert tracker.percentiles(PATH, wanted) == pytest.approx(
        dict(zip(map(float, wanted), np.percentile(latencies, wanted), strict=True)), rel=1e-12
    )
    records = tracker.records()
    assert [r["index"] for r in records] == list(range(1, 9))
    assert [r["counted"] for r in records] == [False] + [True] * 6 + [False]
    for record in records:
        hops = record["hops"]
        assert [hop["operator"] for hop in hops] == ["tx", "mid", "rx"]
        assert hops[0]["receive_ns"] == record["start_ns"] and hops[-1]["publish_ns"] == record["end_ns"]
        times = [t for hop in hops for t in (hop["receive_ns"], hop["publish_ns"])]
        assert times == sorted(times)  # receive <= publish <= next receive
        computing = sum(hop["publish_ns"] - hop["receive_ns"] for hop in hops)
        queued = sum(b["receive_ns"] - a["publish_ns"] for a, b in itertools.pairwise(hops))
        assert computing + queued == record["end_ns"] - record["start_ns"]
        assert record["latency_ms"] == pytest.approx((record["end_ns"] - record["start_ns"]) / 1e6, abs=0.002)
        assert (hops[1]["publish_ns"] - hops[1]["receive_ns"]) / 1e6 >= 5.0  # mid's sleep
    times = tracker.operator_times()
    assert sorted(times) == ["mid", "rx", "tx"]
    assert [times[name]["computes"] for name in ("tx", "mid", "rx")] == [8, 8, 8]
    assert 5.0 <= times["mid"]["compute_ms_p50"] <= times["mid"]["compute_ms_max"] < 5.0 + 500.0
    assert 10.0 <= times["rx"]["compute_ms_mean"] < 10.0 + 500.0
    assert times["tx"]["compute_ms_p99"] < 5.0  # tx does not sleep
    assert "queue_ms_mean" not in times["tx"]  # a root receives nothing
    assert 0.0 <= times["mid"]["queue_ms_p50"] <= times["mid"]["queue_ms_max"]
    assert set(times["rx"]) >= {"queue_ms_mean", "queue_ms_p50", "queue_ms_p99", "queue_ms_max"}


def test_without_operator_timing_records_have_no_hops_and_no_operator_times():
    app = Chain(5)
    tracker = app.track(0, 0)
    app.run()
    assert not tracker.operator_timing()
    assert tracker.operator_times() == {}
    records = tracker.records()
    assert len(records) == 5 and all(r["hops"] == [] and r["counted"] for r in records)
    assert set(records[0]) == {"path", "index", "counted", "start_ns", "end_ns", "latency_ms", "hops"}
    assert [r["latency_ms"] for r in records] == tracker.get_latencies(PATH)


def test_records_of_held_back_messages_become_counted_when_newer_ones_push_them_in():
    app = Chain(10)
    app.scheduler(GreedyScheduler(app, name="g"))
    tracker = app.track(2, 3)
    app.run()
    flags = [r["counted"] for r in tracker.records()]
    assert flags == [False, False] + [True] * 5 + [False] * 3
    app.run()  # the same tracker goes on: the three held back are pushed in by newer messages
    flags = [r["counted"] for r in tracker.records()]
    assert flags == [False, False] + [True] * 15 + [False] * 3
    assert [r["index"] for r in tracker.records()] == list(range(1, 21))
    assert tracker.get_metric(PATH, M.NUM_DST_MESSAGES) == 15


def test_percentiles_bad_requests():
    app = Chain(3)
    tracker = app.track(5, 0)
    app.run()
    with pytest.raises(KeyError, match=r"no path 'no,such'.*tx,mid,rx"):
        tracker.percentiles("no,such")
    with pytest.raises(ValueError, match="between 0 and 100"):
        tracker.percentiles(PATH, (50, 101))
    assert all(math.isnan(v) for v in tracker.percentiles(PATH).values())  # nothing counted yet
    assert list(tracker.percentiles(PATH)) == [50.0, 90.0, 99.0, 100.0]


def test_sampling_labels_exactly_every_nth_root_compute(use_scheduler):
    app = SleepyChain(21, tx=StampedTx)
    use_scheduler(app)
    settings = {"num_start_messages_to_skip": 0, "num_last_messages_to_discard": 0}
    with Tracker(app, **settings, sample_every=4) as tracker:
        app.run()
    assert tracker.sampling() == 4
    assert app.rx.got == list(range(1, 22))  # every message arrives, sampled or not
    assert tracker.get_metric(M.NUM_SRC_MESSAGES) == {"tx->out": 21}  # source counts: all
    records = tracker.records()
    assert len(records) == 6 and tracker.get_metric(PATH, M.NUM_DST_MESSAGES) == 6
    # each record starts just before the compute that sent it: computes 1, 5, 9, ...
    began = app.tx.began
    assert [bisect.bisect_left(began, r["start_ns"]) for r in records] == [0, 4, 8, 12, 16, 20]


def test_sampling_each_root_on_its_own():
    app = TwoRoots([])
    tracker = app.track(0, 0, sample_every=3)
    app.run()
    # each root computes 10 times: computes 1, 4, 7, 10 are tracked
    for path in ("root1,middle1,leaf1", "root1,middle1,leaf2", "root2,middle2,leaf2"):
        assert tracker.get_metric(path, M.NUM_DST_MESSAGES) == 4
    assert tracker.get_metric() == {"root1->out": 10, "root2->out": 10}


def test_sampling_must_be_a_positive_int():
    app = Chain(1)
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="sample_every"):
            app.track(sample_every=bad)


def test_the_record_limit_bounds_memory_and_counts_what_it_dropped():
    app = Chain(50)
    tracker = app.track(0, 0)
    tracker.set_record_limit(10)
    app.run()
    records = tracker.records()
    assert [r["index"] for r in records] == list(range(41, 51))  # the most recent ones
    assert tracker.records_dropped() == 40
    assert tracker.get_metric(PATH, M.NUM_DST_MESSAGES) == 50  # the metrics still count all
    tracker.set_record_limit(3)
    assert [r["index"] for r in tracker.records()] == [48, 49, 50]
    assert tracker.records_dropped() == 47
    with pytest.raises(ValueError, match="record limit"):
        tracker.set_record_limit(-1)


def test_to_dataframe_names_pip_install_pandas_when_it_is_missing(monkeypatch):
    app = Chain(2)
    tracker = app.track(0, 0)
    app.run()
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` raise ImportError
    with pytest.raises(ImportError, match="pip install pandas"):
        tracker.to_dataframe()


def test_to_dataframe_flattens_the_hops():
    pd = pytest.importorskip("pandas")
    app = Chain(4)
    tracker = app.track(0, 0, operator_timing=True)
    app.run()
    frame = tracker.to_dataframe()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 4
    assert list(frame.columns) == [
        "path",
        "index",
        "counted",
        "start_ns",
        "end_ns",
        "latency_ms",
        "tx.receive_ns",
        "tx.publish_ns",
        "mid.receive_ns",
        "mid.publish_ns",
        "rx.receive_ns",
        "rx.publish_ns",
    ]
    assert (frame["tx.receive_ns"] == frame["start_ns"]).all()
    assert (frame["rx.publish_ns"] == frame["end_ns"]).all()


def test_an_empty_receive_starts_a_path_as_in_holoscan():
    # Holoscan 4.6 on this graph (recorded): tx,mid,rx 3 messages, mid,rx 7: a compute that
    # receives nothing starts a new path at mid
    class Optional(Mid):
        def setup(self, spec):
            spec.input("in").condition(ConditionType.NONE)
            spec.output("out")

    class App(Application):
        def compose(self):
            tx = Tx(self, CountCondition(self, 3), name="tx")
            mid = Optional(self, CountCondition(self, 10), name="mid")
            self.add_flow(tx, mid)
            self.add_flow(mid, _Sink(self, name="rx"))

    app = App([])
    app.scheduler(GreedyScheduler(app, name="g"))
    tracker = app.track(0, 0)
    app.run()
    counts = {path: tracker.get_metric(path, M.NUM_DST_MESSAGES) for path in tracker.get_path_strings()}
    assert counts == {"mid,rx": 7, "tx,mid,rx": 3}
    assert max(tracker.get_latencies("mid,rx")) < 1000.0  # timed from mid's compute, not from 0


def test_a_port_keeps_its_label_until_it_is_received_from_again_as_in_holoscan():
    # Holoscan 4.6 (recorded): mid receives tx's one message in its 1st compute, skips receive
    # in the 2nd and 3rd (they send the same path on), and receives nothing in the 4th on
    class Skipping(Mid):
        def setup(self, spec):
            spec.input("in").condition(ConditionType.NONE)
            spec.output("out")

        def compute(self, op_input, op_output, context):
            self.k = getattr(self, "k", 0) + 1
            value = op_input.receive("in") if self.k in (1, 4) else None
            op_output.emit(value, "out")

    class App(Application):
        def compose(self):
            tx = Tx(self, CountCondition(self, 1), name="tx")
            mid = Skipping(self, CountCondition(self, 10), name="mid")
            self.add_flow(tx, mid)
            self.add_flow(mid, _Sink(self, name="rx"))

    app = App([])
    app.scheduler(GreedyScheduler(app, name="g"))
    tracker = app.track(0, 0)
    app.run()
    counts = {path: tracker.get_metric(path, M.NUM_DST_MESSAGES) for path in tracker.get_path_strings()}
    assert counts == {"mid,rx": 7, "tx,mid,rx": 3}


def test_limited_tracking_with_operator_timing_times_roots_and_leaves():
    app = Chain(4)
    tracker = app.track(0, 0, is_limited_tracking=True, operator_timing=True)
    app.run()
    for record in tracker.records():
        assert record["path"] == "tx,rx"
        assert [hop["operator"] for hop in record["hops"]] == ["tx", "rx"]
        times = [t for hop in record["hops"] for t in (hop["receive_ns"], hop["publish_ns"])]
        assert times == sorted(times)


def test_a_cycle_is_recorded_with_its_hops():
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
    app.scheduler(GreedyScheduler(app, name="g"))
    tracker = app.track(0, 0, operator_timing=True)
    app.run()
    records = tracker.records()
    assert len(records) == 4 and {r["path"] for r in records} == {"a,b,a"}
    for record in records:
        hops = record["hops"]
        assert [hop["operator"] for hop in hops] == ["a", "b", "a"]
        assert hops[-1]["receive_ns"] == hops[-1]["publish_ns"] == record["end_ns"]  # ends at receive


def test_file_logging_and_records_agree(tmp_path):
    log = tmp_path / "flow.log"
    app = Chain(6)
    settings = {"num_start_messages_to_skip": 0, "num_last_messages_to_discard": 0}
    with Tracker(app, filename=str(log), **settings) as tracker:
        app.run()
    entries = [e for e in log.read_text().split("\n\n") if e]
    records = tracker.records()
    assert len(entries) == len(records) == 6
    first = entries[0].split(":\n")[1]
    hops = records[0]["hops"]
    assert first.startswith(f"({hops[0]['operator']},{hops[0]['receive_ns'] // 1000},")


# -- the batch folding equals Holoscan's one-at-a-time update --------------------------------------


class _OneAtATime:
    """DataFlowTracker::update_latency of Holoscan 4.6, one latency at a time."""

    def __init__(self):
        self.max, self.min, self.avg, self.n = INT_MIN, INT_MAX, 0.0, 0
        self.max_id = self.min_id = -1.0
        self.skipped = 0
        self.held = deque()
        self.counted = []

    def update(self, latency, skip, discard, threshold):
        if latency < threshold:
            return
        if self.skipped < skip:
            self.skipped += 1
            return
        self.held.append(latency)
        if len(self.held) > discard:
            latency = self.held.popleft()
            self.counted.append(latency)
            self.max = max(latency, self.max)
            self.min = min(latency, self.min)
            self.avg = (self.avg * self.n + latency) / (self.n + 1)
            self.n += 1
            if self.max == latency:
                self.max_id = self.n
            if self.min == latency:
                self.min_id = self.n


@settings(max_examples=300, deadline=None)
@given(
    micros=st.lists(st.integers(0, 30_000), max_size=80),
    cuts=st.lists(st.integers(0, 80), max_size=6),
    skip=st.integers(0, 8),
    discards=st.lists(st.integers(0, 8), min_size=1, max_size=7),
    threshold=st.integers(0, 20),
)
def test_batch_folding_equals_holoscans_one_at_a_time_update(micros, cuts, skip, discards, threshold):
    reference = _OneAtATime()
    folded = PathMetrics()
    bounds = [0, *sorted(c for c in cuts if c < len(micros)), len(micros)]
    for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        discard = discards[i % len(discards)]  # the setting may change between batches
        for value in micros[lo:hi]:
            reference.update(value / 1000.0, skip, discard, threshold)
        folded.fold(np.array(micros[lo:hi], dtype=np.int64), skip, discard, threshold)
    assert folded.n == reference.n
    assert (folded.max, folded.max_id, folded.min, folded.min_id) == (
        reference.max,
        reference.max_id,
        reference.min,
        reference.min_id,
    )
    assert folded.avg == pytest.approx(reference.avg, rel=1e-12, abs=1e-12)
    assert [v / 1000.0 for v in folded.counted.kept().tolist()] == reference.counted
    assert [v / 1000.0 for v in folded.held.tolist()] == list(reference.held)
    assert folded.skipped == reference.skipped


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=400), st.integers(1, 120))
def test_percentiles_exact_while_retained_then_within_the_histograms_resolution(values, retain):
    distribution = Distribution(retain)
    for lo in range(0, len(values), 37):
        distribution.add(np.array(values[lo : lo + 37], dtype=np.int64))
    percents = np.array([0.0, 1.0, 25.0, 50.0, 90.0, 99.0, 100.0])
    exact = np.percentile(values, percents)
    got = distribution.percentiles(percents)
    assert len(distribution.kept()) == min(retain, len(values))  # the memory bound
    assert distribution.count == len(values) and distribution.total == sum(values)
    if len(values) <= retain:
        assert got.tolist() == pytest.approx(exact.tolist(), rel=1e-12)
    else:
        assert got[0] == min(values) and got[-1] == max(values)
        # each estimate lies between the order statistics around it, give or take a bin (1 %)
        ordered = sorted(values)
        for p, value in zip(percents, got, strict=True):
            position = p / 100 * (len(values) - 1)
            low, high = ordered[math.floor(position)], ordered[math.ceil(position)]
            assert low / 1.011 - 1 <= value <= high * 1.011 + 1


def test_runs_longer_than_a_fold_batch_keep_every_message_in_order(use_scheduler):
    from holoflow.core._tracked_run import FOLD_BATCH

    count = FOLD_BATCH + 904  # the leaves fold their buffers during the run, the rest at its end

    class App(Application):
        """TwoRoots' graph with ``count`` messages from each root."""

        def compose(self):
            root1 = Tx(self, CountCondition(self, count), name="root1")
            root2 = Tx(self, CountCondition(self, count), name="root2")
            middle1, middle2 = Mid(self, name="middle1"), Mid(self, name="middle2")
            leaf1, leaf2 = _Sink(self, name="leaf1"), _Both(self, name="leaf2")
            self.add_flow(root1, middle1)
            self.add_flow(middle1, leaf1)
            self.add_flow(middle1, leaf2, {("out", "a")})
            self.add_flow(root2, middle2)
            self.add_flow(middle2, leaf2, {("out", "b")})

    app = App([])
    use_scheduler(app)
    tracker = app.track(3, 4)
    app.run()
    records = tracker.records()
    for path in ("root1,middle1,leaf1", "root1,middle1,leaf2", "root2,middle2,leaf2"):
        assert tracker.get_metric(path, M.NUM_DST_MESSAGES) == count - 3 - 4
        assert [r["index"] for r in records if r["path"] == path] == list(range(1, count + 1))
    ends = [r["end_ns"] for r in records]
    assert ends == sorted(ends)  # completion order across the two leaves


class _Both(Operator):
    """A leaf with two inputs that runs when both hold a message."""

    def setup(self, spec):
        spec.input("a")
        spec.input("b")

    def compute(self, op_input, op_output, context):
        op_input.receive("a")
        op_input.receive("b")


def test_reading_while_the_application_runs(scheduler_kind):
    import threading

    from tests.conftest import SCHEDULERS

    app = Chain(3000, sleeps=(0.0, 0.0, 0.0))
    app.scheduler(SCHEDULERS[scheduler_kind](app))
    tracker = app.track(0, 0, operator_timing=True)
    seen = []
    done = threading.Event()

    def read():
        while not done.wait(0.002):
            if tracker.get_num_paths():
                seen.append(tracker.get_metric(PATH, M.NUM_DST_MESSAGES))
                tracker.records()
                tracker.percentiles(PATH, (50,))
                tracker.operator_times()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        app.run()
    finally:
        done.set()
        reader.join()
    assert seen == sorted(seen)  # never goes back
    assert tracker.get_metric(PATH, M.NUM_DST_MESSAGES) == 3000
    assert [r["index"] for r in tracker.records()] == list(range(1, 3001))
    assert tracker.operator_times()["rx"]["computes"] == 3000


def test_a_run_that_cannot_be_built_leaves_no_buffers_with_the_tracker():
    from tests.data_loggers._graphs import Recorder

    class Failing(Recorder):
        """Fails when the run asks about the last operator, after the others were built."""

        def should_log_input(self):
            self.asked = getattr(self, "asked", 0) + 1
            if self.asked == 2:  # rx, the last operator built
                raise RuntimeError("logger settings unreadable")
            return True

    app = Chain(3)
    app.add_data_logger(Failing())
    tracker = app.track(0, 0, operator_timing=True)
    with pytest.raises(RuntimeError, match="unreadable"):
        app.run()
    assert tracker._sinks == {}  # the sinks registered before the failure went with it
    assert tracker.get_num_paths() == 0


def test_an_endless_cycle_folds_as_it_goes():
    from holoflow.core._tracked_run import FOLD_BATCH

    class Loop(Operator):
        def setup(self, spec):
            spec.input("back").condition(ConditionType.NONE)
            spec.output("out")

        def compute(self, op_input, op_output, context):
            op_input.receive("back")
            op_output.emit(1, "out")

    class Probe(Mid):
        """Notes how many completions wait in a's buffer when it runs."""

        def compute(self, op_input, op_output, context):
            self.waiting = max(getattr(self, "waiting", 0), len(self.sink.ends))
            super().compute(op_input, op_output, context)

    class App(Application):
        def compose(self):
            a = Loop(self, CountCondition(self, 3 * FOLD_BATCH), name="a")
            self.b = Probe(self, name="b")
            self.add_flow(a, self.b, {("out", "in")})
            self.add_flow(self.b, a, {("out", "back")})

    app = App([])
    app.scheduler(GreedyScheduler(app, name="g"))
    tracker = app.track(0, 0)
    original = tracker._register

    def register(run, sink):
        if sink.name == "a":
            app.b.sink = sink
        original(run, sink)

    tracker._register = register
    app.run()
    assert app.b.waiting <= FOLD_BATCH  # a's buffer never grows past a batch
    assert tracker.get_metric("a,b,a", M.NUM_DST_MESSAGES) == 3 * FOLD_BATCH - 1
