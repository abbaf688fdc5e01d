"""``holoflow latency``: a sample app end to end from the command line, and its errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from holoflow.cli import main

from .conftest import CHAIN_APP

ROOT = Path(__file__).resolve().parents[2]


def test_a_sample_app_end_to_end(sample_data, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("HOLOFLOW_DATA", str(sample_data))
    out = tmp_path / "report"
    status = main(
        ["latency", "ultrasound_segmentation", "--frames", "10", "--warmup", "2", "--fps", "0"]
        + ["--output", str(out), "--end-to-end", "--scheduler", "event"]
    )
    assert status == 0
    captured = capsys.readouterr()
    assert "latency ultrasound_segmentation [##############################] 10/10" in captured.err
    lines = captured.out.splitlines()
    assert lines[0] == (
        "holoflow latency: ultrasound_segmentation, 10 frames (2 warm-up), unpaced, event scheduler, "
        "end-to-end"
    )
    rows = {line.split()[0]: line.split() for line in lines if line[:4] in ("P1  ", "P2  ", "E2E ")}
    assert sorted(rows) == ["E2E", "P1", "P2"]
    assert all(row[1] == "8" for row in rows.values())  # frames counted after the warm-up
    assert "end-to-end: 10 frames stamped, 10 read back, 0 rendered frames unreadable, 0 never seen" in lines
    assert lines[-1].startswith("wrote summary.txt, latency_over_time.png") and lines[-1].endswith(str(out))
    assert (out / "summary.txt").read_text() == "\n".join(lines[:-1]) + "\n"
    files = sorted(p.name for p in out.iterdir())
    assert files == [
        "jitter.png",
        "latency_distribution.png",
        "latency_over_time.png",
        *(["operator_breakdown.png"] if (out / "operator_breakdown.png").exists() else []),
        "records.csv",
        "records.json",
        "report.html",
        "summary.txt",
    ]
    document = json.loads((out / "records.json").read_text())
    assert len(document["records"]) == 30 and document["info"]["end_to_end"] is True


def test_formats_and_a_script(tmp_path, capsys):
    status = main(
        ["latency", str(CHAIN_APP), "--frames", "5", "--warmup", "1", "--output", str(tmp_path)]
        + ["--format", "csv"]
    )
    assert status == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.csv", "summary.txt"]
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote summary.txt, records.csv to {tmp_path}"


def test_the_gc_policy_flag(tmp_path, capsys):
    status = main(
        ["latency", str(CHAIN_APP), "--frames", "4", "--warmup", "1", "--output", str(tmp_path)]
        + ["--format", "json", "--gc-policy", "none"]
    )
    assert status == 0
    document = json.loads((tmp_path / "records.json").read_text())
    assert document["info"]["gc"]["policy"] == "none"
    assert "garbage collector (gc_policy none): " in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["mri"], "holoflow latency: error: unknown app 'mri': give a sample app"),
        (["nothing/here.py"], "holoflow latency: error: no such script: nothing/here.py"),
        (
            [str(CHAIN_APP), "--frames", "3", "--warmup", "3"],
            "holoflow latency: error: warmup must be an int",
        ),
        (
            [str(CHAIN_APP), "--end-to-end"],
            "holoflow latency: error: tests/latency/_chain_app.py: end-to-end",
        ),
    ],
)
def test_errors_are_one_line(argv, message, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    argv = [a.replace(str(CHAIN_APP), "tests/latency/_chain_app.py") for a in argv]
    assert main(["latency", *argv, "--output", "/nonexistent/never-written"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_flags_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["latency", "ultrasound_segmentation", "--format", "html,pdf"])
    assert exited.value.code == 2
    assert "unknown format pdf; choose from html,png,csv,json" in capsys.readouterr().err


def test_the_installed_command_reports_without_a_traceback(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    script = tmp_path / "bad.py"
    script.write_text("import no_such_package_anywhere\n")
    result = subprocess.run(
        [sys.executable, "-m", "holoflow", "latency", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"holoflow latency: error: cannot load {script}: ModuleNotFoundError: "
        "No module named 'no_such_package_anywhere'\n"
    )
