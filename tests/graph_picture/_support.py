"""Operators shared by the graph-picture tests, and whether Graphviz is here to draw."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from holoflow.core import Operator

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(
    not HAS_DOT,
    reason="Graphviz's 'dot' is not installed (apt-get install graphviz; .ci/run installs it where it can)",
)


class Source(Operator):
    """One output ``out``."""

    def setup(self, spec):
        spec.output("out")


class Pass(Operator):
    """``in`` → ``out``."""

    def setup(self, spec):
        spec.input("in")
        spec.output("out")


class Sink(Operator):
    """One input ``in`` of the size given (default 1)."""

    def __init__(self, fragment, *args, size=1, **kwargs):
        self.size = size
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in", size=self.size)


def graphviz_check(dot: str) -> str:
    """Draw ``dot`` as SVG with Graphviz, asserting it warned about nothing (an edge naming a
    port no cell has, a malformed HTML label and bad syntax all warn); return the SVG."""
    done = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, timeout=120, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr.decode()
    return done.stdout.decode()


__all__ = ["HAS_DOT", "Pass", "Sink", "Source", "graphviz_check", "needs_dot"]
