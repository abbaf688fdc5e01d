"""Holoscan's application command line (``holoflow.core._cli``), through ``Application``."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from holoflow.core import Application
from holoflow.core._cli import parse_cli
from holoflow.errors import ConfigError


def test_no_options_leave_an_empty_rest():
    app = Application(["prog"])
    assert app.argv == [""]
    o = app.options
    assert (
        o.run_driver,
        o.run_worker,
        o.driver_address,
        o.worker_address,
        o.worker_targets,
        o.config_path,
    ) == (
        False,
        False,
        "",
        "",
        [],
        "",
    )


def test_flags_and_values_are_taken_and_the_rest_kept_in_order():
    app = Application(["py", "s.py", "--driver", "--worker", "--address", "1.2.3.4:5", "--foo", "x"])
    assert app.argv == ["s.py", "--foo", "x"]
    assert app.options.run_driver and app.options.run_worker
    assert app.options.driver_address == "1.2.3.4:5"


def test_equals_forms_repeated_fragments_and_config():
    app = Application(
        [
            "py",
            "s.py",
            "--fragments",
            "a,b",
            "--fragments=c",
            "--worker-address=:9",
            "--config",
            "c.yaml",
            "rest",
        ]
    )
    assert app.argv == ["s.py", "rest"]
    assert app.options.worker_targets == ["a", "b", "c"]
    assert app.options.worker_address == ":9"
    assert app.options.config_path == "c.yaml"


def test_all_empty_names_and_ipv6():
    options, rest = parse_cli(["p", "--fragments=all", "--worker-address", "[::1]:5", "--fragments", "a,,b"])
    assert options.worker_targets == ["all", "a", "b"]
    assert options.worker_address == "[::1]:5"
    assert rest == [""]


def test_fragments_takes_one_value():
    options, rest = parse_cli(["p", "--fragments", "a", "b"])
    assert options.worker_targets == ["a"]
    assert rest == ["b"]


@pytest.mark.parametrize(
    ("value", "expected"), [("true", True), ("1", True), ("on", True), ("false", False), ("0", False)]
)
def test_flag_values(value, expected):
    options, _ = parse_cli(["p", f"--driver={value}"])
    assert options.run_driver is expected


def test_repeated_flag_stays_on():
    assert parse_cli(["p", "--driver", "--driver"])[0].run_driver


def test_double_dash_ends_the_options():
    options, rest = parse_cli(["p", "s.py", "--", "--driver"])
    assert rest == ["s.py", "--", "--driver"]
    assert not options.run_driver


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["p", "--address"], "--address: 1 required TEXT missing"),
        (["p", "--address", "--driver"], "--address: 1 required TEXT missing"),
        (["p", "--config=x", "--config", "y"], "--config: At Most 1 required but received 2"),
        (["p", "--driver=maybe"], "Could not convert: --driver = maybe"),
    ],
)
def test_parse_errors_raise_config_error(argv, text):
    with pytest.raises(ConfigError, match=text):
        Application(argv)


def test_help_and_version_print_and_exit_zero(capsys):
    with pytest.raises(SystemExit) as exit_info:
        Application(["python", "my_app.py", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "my_app.py" in out and "--fragments" in out and "--worker-address" in out
    with pytest.raises(SystemExit):
        parse_cli(["p", "--version"], version="1.2.3")
    assert capsys.readouterr().out == "1.2.3\n"


def test_config_option_overrides_config_path(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("key: 1\n")
    app = Application(["p", "--config", str(good)])
    app.config(str(tmp_path / "other.yaml"))
    assert app.config_keys() == {"key"}


def test_default_command_line_is_sys_argv(monkeypatch):
    monkeypatch.setattr("sys.argv", ["script.py", "--worker", "x"])
    app = Application()
    assert app.argv == ["script.py", "x"]
    assert app.options.run_worker


_PLAIN = st.text(alphabet="abcxyz0123", min_size=1, max_size=5)


@given(st.lists(_PLAIN, max_size=6), st.lists(_PLAIN, max_size=4))
def test_plain_arguments_pass_through_in_order(extras, targets):
    argv = ["p", *extras]
    if targets:
        argv += ["--fragments", ",".join(targets)]
    options, rest = parse_cli(argv)
    assert rest == (extras or [""])
    assert options.worker_targets == targets


def test_holoflow_variable_wins_over_holoscan(monkeypatch):
    from holoflow import _env

    monkeypatch.setenv("HOLOSCAN_APP_DRIVER_PORT", "1")
    assert _env.distributed_setting("APP_DRIVER_PORT") == "1"
    monkeypatch.setenv("HOLOFLOW_APP_DRIVER_PORT", "2")
    assert _env.distributed_setting("APP_DRIVER_PORT") == "2"
