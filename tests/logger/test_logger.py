"""holoflow.logger: Holoscan's log levels and patterns over Python logging, the environment
overrides, and the lines holoflow prints while the application has not set up logging."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from holoflow import logger as holoflow_logger
from holoflow.logger import LogLevel, _level, _settings, get_logger, log_level, set_log_level, set_log_pattern
from holoflow.logger._pattern import PatternFormatter, resolve_pattern

from .._isolation import run_without

ENV = ("HOLOFLOW_LOG_LEVEL", "HOLOSCAN_LOG_LEVEL", "HOLOFLOW_LOG_FORMAT", "HOLOSCAN_LOG_FORMAT")


@pytest.fixture(autouse=True)
def restore_logging(monkeypatch):
    """Each test starts with no log variables set, and leaves the level and pattern as it found
    them."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    root = logging.getLogger("holoflow")
    level, user_pattern = root.level, _settings._user_pattern
    yield
    root.setLevel(level)
    _settings._user_pattern = user_pattern
    _settings._read_environment_pattern()
    _settings._reported.clear()


def record(level=logging.WARNING, msg="hello %s", args=("world",), **fields) -> logging.LogRecord:
    made = logging.LogRecord("holoflow.test", level, "/src/pkg/module.py", 42, msg, args, None, func="run")
    for key, value in fields.items():
        setattr(made, key, value)
    return made


def child_script(body: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a fresh interpreter (no logging configured) with ``env`` added."""
    full_env = {k: v for k, v in os.environ.items() if k not in ENV}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
        check=False,
    )


# -- levels ------------------------------------------------------------------------------------
def test_log_levels_have_holoscans_names_values_and_printing():
    assert [(m.name, m.value) for m in LogLevel] == [
        ("TRACE", 0),
        ("DEBUG", 1),
        ("INFO", 2),
        ("WARN", 3),
        ("ERROR", 4),
        ("CRITICAL", 5),
        ("OFF", 6),
    ]
    assert int(LogLevel.WARN) == 3 and LogLevel(2) is LogLevel.INFO
    assert str(LogLevel.INFO) == "LogLevel.INFO" and repr(LogLevel.INFO) == "<LogLevel.INFO: 2>"
    assert LogLevel.INFO != 2  # an enum, as Holoscan's: not equal to its int
    assert [m.python_level for m in LogLevel] == [5, 10, 20, 30, 40, 50, 60]


def test_the_module_exports_holoscans_names():
    assert {"LogLevel", "log_level", "set_log_level", "set_log_pattern"} <= set(holoflow_logger.__all__)


@pytest.mark.parametrize("level", list(LogLevel))
def test_set_log_level_sets_the_holoflow_logger_and_filters_below_it(level, caplog):
    caplog.set_level(logging.NOTSET)
    set_log_level(level)
    assert log_level() is level
    assert logging.getLogger("holoflow").level == level.python_level
    child = get_logger("holoflow.operators.test")
    for python_level in (5, logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL):
        child.log(python_level, "at %d", python_level)
    logged = [r.levelno for r in caplog.records if r.name == "holoflow.operators.test"]
    assert logged == [p for p in (5, 10, 20, 30, 40, 50) if p >= level.python_level]


def test_the_environment_overrides_set_log_level_as_in_holoscan(monkeypatch):
    set_log_level(LogLevel.DEBUG)
    monkeypatch.setenv("HOLOSCAN_LOG_LEVEL", "INFO")
    set_log_level(LogLevel.ERROR)
    assert log_level() is LogLevel.INFO
    monkeypatch.setenv("HOLOFLOW_LOG_LEVEL", "critical")  # holoflow's spelling wins over Holoscan's
    set_log_level(LogLevel.ERROR)
    assert log_level() is LogLevel.CRITICAL
    monkeypatch.delenv("HOLOFLOW_LOG_LEVEL")
    monkeypatch.delenv("HOLOSCAN_LOG_LEVEL")
    set_log_level(LogLevel.ERROR)
    assert log_level() is LogLevel.ERROR


def test_an_unknown_level_in_the_environment_is_reported_once_and_ignored(monkeypatch, caplog):
    monkeypatch.setenv("HOLOSCAN_LOG_LEVEL", "loud")
    set_log_level(LogLevel.WARN)
    set_log_level(LogLevel.ERROR)
    assert log_level() is LogLevel.ERROR
    reports = [r.getMessage() for r in caplog.records if "loud" in r.getMessage()]
    assert reports == [
        "HOLOSCAN_LOG_LEVEL='loud' is not a log level "
        "(TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, OFF); it is ignored"
    ]


@pytest.mark.parametrize("bad", [3, "INFO", None, logging.INFO])
def test_set_log_level_takes_only_a_log_level(bad):
    with pytest.raises(TypeError, match="takes a holoflow.logger.LogLevel"):
        set_log_level(bad)


def test_log_level_reads_a_level_set_through_python_logging():
    logging.getLogger("holoflow").setLevel(25)
    assert log_level() is LogLevel.WARN
    logging.getLogger("holoflow").setLevel(logging.CRITICAL + 5)
    assert log_level() is LogLevel.OFF


@given(st.integers(min_value=0, max_value=100))
def test_a_python_level_reads_as_the_lowest_log_level_at_or_above_it(python_level):
    level = _level.level_from_python(python_level)
    if python_level <= 60:
        assert level.python_level >= python_level
    lower = [m for m in LogLevel if m.value < level.value]
    assert all(m.python_level < python_level for m in lower)


def test_get_logger_stays_in_the_holoflow_hierarchy():
    assert get_logger().name == "holoflow"
    assert get_logger("holoflow.viz").parent is get_logger()
    with pytest.raises(ValueError, match="not in the holoflow logger hierarchy"):
        get_logger("holoflowx")


# -- patterns ----------------------------------------------------------------------------------
def test_named_patterns_resolve_to_holoscans():
    assert resolve_pattern("short") == "[%^%l%$] %v"
    assert resolve_pattern("DEFAULT") == "[%^%l%$] [%s:%#] %v"
    assert resolve_pattern("Long") == "[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] [%s:%#] %v"
    assert resolve_pattern("FULL") == "[%Y-%m-%d %H:%M:%S.%e] [%t] [%n] [%^%l%$] [%s:%#] %v"
    assert resolve_pattern("[%l] %v") == "[%l] %v"


def test_the_default_pattern_renders_as_holoscans_lines():
    assert PatternFormatter("DEFAULT").format(record()) == "[warning] [module.py:42] hello world"
    assert PatternFormatter("SHORT").format(record(logging.INFO)) == "[info] hello world"
    levels = [PatternFormatter("%l|%L").format(record(p)) for p in (5, 10, 20, 30, 40, 50)]
    assert levels == ["trace|T", "debug|D", "info|I", "warning|W", "error|E", "critical|C"]


def test_each_flag_renders_its_field():
    created = 1_700_000_000.123456
    made = record(created=created, process=4321, thread=12345)
    local = time.localtime(created)
    expected = {
        "%v": "hello world",
        "%n": "holoflow.test",
        "%P": "4321",
        "%t": "12345",
        "%s": "module.py",
        "%g": "/src/pkg/module.py",
        "%#": "42",
        "%!": "run",
        "%@": "module.py:42",
        "%Y-%m-%d %H:%M:%S": time.strftime("%Y-%m-%d %H:%M:%S", local),
        "%C %I %p %a %A %b %h %B": time.strftime("%y %I %p %a %A %b %b %B", local),
        "%D %x %r %R %T %X": time.strftime("%m/%d/%y %m/%d/%y %I:%M:%S %p %H:%M %H:%M:%S %H:%M:%S", local),
        "%c": time.strftime("%a %b %d %H:%M:%S %Y", local),
        "%E": "1700000000",
        "%%|%^x%$|%q": "%|x|%q",
    }
    for pattern, text in expected.items():
        assert PatternFormatter(pattern).format(made) == text, pattern
    fraction = PatternFormatter("%e %f %F").format(made).split()
    assert fraction[0] == "123" and fraction[1].startswith("1234") and fraction[2].startswith("1234")
    assert len(fraction[1]) == 6 and len(fraction[2]) == 9
    offset = PatternFormatter("%z").format(made)
    assert offset[0] in "+-" and offset[3] == ":" and len(offset) == 6
    assert (
        PatternFormatter("%+").format(made).endswith("[holoflow.test] [warning] [module.py:42] hello world")
    )


def test_elapsed_flags_count_from_the_previous_record():
    formatter = PatternFormatter("%o %i %u %O")
    assert formatter.format(record(created=100.0)) == "0 0 0 0"
    assert formatter.format(record(created=102.5)) == "2500 2500000 2500000000 2"


def test_the_thread_flag_gives_the_os_thread_id_on_the_logging_thread():
    import threading

    made = get_logger("holoflow.test").makeRecord("holoflow.test", logging.INFO, "f.py", 1, "m", (), None)
    assert PatternFormatter("%t").format(made) == str(threading.get_native_id())


@given(
    message=st.text(
        alphabet=st.characters(blacklist_characters="%", blacklist_categories=("Cs",)), max_size=40
    ),
    width=st.integers(min_value=1, max_value=50),
)
@example(message="short", width=1)
def test_padding_and_truncation_follow_spdlog(message, width):
    made = record(msg=message, args=())
    assert PatternFormatter(f"%{width}v").format(made) == message.rjust(width)
    assert PatternFormatter(f"%-{width}v").format(made) == message.ljust(width)
    assert PatternFormatter(f"%={width}v").format(made) == message.center(width)
    truncated = message[:width] if len(message) > width else message.rjust(width)
    assert PatternFormatter(f"%{width}!v").format(made) == truncated
    if message.upper() not in ("SHORT", "DEFAULT", "LONG", "FULL"):  # Holoscan's pattern names
        assert PatternFormatter(message).format(made) == message  # text without flags is literal


def test_an_exception_follows_the_line():
    try:
        raise ValueError("bad value")
    except ValueError:
        made = record(exc_info=sys.exc_info())
    lines = PatternFormatter("SHORT").format(made).splitlines()
    assert lines[0] == "[warning] hello world"
    assert lines[1].startswith("Traceback") and lines[-1] == "ValueError: bad value"


def test_set_log_pattern_checks_its_argument_and_an_empty_one_keeps_the_last():
    with pytest.raises(TypeError, match="takes a str"):
        set_log_pattern(None)
    set_log_pattern("%l: %v")
    set_log_pattern("")
    assert _settings.current_formatter().pattern == "%l: %v"


def test_the_default_pattern_depends_on_the_level_and_the_environment_wins(monkeypatch):
    _settings._user_pattern = None
    set_log_level(LogLevel.INFO)
    assert _settings.current_formatter().pattern == "[%^%l%$] [%s:%#] %v"
    set_log_level(LogLevel.DEBUG)
    assert _settings.current_formatter().pattern.startswith("[%Y-%m-%d %H:%M:%S.%e] [%t]")
    set_log_pattern("SHORT")
    assert _settings.current_formatter().pattern == "[%^%l%$] %v"
    monkeypatch.setenv("HOLOSCAN_LOG_FORMAT", "long")
    set_log_pattern("%v")
    assert _settings.current_formatter().pattern.endswith("[%n] [%^%l%$] [%s:%#] %v")
    monkeypatch.setenv("HOLOFLOW_LOG_FORMAT", "%l %v")
    set_log_pattern("")
    assert _settings.current_formatter().pattern == "%l %v"


# -- what holoflow prints ----------------------------------------------------------------------
def test_holoflow_prints_its_lines_in_holoscans_format_until_the_app_sets_up_logging():
    out = child_script(
        """
        import logging
        from holoflow.logger import LogLevel, get_logger, set_log_level, set_log_pattern
        log = get_logger("holoflow.operators.example")
        log.info("one %d", 1)
        log.debug("hidden at INFO")
        set_log_pattern("SHORT")
        log.warning("two")
        set_log_level(LogLevel.ERROR)
        log.warning("hidden at ERROR")
        set_log_level(LogLevel.INFO)
        logging.basicConfig(format="app: %(name)s %(message)s")
        log.warning("three")
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr.splitlines() == [
        "[info] [<string>:5] one 1",
        "[warning] two",
        "app: holoflow.operators.example three",
    ]


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        ({}, True),
        ({"HOLOSCAN_LOG_LEVEL": "ERROR"}, False),
        ({"HOLOSCAN_LOG_LEVEL": "ERROR", "HOLOFLOW_LOG_LEVEL": "warn"}, True),
    ],
)
def test_an_operators_warning_goes_through_the_holoflow_logger(env, shown):
    """The renderer's software fallback warns through holoflow.viz's logger: printed in
    Holoscan's format, and governed by the level variables from the first import."""
    script = """
        from holoflow.viz import InputSpec, open_renderer
        renderer = open_renderer("auto", 8, 4, label="child")
        print(renderer.kind)
        """
    prelude = "".join(f"import os; os.environ[{k!r}] = {v!r}\n" for k, v in env.items())
    out = run_without(["OpenGL"], prelude + textwrap.dedent(script))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["software"]
    lines = [line for line in out.stderr.splitlines() if "rendering in software" in line]
    if shown:
        assert len(lines) == 1 and lines[0].startswith("[warning] [_renderer.py:")
        assert "] child: rendering in software" in lines[0]
    else:
        assert lines == []


def test_the_level_variables_apply_from_the_first_import():
    out = child_script(
        "from holoflow.logger import log_level; print(log_level())",
        {"HOLOSCAN_LOG_LEVEL": "debug"},
    )
    assert out.stdout.strip() == "LogLevel.DEBUG", out.stderr
    out = child_script(
        "from holoflow.logger import log_level; print(log_level())",
        {"HOLOSCAN_LOG_LEVEL": "debug", "HOLOFLOW_LOG_LEVEL": "off"},
    )
    assert out.stdout.strip() == "LogLevel.OFF", out.stderr
    out = child_script("from holoflow.logger import log_level; print(log_level())")
    assert out.stdout.strip() == "LogLevel.INFO", out.stderr
