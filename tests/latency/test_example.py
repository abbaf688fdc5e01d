"""``examples/observability/latency_report.py``: the tool's API on a small app, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_writes_a_report_and_redraws_it(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples/observability/latency_report.py")]
        + ["--frames", "20", "--fps", "0", "--output", str(tmp_path / "report")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "holoflow latency: FilterApp, 20 frames (10 warm-up), the app's own pacing, greedy scheduler, "
        "end-to-end"
    )
    assert "P1: camera > smooth > holoviz > screen" in lines
    assert "end-to-end: 20 frames stamped, 20 read back, 0 rendered frames unreadable, 0 never seen" in lines
    assert lines[-1] == f"redrawn from records.json into {tmp_path / 'report' / 'again'}"
    assert (tmp_path / "report" / "records.json").is_file()
    assert (tmp_path / "report" / "again" / "summary.txt").read_text() == (
        tmp_path / "report" / "summary.txt"
    ).read_text()
