"""``write_report``: the files of the report folder, their content, and the summary's numbers."""

from __future__ import annotations

import csv
import json
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.latency import END_TO_END, RECORD_KEYS, write_report
from holoflow.latency._stats import frame_breakdowns, main_path, path_stats

from .conftest import synthetic_records

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PLOTS = ["latency_over_time", "latency_distribution", "operator_breakdown", "jitter"]

pytest.importorskip("matplotlib")


def _csv_rows(path):
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_a_real_run_makes_a_well_formed_report(chain_run, tmp_path):
    report = chain_run.report(tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert sorted(p.name for p in report.files) == names
    assert report.files[0].name == "summary.txt"
    assert (tmp_path / "out" / "summary.txt").read_text() == report.summary

    rows = _csv_rows(tmp_path / "out" / "records.csv")
    assert list(rows[0]) == list(RECORD_KEYS)
    assert len(rows) == len(chain_run.records) == 24  # two paths, 12 frames each
    for row, record in zip(rows, chain_run.records):
        assert row["path"] == record["path"] and int(row["index"]) == record["index"]
        assert row["counted"] == ("true" if record["counted"] else "false")
        assert float(row["latency_ms"]) == pytest.approx(record["latency_ms"], abs=1e-6)

    document = json.loads((tmp_path / "out" / "records.json").read_text())
    assert document["records"] == chain_run.records
    assert document["info"]["app"].endswith("_chain_app.py") and document["info"]["frames"] == 12
    assert [s["path"] for s in document["summary"]] == ["source,blur,sink", "source,sink"]
    assert [s["frames"] for s in document["summary"]] == [10, 10]

    for stem in ("latency_over_time", "latency_distribution", "jitter"):
        assert (tmp_path / "out" / f"{stem}.png").read_bytes().startswith(PNG_MAGIC)
    page = (tmp_path / "out" / "report.html").read_text()
    for stem in ("latency_over_time", "latency_distribution", "jitter"):
        assert f"<img src='{stem}.png'" in page
    assert "href='records.csv'" in page and "href='records.json'" in page
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from a network


def test_the_summary_numbers_are_the_counted_records(tmp_path):
    records = synthetic_records(frames=40, warmup=5)
    report = write_report(records, tmp_path, formats="csv")
    by_path = {s.path: s for s in report.stats}
    assert list(by_path) == ["src,mid,viz", END_TO_END]
    for path, stats in by_path.items():
        counted = np.array([r["latency_ms"] for r in records if r["path"] == path and r["counted"]])
        assert stats.frames == 35 and stats.warmup == 5
        assert stats.p50 == pytest.approx(np.percentile(counted, 50))
        assert stats.p90 == pytest.approx(np.percentile(counted, 90))
        assert stats.p99 == pytest.approx(np.percentile(counted, 99))
        assert stats.max == pytest.approx(counted.max())
        assert stats.mean == pytest.approx(counted.mean())
        assert stats.std == pytest.approx(counted.std())
        assert stats.spread == pytest.approx(stats.p99 - stats.p50)
    # the source period is 33.3 ms; the end times follow it up to the latency's wobble
    assert by_path[END_TO_END].fps == pytest.approx(30.0, rel=0.1)
    assert by_path[END_TO_END].label == "E2E" and by_path["src,mid,viz"].label == "P1"
    lines = report.summary.splitlines()
    assert lines[0] == "holoflow latency: latency report"
    row = next(line for line in lines if line.startswith("P1 "))
    assert row.split()[1:4] == [
        "35",
        f"{by_path['src,mid,viz'].p50:.2f}",
        f"{by_path['src,mid,viz'].p90:.2f}",
    ]
    assert "P1: src > mid > viz" in lines


def test_the_breakdown_splits_the_median_and_p99_frames(tmp_path):
    records = synthetic_records()
    stats = path_stats(records)
    assert main_path(stats).path == "src,mid,viz"
    median, slow = frame_breakdowns(records, stats, None)
    counted = sorted(
        (r for r in records if r["path"] == "src,mid,viz" and r["counted"]), key=lambda r: r["latency_ms"]
    )
    assert median.latency_ms == counted[round(0.5 * (len(counted) - 1))]["latency_ms"]
    assert slow.latency_ms == counted[round(0.99 * (len(counted) - 1))]["latency_ms"]
    for breakdown in (median, slow):
        assert [op for op, _, _ in breakdown.segments] == ["src", "mid", "viz"]
        assert sum(q + c for _, q, c in breakdown.segments) == pytest.approx(breakdown.latency_ms)
        assert breakdown.segments[0][1] == 0.0  # the root waits in no queue
    report = write_report(records, tmp_path, formats="png")
    assert (tmp_path / "operator_breakdown.png").read_bytes().startswith(PNG_MAGIC)
    assert not report.notes


def test_the_breakdown_falls_back_to_operator_times(tmp_path):
    records = [dict(r, hops=[]) for r in synthetic_records()]
    times = {
        op: {
            "computes": 40,
            "compute_ms_p50": c,
            "compute_ms_p99": 2 * c,
            "queue_ms_p50": q,
            "queue_ms_p99": 3 * q,
        }
        for op, c, q in (("src", 1.0, 0.0), ("mid", 4.0, 0.5), ("viz", 2.0, 1.0))
    }
    stats = path_stats(records)
    p50, p99 = frame_breakdowns(records, stats, times)
    assert p50.segments == [("src", 0.0, 1.0), ("mid", 0.5, 4.0), ("viz", 1.0, 2.0)]
    assert p99.latency_ms == pytest.approx(2 + 1.5 + 8 + 3 + 4)
    report = write_report(records, tmp_path, operator_times=times, formats="png,html")
    assert (tmp_path / "operator_breakdown.png").exists()
    assert "mid" in report.summary.split("Operators (ms)")[1]
    assert "<h2>Operators (ms)</h2>" in (tmp_path / "report.html").read_text()
    assert not frame_breakdowns(records, stats, None)
    notes = write_report(records, tmp_path / "no_times", formats="png").notes
    assert notes == [
        "no per-operator breakdown: the records have no hop times and no operator times were given "
        "(track with operator timing on)"
    ]


def test_without_matplotlib_the_plots_are_skipped_and_the_rest_written(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    report = write_report(synthetic_records(), tmp_path)
    assert report.notes == [
        "plots skipped: matplotlib is not installed; pip install 'holoflow[report]' to get the plots"
    ]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["records.csv", "records.json", "report.html", "summary.txt"]
    page = (tmp_path / "report.html").read_text()
    assert "<img" not in page and "pip install &#x27;holoflow[report]&#x27;" in page


def test_formats_choose_the_files(tmp_path):
    write_report(synthetic_records(), tmp_path / "a", formats="csv")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["records.csv", "summary.txt"]
    write_report(synthetic_records(), tmp_path / "b", formats=["html"])
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["report.html", "summary.txt"]
    page = (tmp_path / "b" / "report.html").read_text()
    assert page.count("src='data:image/png;base64,") == 4  # embedded: the page stands alone
    with pytest.raises(ValueError, match="unknown report format pdf; choose from html, png, csv, json"):
        write_report(synthetic_records(), tmp_path, formats="csv,pdf")


def test_bad_records_are_named(tmp_path):
    records = synthetic_records(frames=3)
    del records[1]["end_ns"]
    with pytest.raises(ValueError, match="latency record 1 has no end_ns"):
        write_report(records, tmp_path)
    with pytest.raises(ValueError, match="latency record 0: latency_ms must be a number"):
        write_report([dict(synthetic_records(frames=1)[0], latency_ms="7")], tmp_path)


def test_a_path_with_nothing_counted_still_makes_strict_json(tmp_path):
    records = [dict(r, counted=False) for r in synthetic_records(frames=4)]
    write_report(records, tmp_path, formats="json,html,png")

    def refuse(constant):
        raise AssertionError(f"not JSON: {constant}")

    document = json.loads((tmp_path / "records.json").read_text(), parse_constant=refuse)
    assert document["summary"][0]["frames"] == 0 and document["summary"][0]["p50"] is None


record_lists = st.lists(
    st.tuples(st.sampled_from(["a,b", "a,c,d", END_TO_END]), st.floats(0, 1e4), st.booleans()),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(rows=record_lists)
def test_stats_invariants(rows):
    records = []
    counts: dict[str, int] = {}
    for path, latency, counted in rows:
        counts[path] = counts.get(path, 0) + 1
        records.append(
            {"path": path, "index": counts[path], "counted": counted, "start_ns": None, "end_ns": None}
            | {"latency_ms": latency, "hops": []}
        )
    stats = path_stats(records)
    assert [s.path for s in stats] == sorted(counts, key=lambda p: (p == END_TO_END, p))
    for s in stats:
        assert s.frames + s.warmup == counts[s.path]
        if s.frames:
            assert s.p50 <= s.p90 <= s.p99 <= s.max
            assert s.std >= 0 and s.spread >= 0
        assert s.fps is None
