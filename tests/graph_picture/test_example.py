"""``examples/graph_picture.py`` prints its graph, or draws it, and then runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ._dot import read_dot
from ._support import needs_dot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "graph_picture.py"


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_example_prints_its_graph_then_runs():
    out = _run()
    text, _, tail = out.rpartition("}\n")
    assert tail == "merged: [(2, 3), (4, 6), (6, 9)]\n"
    dot = read_dot(text + "}\n")
    assert dot.port_edges() == {
        ("sensor", "out", "double", "in"),
        ("sensor", "out", "triple", "in"),
        ("double", "out", "merge", "in"),
        ("triple", "out", "merge", "in"),
    }
    labels = {(e.source, e.target): e.label[0] for e in dot.edges}
    assert labels[("sensor", "double")] == "capacity 2, POP"
    assert labels[("double", "merge")] == "in:0, capacity 1, FAULT"
    assert labels[("triple", "merge")] == "in:1, capacity 1, FAULT"
    assert dot.node_named("merge").inputs == {"i_in": "in [ANY_SIZE]", "i_note": "note"}


def test_the_example_writes_dot_text(tmp_path):
    target = tmp_path / "pipeline.dot"
    assert _run(str(target)) == f"wrote {target}\nmerged: [(2, 3), (4, 6), (6, 9)]\n"
    assert len(read_dot(target.read_text(encoding="utf-8")).edges) == 4


@needs_dot
def test_the_example_draws_svg(tmp_path):
    target = tmp_path / "pipeline.svg"
    _run(str(target))
    assert "<title>sensor:o_out&#45;&gt;double:i_in</title>" in target.read_text(encoding="utf-8")
