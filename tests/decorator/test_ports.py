"""Input and Output: port declarations for operators made by create_op."""

from __future__ import annotations

import pytest

from holoflow.core import ConditionType, IOSpec
from holoflow.decorator import Input, Output
from holoflow.errors import GraphError
from holoflow.operators import PingRxOp, PingTxOp


def test_input_defaults():
    port = Input("in")
    assert port.name == "in" and not port.arg_map
    assert port.size == IOSpec.SIZE_ONE and port.policy is None
    assert port.condition_type is None and port.condition_kwargs == {}
    assert port.connector_type is None and port.connector_kwargs == {}


def test_input_arg_maps():
    assert Input("in", arg_map="x").arg_map == "x"
    mapping = Input("in", arg_map={"image": "x", "mask": "m"}).arg_map
    assert mapping == {"image": "x", "mask": "m"}


def test_output_tensor_names():
    assert Output("out").tensor_names == ()
    assert Output("out", tensor_names=("x", "waveform")).tensor_names == ("x", "waveform")
    assert Output("out", tensor_names="x").names() == ("x",)
    assert Output("out", tensor_names=None).names() == ()


def test_create_input_declares_the_port_with_its_condition(app):
    op = PingRxOp(app, name="rx")
    assert tuple(op.spec.inputs) == ("in",)
    spec = Input("in2", condition_type=ConditionType.NONE).create_input(op.spec)
    assert op.spec.inputs["in2"] is spec
    assert spec.conditions == [(ConditionType.NONE, {})]
    spec = Input(
        "in3", condition_type=ConditionType.MESSAGE_AVAILABLE, condition_kwargs={"min_size": 2}
    ).create_input(op.spec)
    assert spec.conditions == [(ConditionType.MESSAGE_AVAILABLE, {"min_size": 2})]


def test_create_input_declares_size_policy_and_connector(app):
    op = PingRxOp(app, name="rx")
    assert op.spec.inputs["in"].connector_type is IOSpec.ConnectorType.DEFAULT
    spec = Input(
        "in2",
        size=3,
        policy=IOSpec.QueuePolicy.REJECT,
        connector_type=IOSpec.ConnectorType.DOUBLE_BUFFER,
        connector_kwargs={"capacity": 2, "policy": 1},
    ).create_input(op.spec)
    assert spec.queue_size == 3 and spec.queue_policy is IOSpec.QueuePolicy.REJECT
    assert spec.connector_type is IOSpec.ConnectorType.DOUBLE_BUFFER
    assert spec._capacity(1) == 2 and spec._policy(IOSpec.QueuePolicy.FAULT) is IOSpec.QueuePolicy.REJECT
    any_size = Input("many", size=IOSpec.ANY_SIZE).create_input(op.spec)
    assert any_size.queue_size == -1


def test_create_output_declares_the_port_with_its_condition_and_connector(app):
    op = PingTxOp(app, name="tx")
    assert tuple(op.spec.outputs) == ("out",)
    spec = Output("out2", condition_type=ConditionType.NONE).create_output(op.spec)
    assert spec.conditions == [(ConditionType.NONE, {})]
    spec = Output(
        "out3", condition_type=ConditionType.DOWNSTREAM_MESSAGE_AFFORDABLE, condition_kwargs={"min_size": 2}
    ).create_output(op.spec)
    assert spec.conditions == [(ConditionType.DOWNSTREAM_MESSAGE_AFFORDABLE, {"min_size": 2})]
    spec = Output(
        "out4",
        connector_type=IOSpec.ConnectorType.DOUBLE_BUFFER,
        connector_kwargs={"capacity": 2, "policy": 1},
    ).create_output(op.spec)
    assert spec.connector_type is IOSpec.ConnectorType.DOUBLE_BUFFER and spec._capacity(1) == 2


@pytest.mark.parametrize("size", ["1", 1.5, True, None])
def test_a_bad_size_is_a_graph_error_naming_the_port(app, size):
    op = PingRxOp(app, name="rx")
    with pytest.raises(GraphError, match="input port 'x': invalid size"):
        Input("x", size=size).create_input(op.spec)
    with pytest.raises(GraphError, match="output port 'y': invalid size"):
        Output("y", size=size).create_output(op.spec)


@pytest.mark.parametrize("policy", [1, "POP"])
def test_a_bad_policy_is_a_graph_error_naming_the_port(app, policy):
    op = PingRxOp(app, name="rx")
    with pytest.raises(GraphError, match="input port 'x': invalid policy"):
        Input("x", policy=policy).create_input(op.spec)
    with pytest.raises(GraphError, match="output port 'y': invalid policy"):
        Output("y", policy=policy).create_output(op.spec)
