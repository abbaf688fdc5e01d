"""Strict mode: an argument naming no declared parameter raises ``ConfigError`` instead of
warning, switched on by ``Application(strict=True)`` or ``HOLOFLOW_STRICT``."""

from __future__ import annotations

import re
import warnings

import pytest

from holoflow.core import Application, Arg, Condition, Fragment, Operator, Resource, Subgraph
from holoflow.errors import ConfigError, UnknownParameterWarning
from holoflow.testing import Recorder, Source


class Mul(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.output("out")
        spec.param("multiplier", 2)


class Limit(Condition):
    def setup(self, spec):
        spec.param("limit", 1)


class Gain(Resource):
    def setup(self, spec):
        spec.param("gain", 1.0)


STRICT_MESSAGE = re.escape(
    "operator 'mx': no parameter 'multiplyer' (declared parameters: ['multiplier']); "
    "strict mode is on (Application(strict=True) or HOLOFLOW_STRICT)"
)


@pytest.fixture(autouse=True)
def no_strict_environment(monkeypatch):
    monkeypatch.delenv("HOLOFLOW_STRICT", raising=False)


def test_default_warns_and_ignores():
    app = Application([])
    assert not app.is_strict
    with pytest.warns(UnknownParameterWarning):
        op = Mul(app, name="mx", multiplyer=3)
    assert op.multiplier == 2


def test_application_option_raises_for_operators_resources_conditions_and_add_arg():
    app = Application([], strict=True)
    assert app.is_strict
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is warned on the way to the error
        with pytest.raises(ConfigError, match=STRICT_MESSAGE):
            Mul(app, name="mx", multiplyer=3)
        with pytest.raises(ConfigError, match="resource 'g': no parameter 'gian'"):
            Gain(app, name="g", gian=2.0)
        with pytest.raises(ConfigError, match="condition 'c': no parameter 'limt'"):
            Limit(app, name="c", limt=3)
        op = Mul(app, name="ok", multiplier=5)
        with pytest.raises(ConfigError, match="operator 'ok': no parameter 'offset'"):
            op.add_arg(Arg("offset", 1))
    assert op.multiplier == 5


@pytest.mark.parametrize("value", ["1", "true", "YES", "on", "2"])
def test_environment_variable_turns_it_on(monkeypatch, value):
    monkeypatch.setenv("HOLOFLOW_STRICT", value)
    app = Application([])
    assert app.is_strict
    with pytest.raises(ConfigError, match=STRICT_MESSAGE):
        Mul(app, name="mx", multiplyer=3)


@pytest.mark.parametrize("value", ["", "0", "false", "No", "OFF"])
def test_environment_variable_off_values(monkeypatch, value):
    monkeypatch.setenv("HOLOFLOW_STRICT", value)
    assert not Application([]).is_strict


def test_the_application_option_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("HOLOFLOW_STRICT", "1")
    app = Application([], strict=False)
    assert not app.is_strict
    with pytest.warns(UnknownParameterWarning):
        Mul(app, name="mx", multiplyer=3)
    monkeypatch.setenv("HOLOFLOW_STRICT", "0")
    assert Application([], strict=True).is_strict


def test_fragments_and_subgraphs_follow_their_application(monkeypatch):
    app = Application([], strict=True)
    with pytest.raises(ConfigError, match="no parameter 'multiplyer'"):
        Mul(Fragment(app, "f"), name="mx", multiplyer=3)

    class Inner(Subgraph):
        def compose(self):
            Mul(self, name="mx", multiplyer=3)

    with pytest.raises(ConfigError, match="operator 'sg_mx': no parameter 'multiplyer'"):
        Inner(app, "sg")
    monkeypatch.setenv("HOLOFLOW_STRICT", "1")
    with pytest.raises(ConfigError, match="no parameter 'multiplyer'"):
        Mul(Fragment(), name="mx", multiplyer=3)  # no application: the environment decides


def test_the_option_is_keyword_only_and_a_bool():
    with pytest.raises(TypeError, match=re.escape("Application(strict=...) takes a bool, not str")):
        Application([], strict="yes")
    assert Application(["prog"], strict=True).argv == [""]


def test_run_raises_before_any_operator_runs(scheduler_kind, use_scheduler):
    class App(Application):
        def compose(self):
            src, rx = Source(self, [1, 2], name="src"), Recorder(self, name="rx")
            self.add_flow(src, rx)
            self.rx = rx
            Mul(self, name="mx", multiplyer=3)

    app = App([], strict=True)
    use_scheduler(app)
    with pytest.raises(ConfigError, match=STRICT_MESSAGE):
        app.run()
