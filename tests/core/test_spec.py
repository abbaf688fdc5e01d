"""IOSpec / OperatorSpec declarations and their validation; Arg and ArgList."""

from __future__ import annotations

import re

import pytest

from holoflow.core import Arg, ArgList, ConditionType, IOSpec, Operator, OperatorSpec, ParameterFlag
from holoflow.testing import Source


def test_io_sizes_and_defaults():
    spec = OperatorSpec(owner_label="operator 'op'")
    port = spec.input("in")
    assert port.queue_size == 1 and port.queue_policy is None
    assert port.io_type is IOSpec.IOType.INPUT
    assert port.connector() is IOSpec.ConnectorType.DEFAULT
    assert spec.input("any", size=IOSpec.ANY_SIZE).queue_size == -1
    assert spec.input("pc", size=IOSpec.PRECEDING_COUNT).queue_size == 0
    assert spec.input("four", size=IOSpec.IOSize(4)).queue_size == 4
    assert IOSpec.IOSize(4) == 4 and int(IOSpec.SIZE_ONE) == 1
    assert set(spec.inputs) == {"in", "any", "pc", "four"}


def test_invalid_queue_size_names_operator_and_port():
    spec = OperatorSpec(owner_label="operator 'rx'")
    with pytest.raises(
        ValueError, match=re.escape("operator 'rx': input port 'receivers': invalid queue size -3")
    ):
        spec.input("receivers", size=-3)
    with pytest.raises(ValueError, match="output ports take a queue size >= 1"):
        spec.output("out", size=IOSpec.ANY_SIZE)


def test_duplicate_ports_and_params():
    spec = OperatorSpec(owner_label="operator 'op'")
    spec.input("x")
    spec.output("x")  # an input and an output may share a name
    with pytest.raises(ValueError, match="input port 'x' is declared twice"):
        spec.input("x")
    spec.param("p", 1)
    with pytest.raises(ValueError, match="parameter 'p' is declared twice"):
        spec.param("p")
    with pytest.raises(ValueError, match="parameter name must be an identifier"):
        spec.param("not valid")


def test_param_kind_receivers_declares_an_any_size_input():
    spec = OperatorSpec()
    spec.param("receivers", kind="receivers")
    assert spec.inputs["receivers"].queue_size == IOSpec.ANY_SIZE
    assert "receivers" not in spec.params
    with pytest.raises(ValueError, match="unknown parameter kind 'weird'"):
        spec.param("x", kind="weird")


def test_param_records_flags_and_descriptions():
    spec = OperatorSpec()
    spec.param("gain", 1.0, ParameterFlag.OPTIONAL, headline="Gain", description="linear gain")
    param = spec.params["gain"]
    assert (param.default, param.flag, param.headline, param.description) == (
        1.0,
        ParameterFlag.OPTIONAL,
        "Gain",
        "linear gain",
    )


def test_condition_and_connector_chaining():
    port = OperatorSpec().input("in")
    assert port.condition(ConditionType.MESSAGE_AVAILABLE, min_size=2) is port
    assert (
        port.connector(IOSpec.ConnectorType.DOUBLE_BUFFER, capacity=4, policy=IOSpec.QueuePolicy.POP) is port
    )
    assert port.conditions == [(ConditionType.MESSAGE_AVAILABLE, {"min_size": 2})]
    assert port.connector_type is IOSpec.ConnectorType.DOUBLE_BUFFER
    with pytest.raises(TypeError, match="condition kind must be a ConditionType"):
        port.condition("MESSAGE_AVAILABLE")
    with pytest.raises(TypeError, match=re.escape("unknown connector argument(s) ['size']")):
        port.connector(size=3)
    with pytest.raises(ValueError, match="connector capacity must be >= 1"):
        port.connector(capacity=0)


def test_queue_policy_via_operator(app):
    class Op(Operator):
        def setup(self, spec):
            spec.input("in")
            spec.output("out")

    op = Op(app, name="op")
    op.queue_policy("in", policy=IOSpec.QueuePolicy.REJECT)
    op.queue_policy("out", IOSpec.IOType.OUTPUT, IOSpec.QueuePolicy.POP)
    assert op.spec.inputs["in"].queue_policy is IOSpec.QueuePolicy.REJECT
    assert op.spec.outputs["out"].queue_policy is IOSpec.QueuePolicy.POP
    with pytest.raises(
        ValueError, match=re.escape("operator 'op': no input port 'nope'; declared inputs: ['in']")
    ):
        op.queue_policy("nope")


def test_unsupported_connector_in_add_flow(app):
    with pytest.raises(ValueError, match="UCX connectors join the fragments of a distributed application"):
        app.add_flow(Source(app, [1], name="a"), Source(app, [1], name="b"), IOSpec.ConnectorType.UCX)


def test_port_queues_exist_only_during_a_run(app):
    src = Source(app, [1], name="src")
    with pytest.raises(ValueError, match="port queues exist only while the graph runs"):
        src.transmitter("out")


def test_arg_and_arglist():
    arg = Arg("rate", 30)
    assert (arg.name, arg.value, arg.has_value, int(arg), float(arg), str(arg)) == (
        "rate",
        30,
        True,
        30,
        30.0,
        "30",
    )
    empty = Arg("x")
    assert not empty.has_value
    with pytest.raises(ValueError, match="Arg 'x' has no value"):
        _ = empty.value
    args = ArgList([arg])
    args.add(ArgList([Arg("b", 1)]))
    assert [a.name for a in args] == ["rate", "b"] and args.size == 2
    with pytest.raises(TypeError, match="ArgList.add takes an Arg or ArgList"):
        args.add(3)
    args.clear()
    assert len(args) == 0
    with pytest.raises(TypeError, match="Arg name must be a str"):
        Arg(3)
