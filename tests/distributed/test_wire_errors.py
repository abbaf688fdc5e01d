"""Exceptions to plain dicts and back: builtin and holoflow types rebuilt, others as RemoteError."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.distributed._codec import decode, encode
from holoflow.distributed._wire_errors import error_from_wire, error_to_wire
from holoflow.errors import CodecError, ConfigError, GraphError, RemoteError


class CustomError(Exception):
    pass


def raised(exc):
    """``exc`` after it was raised (so it has a traceback), with a note."""
    try:
        raise exc
    except BaseException as caught:
        if sys.version_info >= (3, 11):
            caught.add_note("raised in operator 'rx' compute")
        return caught


def over_the_wire(exc):
    """Through JSON (the control channel) and through the codec."""
    wire = error_to_wire(exc)
    assert json.loads(json.dumps(wire)) == wire
    assert decode(encode(wire)) == wire
    return error_from_wire(json.loads(json.dumps(wire)))


def division():
    try:
        return 1 / 0
    except ZeroDivisionError as exc:
        return exc


@pytest.mark.parametrize(
    "exc",
    [
        division(),
        KeyError("missing"),
        ValueError("bad value", 3),
        FileNotFoundError(2, "No such file", "/nope"),
        GraphError("Cannot find source operator 'x' in fragment 'f'"),
        ConfigError("key 'rate' is missing"),
        StopIteration(),
    ],
)
def test_builtin_and_holoflow_errors_come_back_with_their_type_and_text(exc):
    exc = raised(exc)
    rebuilt = over_the_wire(exc)
    assert type(rebuilt) is type(exc)
    assert str(rebuilt) == str(exc)
    assert rebuilt.args == exc.args
    notes = getattr(rebuilt, "__notes__", [])
    assert notes[-1].startswith("remote traceback:\n") and "Traceback" in notes[-1]
    if sys.version_info >= (3, 11):
        assert notes[0] == "raised in operator 'rx' compute"


def test_a_zero_division_keeps_the_remote_frame_in_its_traceback_note():
    rebuilt = over_the_wire(division())
    assert "return 1 / 0" in rebuilt.__notes__[-1]


def test_other_types_become_remote_errors_naming_the_type():
    rebuilt = over_the_wire(raised(CustomError("it broke")))
    assert type(rebuilt) is RemoteError
    assert rebuilt.remote_type == f"{__name__}.CustomError"
    assert str(rebuilt) == f"{__name__}.CustomError: it broke"
    assert "CustomError: it broke" in rebuilt.remote_traceback


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3), GeneratorExit()])
def test_base_exceptions_never_act_here(exc):
    rebuilt = over_the_wire(raised(exc))
    assert type(rebuilt) is RemoteError
    assert rebuilt.remote_type == f"builtins.{type(exc).__name__}"


def test_args_that_are_not_plain_values_fall_back_to_the_message():
    exc = ValueError({"a": object()})
    wire = error_to_wire(exc)
    assert wire["args"] is None
    rebuilt = error_from_wire(wire)
    assert type(rebuilt) is ValueError and str(rebuilt) == str(exc)


def test_a_constructor_that_refuses_the_arguments_gives_a_remote_error():
    wire = error_to_wire(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"))
    wire["args"] = ["only one"]
    rebuilt = error_from_wire(wire)
    assert type(rebuilt) is RemoteError and rebuilt.remote_type == "builtins.UnicodeDecodeError"


def test_remote_errors_relay_unchanged():
    first = over_the_wire(raised(CustomError("deep")))
    second = over_the_wire(first)
    assert type(second) is RemoteError
    assert second.remote_type == first.remote_type and str(second) == str(first)
    assert second.remote_traceback == first.remote_traceback


def test_names_from_the_wire_are_never_imported():
    wire = {"type": "os.system", "message": "echo hacked", "args": ["echo hacked"], "traceback": ""}
    rebuilt = error_from_wire(wire)
    assert type(rebuilt) is RemoteError and rebuilt.remote_type == "os.system"
    wire["type"] = "builtins.eval"
    assert type(error_from_wire(wire)) is RemoteError


def test_long_texts_are_clipped():
    wire = error_to_wire(ValueError("x" * 200_000))
    assert len(wire["message"]) == 64 * 1024 and wire["message"].endswith("(truncated)")
    assert wire["args"] is None


@pytest.mark.parametrize(
    "wire",
    [
        None,
        [],
        "ZeroDivisionError",
        {},
        {"type": ""},
        {"type": 3, "message": "x"},
        {"type": "builtins.ValueError", "message": b"x"},
        {"type": "builtins.ValueError", "args": "x"},
        {"type": "builtins.ValueError", "args": [object()]},
        {"type": "builtins.ValueError", "args": [1] * 65},
        {"type": "builtins.ValueError", "notes": [1]},
        {"type": "builtins.ValueError", "notes": "note"},
        {"type": "builtins.ValueError", "traceback": None},
    ],
)
def test_malformed_wire_errors_are_codec_errors(wire):
    with pytest.raises(CodecError):
        error_from_wire(wire)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["type", "message", "args", "notes", "traceback", "other"]),
        st.one_of(
            st.text(max_size=30),
            st.sampled_from(["builtins.ValueError", "builtins.OSError", "holoflow.errors.RemoteError"]),
            st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none(), st.floats()), max_size=5),
            st.none(),
            st.integers(),
        ),
    )
)
def test_any_dict_gives_an_exception_or_a_codec_error(wire):
    try:
        rebuilt = error_from_wire(wire)
    except CodecError:
        return
    assert isinstance(rebuilt, Exception)


def test_unprintable_exceptions_and_nan_arguments_still_travel_as_strict_json():
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no")

    wire = error_to_wire(Unprintable())
    assert "str() failed" in wire["message"]
    wire = error_to_wire(ValueError(float("nan")))
    assert wire["args"] is None
    json.dumps(wire, allow_nan=False)
    assert type(error_from_wire(wire)) is ValueError
