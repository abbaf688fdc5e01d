"""``holoflow graph``: DOT on stdout, files by suffix, apps named as ``holoflow latency`` names them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import holoflow.gxf
from holoflow.cli import main

from ._dot import read_dot
from ._support import needs_dot

SCRIPT = textwrap.dedent(
    """
    from holoflow.conditions import CountCondition
    from holoflow.core import Application, Operator


    class Tx(Operator):
        def setup(self, spec):
            spec.output("out")


    class Rx(Operator):
        def setup(self, spec):
            spec.input("in")


    class PingApp(Application):
        def compose(self):
            self.add_flow(Tx(self, CountCondition(self, 3), name="tx"), Rx(self, name="rx"))


    class OtherApp(Application):
        def compose(self):
            self.add_operator(Tx(self, CountCondition(self, 1), name="alone"))
    """
)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "ping_app.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def test_dot_goes_to_stdout(script, capsys):
    assert main(["graph", f"{script}:PingApp"]) == 0
    out = capsys.readouterr().out
    dot = read_dot(out)
    assert dot.name == "PingApp" and dot.port_edges() == {("tx", "out", "rx", "in")}


def test_the_class_is_named_when_a_script_has_several(script, capsys):
    assert main(["graph", str(script)]) == 2
    assert "defines several Application subclasses (OtherApp, PingApp)" in capsys.readouterr().err
    assert main(["graph", f"{script}:OtherApp"]) == 0
    assert [n.name for n in read_dot(capsys.readouterr().out).nodes.values()] == ["alone"]


def test_output_file_by_suffix(script, tmp_path, capsys):
    target = tmp_path / "ping.dot"
    assert main(["graph", f"{script}:PingApp", "-o", str(target)]) == 0
    assert capsys.readouterr().out == f"wrote {target}\n"
    assert read_dot(target.read_text(encoding="utf-8")).port_edges() == {("tx", "out", "rx", "in")}
    assert main(["graph", f"{script}:PingApp", "--output", str(tmp_path / "ping.pdf")]) == 2
    assert "suffix must be one of .svg, .png, .dot, .gv" in capsys.readouterr().err


@needs_dot
def test_svg_output(script, tmp_path):
    target = tmp_path / "ping.svg"
    assert main(["graph", f"{script}:PingApp", "-o", str(target)]) == 0
    svg = target.read_text(encoding="utf-8")
    assert "<title>tx:o_out&#45;&gt;rx:i_in</title>" in svg


def test_a_sample_app_by_name(capsys):
    assert main(["graph", "ultrasound_segmentation"]) == 0
    dot = read_dot(capsys.readouterr().out)
    assert ("replayer", "output", "segmentation_preprocessor", "source_video") in dot.port_edges()


def test_yaml_and_python_do_not_mix(script, tmp_path, capsys):
    assert main(["graph", str(tmp_path / "a.yaml"), str(script)]) == 2
    assert "give GXF application files (.yaml) or one Python app, not both" in capsys.readouterr().err
    assert main(["graph", str(script), str(script)]) == 2
    assert "give one Python app (path/to/app.py[:Class]), not 2" in capsys.readouterr().err


def test_unknown_app(capsys):
    assert main(["graph", "no_such_app"]) == 2
    assert "unknown app 'no_such_app'" in capsys.readouterr().err


def test_the_installed_command(script):
    done = subprocess.run(
        [sys.executable, "-m", "holoflow", "graph", f"{script}:PingApp"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert read_dot(done.stdout).port_edges() == {("tx", "out", "rx", "in")}


def test_extensions_are_for_gxf_files(script, capsys):
    assert main(["graph", f"{script}:PingApp", "--extension", "my_codelets"]) == 2
    assert "--extension registers codelets for GXF application files" in capsys.readouterr().err


def test_what_the_app_prints_goes_to_stderr(tmp_path, capsys):
    path = tmp_path / "chatty.py"
    path.write_text(
        SCRIPT.replace("def compose(self):", "def compose(self):\n        print('composing')", 1)
        + "\nprint('loaded')\n",
        encoding="utf-8",
    )
    assert main(["graph", f"{path}:PingApp"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "loaded\ncomposing\n"
    assert read_dot(captured.out).port_edges() == {("tx", "out", "rx", "in")}


GXF_APPS = Path(__file__).resolve().parents[2] / "examples" / "gxf_apps"
GXF_FILES = {
    "format_converter.yaml": [],
    "replayer_recorder.yaml": ["--extension", str(GXF_APPS / "my_recorder.py")],
}


@pytest.mark.filterwarnings("ignore::holoflow.errors.CPUFallbackWarning")  # a device pool, on a CPU
@pytest.mark.parametrize("name", sorted(GXF_FILES))
def test_a_gxf_application_file(name, capsys):
    assert main(["graph", str(GXF_APPS / name), *GXF_FILES[name]]) == 0
    dot = read_dot(capsys.readouterr().out)
    assert dot.graph["label"] == f"{name} (GXFApplication)"
    app = holoflow.gxf.load_app([GXF_APPS / name], extensions=GXF_FILES[name][1:])
    app.compose_graph()
    assert {n.name for n in dot.nodes.values()} == {op.name for op in app.graph.get_nodes()}
    assert dot.port_edges() == {
        (c.source.name, c.output, c.target.name, c.input) for c in app.graph.connections
    }
    assert len(dot.edges) == len(app.graph.connections) > 0


@pytest.mark.filterwarnings("ignore::holoflow.errors.CPUFallbackWarning")
def test_several_gxf_files_are_one_application(tmp_path, capsys):
    text = (GXF_APPS / "format_converter.yaml").read_text(encoding="utf-8")
    first, _, rest = text.partition("\n---\nname: format_converter_entity")
    (tmp_path / "source.yaml").write_text(first + "\n", encoding="utf-8")
    (tmp_path / "rest.yaml").write_text(
        "%YAML 1.2\n---\nname: format_converter_entity" + rest, encoding="utf-8"
    )
    assert main(["graph", str(tmp_path / "source.yaml"), str(tmp_path / "rest.yaml")]) == 0
    dot = read_dot(capsys.readouterr().out)
    assert dot.graph["label"] == "source.yaml + rest.yaml (GXFApplication)"
    assert len(dot.edges) == 2
