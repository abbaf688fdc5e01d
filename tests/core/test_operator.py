"""Operator construction, parameters, attached conditions/resources and the lifecycle."""

from __future__ import annotations

import re
import warnings

import pytest

from holoflow.conditions import BooleanCondition, CountCondition, PeriodicCondition
from holoflow.core import Application, Arg, ArgList, Fragment, Operator, Resource
from holoflow.errors import GraphError, UnknownParameterWarning
from holoflow.resources import ManualClock


class Mul(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.output("out")
        spec.param("multiplier", 2)
        spec.param("offset", None)


class Lifecycle(Operator):
    """Records the order of lifecycle calls in a shared log."""

    def __init__(self, fragment, log, *args, **kwargs):
        self.log = log
        super().__init__(fragment, *args, **kwargs)

    def initialize(self):
        self.log.append(("initialize", self.name))

    def start(self):
        self.log.append(("start", self.name))

    def compute(self, op_input, op_output, context):
        self.log.append(("compute", self.name))

    def stop(self):
        self.log.append(("stop", self.name))


def test_kwargs_set_params_that_read_as_attributes(app):
    op = Mul(app, name="mx", multiplier=5)
    assert op.multiplier == 5
    assert op.offset is None
    assert Mul(app, name="m2").multiplier == 2


def test_attribute_set_before_init_beats_default_but_not_kwarg(app):
    class Preset(Mul):
        def __init__(self, fragment, *args, **kwargs):
            self.multiplier = 7
            super().__init__(fragment, *args, **kwargs)

    assert Preset(app, name="a").multiplier == 7
    assert Preset(app, name="b", multiplier=9).multiplier == 9


def test_unknown_kwarg_warns_naming_operator_and_choices_and_is_ignored(app):
    with pytest.warns(
        UnknownParameterWarning,
        match=re.escape(
            "operator 'mx': no parameter 'multiplyer' (declared parameters: ['multiplier', 'offset']); "
            "the argument is ignored"
        ),
    ) as record:
        op = Mul(app, name="mx", multiplyer=3)
    assert record[0].filename == __file__  # points at the line that passed it
    assert not hasattr(op, "multiplyer")
    assert op.multiplier == Mul(app, name="plain").multiplier


def test_a_subclass_may_take_its_own_keywords_after_the_base_constructor(app):
    """Holoscan's examples pass their own keywords through to the base class, then pop them."""

    class Monitor(Operator):
        def __init__(self, fragment, *args, **kwargs):
            super().__init__(fragment, *args, **kwargs)
            self.watched = kwargs.pop("watched", [])

    with pytest.warns(UnknownParameterWarning, match="operator 'm': no parameter 'watched'"):
        monitor = Monitor(app, name="m", watched=["a"])
    assert monitor.watched == ["a"]


def test_unknown_parameter_warning_can_be_made_an_error(app):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownParameterWarning)
        with pytest.raises(UnknownParameterWarning):
            Mul(app, name="mx", multiplyer=3)
        with pytest.raises(UnknownParameterWarning):
            Mul(app, name="my").add_arg(Arg("ofset", 1))


def test_positional_and_keyword_conditions_and_resources(app):
    count = CountCondition(app, 3)
    clock = ManualClock(app)
    op = Mul(app, count, clock, name="mx", stopper=BooleanCondition(app))
    assert set(op.conditions) == {"count_condition", "stopper"}
    assert op.conditions["stopper"].name == "stopper"
    assert op.resources == {"manual_clock": clock}
    assert op.resource("manual_clock") is clock
    assert op.resource("missing") is None


def test_arglist_positional_and_last_value_wins(app):
    args = ArgList([Arg("multiplier", 4), Arg("offset", 1)])
    op = Mul(app, args, name="mx", multiplier=6)
    assert (op.multiplier, op.offset) == (6, 1)
    op.add_arg(Arg("multiplier", 8))
    assert op.multiplier == 8
    op.add_arg(offset=3)
    assert op.offset == 3


def test_unsupported_positional_argument(app):
    with pytest.raises(TypeError, match="unsupported positional argument of type int"):
        Mul(app, 3, name="mx")


def test_first_argument_must_be_a_fragment():
    with pytest.raises(
        TypeError, match="takes a Fragment, Application or Subgraph as its first argument, not str"
    ):
        Mul("app", name="mx")


def test_read_only_attributes(app):
    op = Mul(app, name="mx")
    for attr in ("fragment", "conditions", "resources", "operator_type", "description"):
        with pytest.raises(AttributeError):
            setattr(op, attr, None)
    assert op.operator_type is Operator.OperatorType.NATIVE
    assert "multiplier" in op.description


def test_unnamed_operators_get_distinct_names(app):
    a, b = Mul(app), Mul(app)
    assert re.fullmatch(r"unnamed_operator_\d+", a.name)
    assert a.name != b.name


def test_two_conditions_with_one_name_are_rejected(app):
    with pytest.raises(GraphError, match="two conditions are named 'c'"):
        Mul(app, CountCondition(app, 1, name="c"), BooleanCondition(app, name="c"), name="mx")


def test_condition_cannot_be_shared_between_operators(app):
    count = CountCondition(app, 1)
    Mul(app, count, name="a")
    with pytest.raises(GraphError, match="already attached to operator 'a'"):
        Mul(app, count, name="b")


def test_lifecycle_order_is_topological_and_once_per_run():
    log = []

    class Tx(Lifecycle):
        def setup(self, spec):
            spec.output("out")

        def compute(self, op_input, op_output, context):
            super().compute(op_input, op_output, context)
            op_output.emit(1, "out")

    class Rx(Lifecycle):
        def setup(self, spec):
            spec.input("in")

        def compute(self, op_input, op_output, context):
            super().compute(op_input, op_output, context)
            op_input.receive("in")

    class App(Application):
        def compose(self):
            rx = Rx(self, log, name="rx")  # created first, but ordered after tx
            tx = Tx(self, log, CountCondition(self, 2), name="tx")
            self.add_flow(tx, rx)

    app = App([])
    app.run()
    assert log == [
        ("initialize", "tx"),
        ("initialize", "rx"),
        ("start", "tx"),
        ("start", "rx"),
        ("compute", "tx"),
        ("compute", "rx"),
        ("compute", "tx"),
        ("compute", "rx"),
        ("stop", "tx"),
        ("stop", "rx"),
    ]
    log.clear()
    app.run()  # a second run repeats the whole lifecycle, counts reset
    assert log.count(("compute", "tx")) == 2
    assert log.count(("initialize", "rx")) == 1


def test_params_visible_in_initialize_and_attributes_persist_across_runs(app):
    seen = []

    class Op(Operator):
        def setup(self, spec):
            spec.param("param_value", 500)

        def initialize(self):
            seen.append(self.param_value)

        def compute(self, op_input, op_output, context):
            self.ticks = getattr(self, "ticks", 0) + 1

    op = Op(app, CountCondition(app, 10), name="op")
    app.add_operator(op)
    app.run()
    app.run()
    assert seen == [500, 500]
    assert op.ticks == 20


def test_custom_resource_with_params(app):
    class Gain(Resource):
        def setup(self, spec):
            spec.param("gain", 1.0)

    gain = Gain(app, name="gain", gain=2.5)
    op = Mul(app, gain, name="mx")
    assert op.resource("gain").gain == 2.5
    with pytest.warns(UnknownParameterWarning, match="resource 'g2': no parameter 'gian'"):
        Gain(app, name="g2", gian=1)


def test_periodic_and_count_together_are_both_conditions(app):
    op = Mul(app, CountCondition(app, 2), PeriodicCondition(app, "10ms"), name="mx")
    assert len(op.conditions) == 2


def test_operator_belongs_to_its_fragment():
    app = Application([])
    other = Fragment()
    op = Mul(other, name="mx")
    with pytest.raises(GraphError, match="created for another fragment"):
        app.add_operator(op)
