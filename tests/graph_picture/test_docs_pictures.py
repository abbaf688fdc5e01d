"""The pictures committed in ``docs/images`` show every operator and every edge of their apps.

Each was drawn with ``holoflow graph ARGS -o docs/images/NAME`` from the repository root (with
Graphviz installed); when an app's graph changes, its test fails with the command that redraws it.
The test prints the same app as DOT with the same command and finds every node and edge of that
text among the SVG's (Graphviz titles each node by its id and each edge ``tail:port->head:port``).
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from holoflow.cli import main

from ._dot import read_dot

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"

PICTURES = {
    "graph_gxf_format_converter.svg": ["examples/gxf_apps/format_converter.yaml"],
    "graph_gxf_replayer_recorder.svg": [
        "examples/gxf_apps/replayer_recorder.yaml",
        "--extension",
        "examples/gxf_apps/my_recorder.py",
    ],
    "graph_ultrasound_segmentation.svg": ["ultrasound_segmentation"],
    "graph_endoscopy_tool_tracking.svg": ["endoscopy_tool_tracking"],
    "graph_picture_example.svg": ["examples/graph_picture.py"],
}
"""Picture in docs/images → the arguments of ``holoflow graph`` that draw it."""


def _titles(svg_path: Path) -> dict[str, set[str]]:
    titles: dict[str, set[str]] = {"node": set(), "edge": set()}
    for group in ElementTree.parse(svg_path).getroot().iter(f"{SVG}g"):
        kind = group.get("class")
        if kind in titles:
            titles[kind].add(group.find(f"{SVG}title").text)
    return titles


@pytest.mark.filterwarnings("ignore::holoflow.errors.CPUFallbackWarning")  # a device pool, on a CPU
@pytest.mark.parametrize("picture", sorted(PICTURES))
def test_the_picture_shows_every_operator_and_edge(picture, capsys, monkeypatch):
    args = PICTURES[picture]
    monkeypatch.chdir(ROOT)
    assert main(["graph", *args]) == 0
    dot = read_dot(capsys.readouterr().out)
    assert dot.nodes and dot.edges
    titles = _titles(ROOT / "docs" / "images" / picture)
    command = f"holoflow graph {' '.join(args)} -o docs/images/{picture}"
    redraw = f"docs/images/{picture} is out of date; redraw it: {command}"
    assert titles["node"] == set(dot.nodes), redraw
    assert titles["edge"] == {f"{e.source}:{e.source_port}->{e.target}:{e.target_port}" for e in dot.edges}, (
        redraw
    )
