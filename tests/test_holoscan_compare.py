"""The output normaliser that judges holoflow against recorded Holoscan runs.

The normaliser (``benchmarks/_holoscan_compare.py``) must keep real differences (a missing or extra
line, a different small number) and forgive what varies between two Holoscan runs of the same
example: log lines, warnings, wall-clock values, line order and two threads' prints sharing a line.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "_holoscan_compare.py"
_SPEC = importlib.util.spec_from_file_location("_holoscan_compare", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
compare = importlib.util.module_from_spec(_SPEC)
sys.modules.setdefault("_holoscan_compare", compare)
_SPEC.loader.exec_module(compare)


def test_log_lines_warnings_and_blank_lines_are_dropped():
    text = (
        "Hello World!\n"
        "[info] [gxf_executor.cpp:554] Creating context\n"
        "   [warning] indented log line\n"
        "\n"
        "/x/app.py:12: DeprecationWarning: old API\n"
        "WARNING: something\n"
        "Rx message value: 3   \n"
    )
    assert compare.clean_lines(text) == ["Hello World!", "Rx message value: 3"]


def test_floats_and_long_integers_are_masked_but_small_integers_are_kept():
    assert compare.mask_numbers("Total app runtime = 2.553 s") == "Total app runtime = <float> s"
    assert compare.mask_numbers("latency 1.5e-06 s, 3e+02 ms") == "latency <float> s, <float> ms"
    assert compare.mask_numbers("timestamp 1734567890123 index 42") == "timestamp <int> index 42"
    assert compare.mask_numbers("count 12345 and 123456") == "count 12345 and <int>"
    assert compare.mask_numbers("version 1.2.3") == "version 1.2.3"


def test_glued_lines_are_split_at_the_start_of_a_known_line():
    stems = compare.line_stems(["Rx message value: 7", "Rx message value: 8"])
    assert stems == {"Rx message value: ", "Rx message value: 7", "Rx message value: 8"}
    glued = "Rx message value: 7Rx message value: 8"
    assert compare.split_glued(glued, stems) == ["Rx message value: 7", "Rx message value: 8"]
    assert compare.split_glued("Rx message value: 7", stems) == ["Rx message value: 7"]


def test_a_line_is_found_whole_where_its_start_is_too_short():
    stems = compare.line_stems(["tx1: sending message"])
    assert stems == {"tx1: sending message"}
    glued = "message received on in1: Hello from tx1tx1: sending message"
    assert compare.split_glued(glued, stems) == [
        "message received on in1: Hello from tx1",
        "tx1: sending message",
    ]


def test_short_lines_and_line_starts_are_not_stems():
    assert compare.line_stems(["rx: 1", "tx 2", "done"]) == set()
    # split_glued itself cuts at whatever stems it is given
    assert compare.split_glued("value rx: 1", {"rx: "}) == ["value", "rx: 1"]
    assert compare.split_glued("value rx: 1", set()) == ["value rx: 1"]


def test_glued_output_equals_the_same_prints_on_separate_lines():
    holoscan = "Rx message value: 2Rx message value: 2\n\nRx message value: 3\n"
    holoflow = "Rx message value: 2\nRx message value: 2\nRx message value: 3\n"
    assert compare.normalised_same(holoflow, holoscan)
    assert compare.normalised_same(holoscan, holoflow)


def test_line_order_log_lines_and_runtimes_do_not_matter():
    holoscan = "[info] start\nb 1\na 2\nTotal app runtime = 2.553 s\n"
    holoflow = "a 2\nTotal app runtime = 2.303 s\nb 1\n"
    assert compare.normalised_same(holoflow, holoscan)


def test_a_missing_extra_or_different_line_is_a_difference():
    holoscan = "tick 1\ntick 2\ntick 2\n"
    assert not compare.normalised_same("tick 1\ntick 2\n", holoscan)
    assert not compare.normalised_same("tick 1\ntick 2\ntick 2\ntick 2\n", holoscan)
    assert not compare.normalised_same("tick 1\ntick 2\ntick 3\n", holoscan)


def test_the_multiset_counts_repeated_lines():
    assert compare.normalise("x = 1.5\nx = 2.5\nhello\n") == Counter({"x = <float>": 2, "hello": 1})


def test_same_as_any_reports_strict_and_normalised_separately():
    references = ["value 1\nvalue 2\n", "value 2\nvalue 1\n"]
    assert compare.same_as_any("value 2\nvalue 1\n", references) == (True, True)
    assert compare.same_as_any("[log]\nvalue 1\nvalue 2\n", references) == (False, True)
    assert compare.same_as_any("value 1\n", references) == (False, False)
    assert compare.same_as_any("anything", []) == (False, False)


_LINE = st.text(alphabet="abcdefghij :=0123456789.", min_size=1, max_size=30).filter(
    lambda s: s.strip() and not s.lstrip().startswith("[")
)


@given(st.lists(_LINE, max_size=12), st.randoms(use_true_random=False))
def test_any_reordering_is_normalised_same(lines, random):
    shuffled = list(lines)
    random.shuffle(shuffled)
    assert compare.normalised_same("\n".join(lines) + "\n", "\n".join(shuffled) + "\n")


@given(st.lists(_LINE, min_size=1, max_size=12), st.integers(min_value=0))
def test_dropping_a_line_is_never_normalised_same(lines, index):
    fewer = list(lines)
    del fewer[index % len(fewer)]
    assert not compare.normalised_same("\n".join(lines) + "\n", "\n".join(fewer) + "\n")
