"""BasicConsoleLogger / GXFConsoleLogger lines, SimpleTextSerializer summaries, patterns."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from holoflow.conditions import CountCondition
from holoflow.core import DataLoggerResource, ManualClock
from holoflow.data_loggers import BasicConsoleLogger, GXFConsoleLogger, SimpleTextSerializer
from holoflow.errors import ConfigError
from holoflow.tensor import TensorMap, as_tensor

from ._graphs import ArrayTx, Sink, chain

LINE = re.compile(
    r"^(?P<who>\w+)\[ID:(?P<id>[^\]]+)\]\[Acquisition Timestamp:(?P<acq>-?\d+)\]"
    r"\[(?P<when>Emit|Receive) Timestamp:(?P<ts>\d+)\]\[Category:(?P<cat>[^\]]+)\]"
    r"\[Type Name: (?P<type>[^\]]+)\]\[Stream: none\] (?P<content>.*)$",
    re.DOTALL,
)


def lines(caplog):
    return [LINE.match(r.getMessage()) for r in caplog.records if r.name == "holoflow.data_loggers"]


def run_logged(app, caplog, logger):
    app.add_data_logger(logger)
    with caplog.at_level(logging.INFO, logger="holoflow"):
        app.run()
    found = lines(caplog)
    assert all(found), [r.getMessage() for r in caplog.records]
    return found


def test_basic_console_lines_under_every_scheduler(app, use_scheduler, caplog):
    use_scheduler(app)
    chain(app, 3)
    found = run_logged(app, caplog, BasicConsoleLogger(app))
    assert sorted(m["id"] for m in found) == ["rx.in"] * 3 + ["tx.out"] * 3
    emits = [m for m in found if m["id"] == "tx.out"]
    assert [m["when"] for m in emits] == ["Emit"] * 3
    assert [m["acq"] for m in emits] == ["1000", "2000", "3000"]
    assert {m["who"] for m in found} == {"BasicConsoleLogger"}
    assert [m["content"] for m in emits] == [
        f"Python(int): {i}\nMetadataDictionary(size=1) {{'n': Python(int): {i}}}" for i in (1, 2, 3)
    ]
    assert {m["when"] for m in found if m["id"] == "rx.in"} == {"Receive"}


def test_gxf_console_logger_is_the_basic_logger_under_another_name(app, caplog):
    chain(app, 1)
    logger = GXFConsoleLogger(app)
    assert isinstance(logger, BasicConsoleLogger) and logger.name == "gxf_basic_console_logger"
    found = run_logged(app, caplog, logger)
    assert len(found) == 2


def test_tensors_are_summarised_not_dumped(app, caplog):
    tx = ArrayTx(app, CountCondition(app, 1), name="tx")
    rx = Sink(app, inputs=("in", "raw"), name="rx")
    app.add_flow(tx, rx, {("out", "in"), ("raw", "raw")})
    found = run_logged(
        app, caplog, BasicConsoleLogger(app, log_tensor_data_content=False, log_metadata=False)
    )
    by_id = {m["id"]: m for m in found}
    assert by_id["tx.out"]["cat"] == "TensorMap"
    assert by_id["tx.out"]["content"] == (
        "TensorMap(size=1) {'image': Tensor(shape=[2, 3], dtype=float32, device=kDLCPU:0, size=6, "
        "nbytes=24, C-contiguous=true)}"
    )
    assert by_id["tx.raw"]["content"] == (
        "Tensor(shape=[4], dtype=int16, device=kDLCPU:0, size=4, nbytes=8, C-contiguous=true)"
    )
    assert "data=" not in "".join(m["content"] for m in found)


def test_tensor_values_when_asked_are_cut_at_max_elements(app, caplog):
    tx = ArrayTx(app, CountCondition(app, 1), name="tx")
    rx = Sink(app, inputs=("in", "raw"), name="rx")
    app.add_flow(tx, rx, {("out", "in"), ("raw", "raw")})
    serializer = SimpleTextSerializer(app, max_elements=4)
    found = run_logged(app, caplog, BasicConsoleLogger(app, serializer=serializer, log_metadata=False))
    by_id = {m["id"]: m["content"] for m in found}
    assert by_id["tx.out"].endswith("data=[0.0, 1.0, 2.0, 3.0, ... (2 more)])}")
    assert by_id["tx.raw"].endswith("data=[0, 1, 2, 3])")


def test_serializer_text():
    from holoflow.core import Application

    app = Application([])
    s = SimpleTextSerializer(app, max_elements=2, max_metadata_items=1)
    assert s.serialize_to_string([1, 2, 3]) == "Python(list): [1, 2, ... (1 more)]"
    assert s.serialize_to_string("hi") == "Python(str): 'hi'"
    assert (
        s.serialize_metadata_to_string({"a": 1, "b": 2})
        == "MetadataDictionary(size=2) {'a': Python(int): 1, ... (1 more)}"
    )
    tm = TensorMap({"x": as_tensor(np.zeros((2, 2), np.uint8)), "label": "left"})
    assert s.serialize_tensormap_to_string(tm) == (
        "TensorMap(size=2) {'x': Tensor(shape=[2, 2], dtype=uint8, device=kDLCPU:0, size=4, nbytes=4, "
        "C-contiguous=true), 'label': Python(str): 'left'}"
    )
    quiet = SimpleTextSerializer(app, log_python_object_contents=False)
    assert quiet.serialize_to_string({"secret"}) == "Python(set)"
    assert s.serialize_to_string(np.array([object()], dtype=object)).startswith("Python(ndarray): ")


def test_log_inputs_and_outputs_flags(app, caplog):
    chain(app, 2)
    found = run_logged(app, caplog, BasicConsoleLogger(app, log_inputs=False))
    assert [m["id"] for m in found] == ["tx.out", "tx.out"]


@pytest.mark.parametrize(
    ("allow", "deny", "expected"),
    [
        (["^tx\\."], [], ["tx.out"]),
        ([], ["\\.in$"], ["tx.out"]),
        (["rx", "tx"], ["^rx"], ["tx.out"]),  # deny is checked first
        (["nothing"], [], []),
    ],
)
def test_allow_and_deny_patterns(app, caplog, allow, deny, expected):
    chain(app, 1)
    found = run_logged(app, caplog, BasicConsoleLogger(app, allowlist_patterns=allow, denylist_patterns=deny))
    assert [m["id"] for m in found] == expected


def test_an_invalid_pattern_fails_the_run_naming_the_logger(app):
    chain(app, 1)
    app.add_data_logger(BasicConsoleLogger(app, allowlist_patterns=["(unclosed"], name="dl"))
    with pytest.raises(
        ConfigError, match=r"resource 'dl': invalid regex in allowlist_patterns \['\(unclosed'\]"
    ):
        app.run()


def test_timestamps_come_from_the_given_clock(app, caplog):
    chain(app, 1)
    clock = ManualClock(app, initial_timestamp=12345)
    found = run_logged(app, caplog, BasicConsoleLogger(app, clock=clock))
    assert {m["ts"] for m in found} == {"12345"}


def test_metadata_line_is_left_out_when_not_logged(app, caplog):
    chain(app, 1)
    found = run_logged(app, caplog, BasicConsoleLogger(app, log_metadata=False))
    assert [m["content"] for m in found] == ["Python(int): 1", "Python(int): 1"]


_ids = st.from_regex(r"[a-z]{1,3}\.[a-z]{1,3}(:[0-9])?", fullmatch=True)
_patterns = st.lists(st.sampled_from(["^a", "b$", "c", ":1", "\\.", "^zz"]), max_size=3)


@given(unique_id=_ids, allow=_patterns, deny=_patterns)
def test_pattern_rule(unique_id, allow, deny):
    from holoflow.core import Application

    logger = BasicConsoleLogger(Application([]), allowlist_patterns=allow, denylist_patterns=deny)
    denied = any(re.search(p, unique_id) for p in deny)
    allowed = not allow or any(re.search(p, unique_id) for p in allow)
    assert logger.should_log_message(unique_id) == (not denied and allowed)
    assert isinstance(logger, DataLoggerResource)
