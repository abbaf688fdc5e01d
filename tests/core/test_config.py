"""YAML configuration: kwargs, from_config, config_keys, overrides and errors."""

from __future__ import annotations

import re

import pytest

from holoflow.core import Application, Arg, ArgList, Operator
from holoflow.errors import ConfigError


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text("mx:\n  multiplier: 3\n  name_tag: hello\nrate: 30\nnested:\n  deeper:\n    x: 1\n")
    return path


class Mul(Operator):
    def setup(self, spec):
        spec.param("multiplier", 2)
        spec.param("name_tag", "")


def test_kwargs_and_from_config(app, config_file):
    app.config(config_file)
    assert app.kwargs("mx") == {"multiplier": 3, "name_tag": "hello"}
    args = app.from_config("mx")
    assert isinstance(args, ArgList) and [a.name for a in args] == ["multiplier", "name_tag"]
    leaf = app.from_config("nested.deeper.x")
    assert isinstance(leaf, Arg) and leaf.name == "x" and int(leaf) == 1
    assert app.config_keys() == {
        "mx",
        "mx.multiplier",
        "mx.name_tag",
        "rate",
        "nested",
        "nested.deeper",
        "nested.deeper.x",
    }


def test_config_args_then_kwargs_last_wins(app, config_file):
    app.config(config_file)
    assert Mul(app, app.from_config("mx"), name="a").multiplier == 3
    assert Mul(app, app.from_config("mx"), name="b", multiplier=7).multiplier == 7
    assert Mul(app, name="c", **app.kwargs("mx")).name_tag == "hello"


def test_missing_key_names_file_and_key(app, config_file):
    app.config(config_file)
    with pytest.raises(ConfigError, match=re.escape(f"config file '{config_file}': no key 'mx.divider'")):
        app.kwargs("mx.divider")
    with pytest.raises(
        ConfigError, match=re.escape("no key 'replayer'; top-level keys: ['mx', 'nested', 'rate']")
    ):
        app.from_config("replayer")


def test_kwargs_of_a_leaf_is_an_error(app, config_file):
    app.config(config_file)
    with pytest.raises(ConfigError, match="key 'rate' holds a int, not a mapping of parameters"):
        app.kwargs("rate")


def test_bad_yaml_names_the_file(app, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("mx: [1, 2\n")
    with pytest.raises(ConfigError, match=re.escape(f"config file '{bad}': invalid YAML")):
        app.config(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n")
    with pytest.raises(ConfigError, match="top level must be a mapping, found int"):
        app.config(scalar)


def test_missing_file(app, tmp_path):
    with pytest.raises(ConfigError, match=re.escape(f"config file '{tmp_path / 'no.yaml'}': cannot be read")):
        app.config(tmp_path / "no.yaml")


def test_lookup_without_config(app):
    with pytest.raises(ConfigError, match="no config file loaded"):
        app.kwargs("mx")
    assert app.config_keys() == set()


def test_command_line_and_environment_override(tmp_path, config_file, monkeypatch):
    other = tmp_path / "other.yaml"
    other.write_text("mx: {multiplier: 9}\n")
    app = Application(["prog", "--config", str(other), "--verbose"])
    app.config(config_file)
    assert app.kwargs("mx") == {"multiplier": 9}
    assert app.argv == ["--verbose"]  # as Holoscan: the program is dropped
    monkeypatch.setenv("HOLOSCAN_CONFIG_PATH", str(other))
    app2 = Application(["prog"])
    app2.config(config_file)
    assert app2.kwargs("mx") == {"multiplier": 9}
    with pytest.raises(ConfigError, match="--config: 1 required TEXT missing"):
        Application(["prog", "--config"])


def test_prefix(app, config_file):
    app.config(config_file, prefix="nested")
    assert app.kwargs("deeper") == {"x": 1}
    with pytest.raises(ConfigError, match="no key 'nested.mx'"):
        app.kwargs("mx")


def test_empty_path_sets_an_empty_configuration_as_holoscan_does(app, config_file):
    # Holoscan 4.6: config("") reads no file and leaves an empty Config (replacing a loaded one)
    empty = app.config("")
    assert empty is app.config() and empty.config_file == ""
    assert app.config_keys() == set()
    with pytest.raises(
        ConfigError, match=re.escape("the configuration is empty (config('') loads no file); no key 'mx'")
    ):
        app.kwargs("mx")
    app.config(config_file)
    assert "mx.multiplier" in app.config_keys()
    app.config("")
    assert app.config_keys() == set()


def test_empty_path_yields_to_the_command_line_and_environment(tmp_path, monkeypatch):
    other = tmp_path / "other.yaml"
    other.write_text("mx: {multiplier: 9}\n")
    app = Application(["prog", "--config", str(other)])
    app.config("")
    assert app.kwargs("mx") == {"multiplier": 9}
    monkeypatch.setenv("HOLOFLOW_CONFIG_PATH", str(other))
    app2 = Application(["prog"])
    app2.config("")
    assert app2.kwargs("mx") == {"multiplier": 9}
