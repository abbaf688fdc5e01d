"""Drawing the text: ``render`` by suffix, a clear error without Graphviz, Jupyter's display, and
an application that still runs as before once drawn."""

from __future__ import annotations

import sys

import pytest

from holoflow.conditions import CountCondition
from holoflow.core import Application
from holoflow.core.graph_picture import FORMATS, dot_to_bytes, graph_dot, graphviz_available, render
from holoflow.errors import ConfigError, ResourceError

from ._support import Pass, Sink, Source, needs_dot


class Recording(Sink):
    def compute(self, op_input, op_output, context):
        self.got.append(op_input.receive("in"))


class Counting(Source):
    def compute(self, op_input, op_output, context):
        self.sent += 1
        op_output.emit(self.sent, "out")


class Doubling(Pass):
    def compute(self, op_input, op_output, context):
        op_output.emit(2 * op_input.receive("in"), "out")


class Small(Application):
    def compose(self):
        tx = Counting(self, CountCondition(self, 5), name="tx")
        tx.sent = 0
        rx = Recording(self, name="rx")
        rx.got = []
        self.rx = rx
        self.add_flow(tx, Doubling(self, name="double"))
        self.add_flow(self.graph.find_node("double"), rx)


@pytest.fixture
def no_graphviz(monkeypatch, tmp_path):
    """A machine without Graphviz: nothing on PATH, and no graphviz Python package."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setitem(sys.modules, "graphviz", None)


def test_dot_and_gv_are_written_without_graphviz(tmp_path, no_graphviz):
    text = Small([]).to_dot()
    for suffix in (".dot", ".gv"):
        path = render(text, tmp_path / f"graph{suffix}")
        assert path.read_text(encoding="utf-8") == text
    assert FORMATS == {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}


def test_without_graphviz_pictures_fail_saying_what_is_missing(tmp_path, no_graphviz):
    assert not graphviz_available()
    for suffix in (".svg", ".png"):
        with pytest.raises(ResourceError, match=r"Graphviz is not installed: .*'dot' program on PATH"):
            render("digraph { a }", tmp_path / f"graph{suffix}")
        assert not (tmp_path / f"graph{suffix}").exists()


def test_an_unknown_suffix_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"graph\.pdf.*one of \.svg, \.png, \.dot, \.gv"):
        render("digraph { a }", tmp_path / "graph.pdf")


@needs_dot
def test_svg_and_png_by_suffix(tmp_path):
    text = Small([]).to_dot()
    svg = render(text, tmp_path / "graph.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for name in ("tx", "double", "rx"):
        assert f"<title>{name}</title>" in svg
    png = render(text, tmp_path / "graph.PNG").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert graphviz_available()


@needs_dot
def test_graphviz_errors_are_quoted():
    with pytest.raises(ResourceError, match="syntax error"):
        dot_to_bytes("digraph { a -> }", "svg")


@needs_dot
def test_jupyter_shows_an_application_as_svg():
    formatter = pytest.importorskip("IPython.core.formatters").DisplayFormatter()
    app = Small([])
    data, _ = formatter.format(app)
    assert data["image/svg+xml"] == app._repr_svg_()
    assert "<title>double</title>" in data["image/svg+xml"]
    assert data["text/plain"] == repr(app)
    assert app._repr_mimebundle_(include=["text/plain"]) is None
    assert app._repr_mimebundle_(exclude=["image/svg+xml"]) is None


def test_jupyter_falls_back_to_text_without_graphviz(no_graphviz):
    formatter = pytest.importorskip("IPython.core.formatters").DisplayFormatter()
    app = Small([])
    assert app._repr_svg_() is None and app._repr_mimebundle_() is None
    data, _ = formatter.format(app)
    assert set(data) == {"text/plain"}


def test_graph_dot_is_the_method():
    app = Small([])
    assert graph_dot(app) == app.to_dot()


def test_a_drawn_application_runs_as_before_and_draws_the_same(scheduler_kind, use_scheduler):
    app = Small([])
    before = app.to_dot()  # composes
    use_scheduler(app)
    app.run()
    assert app.rx.got == [2, 4, 6, 8, 10]
    assert app.to_dot() == before
    app.run()  # a second run, as any application may (the source's count goes on)
    assert app.rx.got[5:] == [12, 14, 16, 18, 20]
