"""Bad GXF application files fail in ``load_app`` with a GXFAppError naming file, document,
entity, component and line; ``holoflow run`` prints it without a traceback."""

from __future__ import annotations

import textwrap

import pytest

from holoflow.cli import main
from holoflow.errors import ConfigError, GXFAppError
from holoflow.gxf import load_app

PING = """\
%YAML 1.2
---
name: tx
components:
- name: out
  type: nvidia::gxf::DoubleBufferTransmitter
- type: holoscan::ops::PingTxOp
  parameters: {out: out}
- type: nvidia::gxf::CountSchedulingTerm
  parameters: {count: 3}
---
name: rx
components:
- name: in
  type: nvidia::gxf::DoubleBufferReceiver
- name: rx_codelet
  type: holoscan::ops::PingRxOp
  parameters: {in: in}
- name: ready
  type: nvidia::gxf::MessageAvailableSchedulingTerm
  parameters: {receiver: in, min_size: 1}
---
components:
- name: edge
  type: nvidia::gxf::Connection
  parameters: {source: tx/out, target: rx/in}
"""


def _write(tmp_path, text, name="app.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _error(tmp_path, text) -> GXFAppError:
    path = _write(tmp_path, text)
    with pytest.raises(GXFAppError) as info:
        load_app(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(str(path))
    return info.value


def test_the_valid_file_loads(tmp_path):
    app = load_app(_write(tmp_path, PING))
    app.compose_graph()
    assert sorted(op.name for op in app.graph.get_nodes()) == ["rx", "tx"]


def test_unknown_type_names_the_closest_registered_names(tmp_path):
    error = _error(
        tmp_path, PING.replace("nvidia::gxf::CountSchedulingTerm", "nvidia::gxf::CountSchedulingTrem")
    )
    assert (error.document, error.entity, error.component, error.line) == (0, "tx", "#2", 9)
    assert "unknown type 'nvidia::gxf::CountSchedulingTrem'" in str(error)
    assert "did you mean nvidia::gxf::CountSchedulingTerm" in str(error)


def test_unknown_codelet_type_points_at_extension(tmp_path):
    error = _error(tmp_path, PING.replace("holoscan::ops::PingRxOp", "NotRegisteredRecorder"))
    assert (error.entity, error.component, error.line) == ("rx", "rx_codelet", 16)
    assert "--extension" in str(error)


def test_unknown_parameter(tmp_path):
    error = _error(tmp_path, PING.replace("{receiver: in, min_size: 1}", "{receiver: in, min_sise: 1}"))
    assert (error.document, error.entity, error.component, error.line) == (1, "rx", "ready", 21)
    assert "unknown parameter 'min_sise'" in str(error) and "min_size" in str(error)


def test_unknown_operator_parameter(tmp_path):
    error = _error(tmp_path, PING.replace("parameters: {in: in}", "parameters: {in: in, colour: 3}"))
    assert (error.entity, error.component, error.line) == ("rx", "rx_codelet", 18)
    assert "unknown parameter 'colour'" in str(error)


def test_mistyped_parameter(tmp_path):
    error = _error(tmp_path, PING.replace("{count: 3}", "{count: three}"))
    assert (error.entity, error.component, error.line) == ("tx", "#2", 10)
    assert "parameter 'count' takes a int, got str 'three'" in str(error)


def test_mistyped_operator_parameter(tmp_path):
    text = PING.replace(
        "type: holoscan::ops::PingRxOp\n  parameters: {in: in}",
        "type: holoscan::ops::PingTensorRxOp\n  parameters: {in: in, receive_as_tensormap: 'yes'}",
    )
    error = _error(tmp_path, text)
    assert "parameter 'receive_as_tensormap' takes a bool, got str 'yes'" in str(error)


def test_a_handle_parameter_naming_the_wrong_kind_of_component(tmp_path):
    error = _error(
        tmp_path, PING.replace("{receiver: in, min_size: 1}", "{receiver: rx_codelet, min_size: 1}")
    )
    assert "a operator, where a receiver is needed" in str(error)


def test_missing_required_parameter(tmp_path):
    error = _error(
        tmp_path, PING.replace("{count: 3}", "{count: 3}\n- type: nvidia::gxf::PeriodicSchedulingTerm")
    )
    assert (error.entity, error.component, error.line) == ("tx", "#3", 11)
    assert "needs the parameter 'recess_period'" in str(error)


def test_connection_to_a_missing_entity(tmp_path):
    error = _error(tmp_path, PING.replace("target: rx/in", "target: sink/in"))
    assert (error.document, error.entity, error.component, error.line) == (2, "entity2", "edge", 26)
    assert "missing entity 'sink'" in str(error)


def test_connection_to_a_missing_component(tmp_path):
    error = _error(tmp_path, PING.replace("target: rx/in", "target: rx/input"))
    assert "entity 'rx' has no component 'input'" in str(error)


def test_connection_from_a_receiver(tmp_path):
    error = _error(tmp_path, PING.replace("source: tx/out", "source: rx/in"))
    assert "is a receiver, not a transmitter" in str(error)


def test_a_scheduling_term_on_another_entitys_receiver(tmp_path):
    text = PING.replace(
        "{count: 3}",
        "{count: 3}\n- type: nvidia::gxf::MessageAvailableSchedulingTerm\n  parameters: {receiver: rx/in}",
    )
    error = _error(tmp_path, text)
    assert (error.entity, error.component, error.line) == ("tx", "#3", 12)
    assert "a component of another entity" in str(error)


def test_a_scheduling_term_on_an_unbound_queue(tmp_path):
    text = PING.replace(
        "- name: rx_codelet", "- name: spare\n  type: nvidia::gxf::DoubleBufferReceiver\n- name: rx_codelet"
    )
    text = text.replace("{receiver: in, min_size: 1}", "{receiver: spare, min_size: 1}")
    assert "watches nothing" in str(_error(tmp_path, text))


def test_yaml_syntax_error_has_its_line(tmp_path):
    error = _error(tmp_path, PING.replace("parameters: {out: out}", "parameters: {out: out"))
    assert error.line == 9
    assert "YAML syntax error" in str(error)


def test_not_an_entity(tmp_path):
    error = _error(tmp_path, PING.replace("name: tx\ncomponents:", "name: tx\ncomponent:"))
    assert "unknown key 'component'" in str(error)


def test_two_codelets_in_one_entity(tmp_path):
    text = PING.replace(
        "- type: nvidia::gxf::CountSchedulingTerm",
        "- type: holoscan::ops::PingTxOp\n- type: nvidia::gxf::CountSchedulingTerm",
    )
    assert "a second codelet" in str(_error(tmp_path, text))


def test_two_schedulers(tmp_path):
    text = (
        PING
        + "---\ncomponents:\n- type: nvidia::gxf::GreedyScheduler\n- type: nvidia::gxf::EventBasedScheduler\n"
    )
    assert "a second scheduler" in str(_error(tmp_path, text))


def test_a_missing_file(tmp_path):
    with pytest.raises(GXFAppError, match="cannot read the file"):
        load_app(tmp_path / "missing.yaml")


def test_a_bad_extension_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="extension 'no_such_module_here' cannot be imported"):
        load_app(_write(tmp_path, PING), extensions=["no_such_module_here"])


def test_the_cli_prints_the_error_without_a_traceback(tmp_path, capsys):
    path = _write(tmp_path, PING.replace("target: rx/in", "target: sink/in"))
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"holoflow run: error: {path}:26, document 2, entity 'entity2', component 'edge':")
    assert "Traceback" not in err


def test_a_value_the_component_refuses(tmp_path):
    term = "\n- name: pace\n  type: nvidia::gxf::PeriodicSchedulingTerm\n  parameters: {recess_period: soon}"
    text = PING.replace("{count: 3}", "{count: 3}" + term)
    error = _error(tmp_path, text)
    assert (error.entity, error.component, error.line) == ("tx", "pace", 11)
    assert "ValueError" in str(error) and "soon" in str(error)


def test_a_capacity_below_one(tmp_path):
    error = _error(
        tmp_path,
        PING.replace(
            "type: nvidia::gxf::DoubleBufferReceiver",
            "type: nvidia::gxf::DoubleBufferReceiver\n  parameters: {capacity: 0}",
        ),
    )
    assert (error.entity, error.component) == ("rx", "in")
    assert "capacity must be >= 1" in str(error)
