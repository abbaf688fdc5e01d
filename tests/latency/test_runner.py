"""``run_latency``: N frames under tracking, the warm-up, pacing, schedulers, end-to-end mode."""

from __future__ import annotations

import textwrap

import pytest

from holoflow.core import DataFlowTracker
from holoflow.errors import ConfigError
from holoflow.latency import END_TO_END, run_latency
from holoflow.latency._stats import frame_breakdowns, path_stats

from .conftest import CHAIN_APP


def _paths(run):
    paths = {}
    for record in run.records:
        paths.setdefault(record["path"], []).append(record)
    return paths


def test_a_script_app_sends_n_frames_under_every_scheduler(scheduler_kind):
    seen = []
    run = run_latency(
        str(CHAIN_APP),
        frames=12,
        warmup=3,
        scheduler=scheduler_kind,
        progress=lambda d, t: seen.append((d, t)),
    )
    paths = _paths(run)
    assert sorted(paths) == ["source,blur,sink", "source,sink"]
    for records in paths.values():
        assert [r["index"] for r in records] == list(range(1, 13))
        assert [r["counted"] for r in records] == [False] * 3 + [True] * 9
    assert all(r["latency_ms"] >= 2.0 for r in paths["source,blur,sink"])  # the blur sleeps 2 ms
    assert run.info["scheduler"] == scheduler_kind and run.info["frames"] == 12
    assert run.info["fps"] is None and not run.info["end_to_end"]
    assert seen[-1] == (12, 12)
    assert all(0 < done <= 12 and total == 12 for done, total in seen)


def test_pacing_a_script_app():
    run = run_latency(str(CHAIN_APP), frames=6, warmup=0, fps=50)
    assert run.info["wall_s"] >= 5 / 50  # five periods between six frames, at least
    assert run.info["fps"] == 50


def test_end_to_end_reads_back_every_frame(sample_data, monkeypatch, scheduler_kind):
    """The ultrasound app, through its real HolovizOp: every stamped frame id is read back."""
    monkeypatch.setenv("HOLOFLOW_DATA", str(sample_data))
    run = run_latency(
        "ultrasound_segmentation", frames=8, warmup=2, fps=0, scheduler=scheduler_kind, end_to_end=True
    )
    assert run.info["end_to_end_frames"] == {"stamped": 8, "read": 8, "unreadable": 0, "missing": 0}
    e2e = _paths(run)[END_TO_END]
    assert [r["index"] for r in e2e] == list(range(1, 9))
    assert [r["counted"] for r in e2e] == [False, False] + [True] * 6
    for r in e2e:
        assert r["end_ns"] > r["start_ns"]
        assert r["latency_ms"] == pytest.approx((r["end_ns"] - r["start_ns"]) / 1e6)
    tracked = [p for p in _paths(run) if p != END_TO_END]
    assert sorted(tracked) == [
        "replayer,segmentation_preprocessor,segmentation_inference_holoinfer,segmentation_postprocessor,"
        "segmentation_visualizer,rendered_frames",
        "replayer,segmentation_visualizer,rendered_frames",
    ]
    assert run.records[-1]["path"] == END_TO_END


def test_end_to_end_on_the_endoscopy_app(sample_data, monkeypatch):
    monkeypatch.setenv("HOLOFLOW_DATA", str(sample_data))
    run = run_latency("endoscopy_tool_tracking", frames=6, warmup=1, fps=0, end_to_end=True)
    assert run.info["end_to_end_frames"]["read"] == 6
    assert run.info["fps"] == 0 and run.info["scheduler"] == "greedy"


def test_a_paced_sample_app_keeps_the_recordings_rate_by_default(sample_data, monkeypatch):
    monkeypatch.setenv("HOLOFLOW_DATA", str(sample_data))
    run = run_latency("ultrasound_segmentation", frames=4, warmup=0)
    assert run.info["fps"] == 30.0
    assert run.info["wall_s"] >= 3 / 30


def test_a_script_holoviz_runs_headless(tmp_path):
    script = tmp_path / "viz_app.py"
    script.write_text(
        textwrap.dedent(
            """
            import numpy as np
            from holoflow.core import Application, Operator
            from holoflow.operators import HolovizOp

            class Frames(Operator):
                def setup(self, spec):
                    spec.output("out")

                def compute(self, op_input, op_output, context):
                    op_output.emit({"": np.zeros((64, 64, 3), np.uint8)}, "out")

            class VizApp(Application):
                def compose(self):
                    viz = HolovizOp(self, name="viz", width=64, height=64, renderer="software")
                    self.add_flow(Frames(self, name="frames"), viz, {("out", "receivers")})
            """
        )
    )
    run = run_latency(str(script), frames=3, warmup=0)  # a window would fail here: no display
    assert [r["path"] for r in run.records] == ["frames,viz"] * 3


def test_end_to_end_needs_frame_taps():
    with pytest.raises(
        ConfigError, match=r"end-to-end mode needs an app with tap_frames\(source=, rendered=\)"
    ):
        run_latency(str(CHAIN_APP), frames=3, warmup=0, end_to_end=True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frames": 0}, "frames must be a positive int, got 0"),
        ({"frames": 5, "warmup": 5}, r"warmup must be an int from 0 to frames - 1 \(4\), got 5"),
        ({"warmup": -1}, "warmup must be an int"),
        ({"fps": -3.0}, r"fps must be >= 0 \(0: unpaced\), got -3.0"),
        ({"scheduler": "fifo"}, "unknown scheduler 'fifo'; choose from greedy, event, multi"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        run_latency(str(CHAIN_APP), **kwargs)


def test_operator_timing_makes_a_real_breakdown(tmp_path):
    """With per-message records the tracker gives hop times: the breakdown is each frame's own."""
    if not callable(getattr(DataFlowTracker, "records", None)):
        pytest.skip("this tracker keeps no per-message records")
    run = run_latency(str(CHAIN_APP), frames=10, warmup=2, scheduler="greedy")
    blurred = _paths(run)["source,blur,sink"]
    assert [r["counted"] for r in blurred] == [False] * 2 + [True] * 8
    for r in blurred:
        hops = r["hops"]
        assert [h["operator"] for h in hops] == ["source", "blur", "sink"]
        assert hops[0]["receive_ns"] == r["start_ns"] and hops[-1]["publish_ns"] == r["end_ns"]
        assert hops[1]["publish_ns"] - hops[1]["receive_ns"] >= 2_000_000  # the blur's 2 ms sleep
    assert run.operator_times["blur"]["computes"] == 10
    assert run.operator_times["blur"]["compute_ms_p50"] >= 2.0
    stats = path_stats(run.records)
    median, slow = frame_breakdowns(run.records, stats, run.operator_times)
    for breakdown in (median, slow):
        assert [op for op, _, _ in breakdown.segments] == ["source", "blur", "sink"]
        assert sum(q + c for _, q, c in breakdown.segments) == pytest.approx(breakdown.latency_ms, abs=1e-3)
    report = run.report(tmp_path)
    assert (tmp_path / "operator_breakdown.png").exists() and not report.notes
    assert "blur" in report.summary.split("Operators (ms)")[1]
