"""The latency tool counts the garbage collector's collections during the run and names the
scheduler's gc_policy."""

from __future__ import annotations

import gc

import pytest

from holoflow.core import Application, Operator
from holoflow.errors import ConfigError
from holoflow.latency import GCWatch, run_latency
from holoflow.latency._table import describe_gc


def test_gc_watch_counts_collections_by_generation():
    with GCWatch() as watch:
        gc.collect(0)
        gc.collect(0)
        gc.collect(2)
    assert watch._callback not in gc.callbacks
    summary = watch.summary()
    assert summary["collections"][0] >= 2 and summary["collections"][2] >= 1
    assert all(p >= 0 for p in summary["pause_ms_max"])
    assert summary["pause_ms_total"][0] >= summary["pause_ms_max"][0]
    generations = [g for g, _began, _pause in summary["events"]]
    assert generations.count(2) == summary["collections"][2]
    gc.collect(1)
    assert watch.summary()["collections"] == summary["collections"]  # closed: no more counting


class _Collecting(Operator):
    """Emits a frame and asks for a generation-1 collection on every compute."""

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        gc.collect(1)
        op_output.emit(1, "out")


class _Sink(Operator):
    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        op_input.receive("in")


class CollectingApp(Application):
    def compose(self):
        self.add_flow(_Collecting(self, name="source"), _Sink(self, name="sink"))


def test_run_latency_reports_the_collections_of_the_run(scheduler_kind, tmp_path):
    run = run_latency(CollectingApp, frames=6, warmup=1, scheduler=scheduler_kind)
    info = run.info["gc"]
    assert info["policy"] == "freeze"
    assert info["collections"][1] >= 6  # one per compute, at least
    assert len(info["events"]) == sum(info["collections"])
    # The counted frames (the 2nd to the 6th) asked for five of them, at least.
    during = info["counted_frames"]
    assert 5 <= during["collections"][1] <= info["collections"][1]
    summary = run.report(tmp_path, formats="json").summary
    assert "garbage collector (gc_policy freeze): " in summary
    n0, n1, n2 = during["collections"]
    assert f"{n0} gen-0, {n1} gen-1, {n2} gen-2 collections during the counted frames" in summary
    assert f"in the whole run {info['collections'][0]} gen-0" in summary


def test_gc_watch_summary_between():
    with GCWatch() as watch:
        gc.collect(0)
        began = watch.events[-1][1]
        gc.collect(2)
    assert watch.summary((began, began))["collections"] == [1, 0, 0]
    assert watch.summary((0, 1))["collections"] == [0, 0, 0]


def test_run_latency_sets_the_gc_policy():
    run = run_latency(CollectingApp, frames=3, warmup=0, gc_policy="none")
    assert run.info["gc"]["policy"] == "none"


def test_run_latency_refuses_an_unknown_gc_policy():
    with pytest.raises(ConfigError, match="^run_latency: gc_policy must be one of freeze, none, got 'off'$"):
        run_latency(CollectingApp, frames=3, warmup=0, gc_policy="off")


def test_describe_gc():
    line = describe_gc({"policy": "none", "collections": [9, 1, 0], "pause_ms_max": [0.08, 0.91, 0.0]})
    assert line == (
        "garbage collector (gc_policy none): 9 gen-0, 1 gen-1, 0 gen-2 collections while the app ran; "
        "longest pause 0.91 ms"
    )
    whole = {"policy": "freeze", "collections": [59, 5, 1], "pause_ms_max": [0.2, 1.0, 14.43]}
    whole["counted_frames"] = {"collections": [9, 1, 0], "pause_ms_max": [0.08, 0.25, 0.0]}
    assert describe_gc(whole) == (
        "garbage collector (gc_policy freeze): 9 gen-0, 1 gen-1, 0 gen-2 collections during the counted "
        "frames, longest pause 0.25 ms; in the whole run 59 gen-0, 5 gen-1, 1 gen-2, longest 14.43 ms"
    )
