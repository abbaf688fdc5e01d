"""The flow-control examples (examples/flow_control/) print what their docstrings promise.

Each app is imported and run under every scheduler. The greedy scheduler runs one operator at a
time, so its lines are compared exactly; with worker threads the lines are compared as a
multiset, and the orderings that control flow guarantees (an operator after the one that
triggered it, a join after all its branches, each operator's values in order) are checked.
Every example also runs once as a script.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

FLOW_CONTROL = Path(__file__).resolve().parents[2] / "examples" / "flow_control"


def streaming_lines(iterations: int) -> list[str]:
    lines = []
    for n in range(1, iterations + 1):
        lines += [f"node1: sends {n}", f"node1: iteration {n}"]
        lines += [f"node{i}: received {n}" for i in (2, 3, 4)]
    return lines + [f"node1: sends {iterations + 1}", f"node1: iteration {iterations + 1}"]


EXPECTED = {
    "sequential": ["node1: executed", "node2: executed", "node3: executed"],
    "conditional": ["node1: execution 1", "node2: executed", "node3: executed"]
    + ["node1: execution 2", "node4: executed", "node5: executed"],
    "conditional_routing": ["node1: sends 1", "node2: received 1", "node1: sends 2", "node3: received 2"],
    "fork_join": [f"node{i}: executed" for i in range(1, 9)],
    "mixed_flows": ["node1: sends 1", "node2: received 1", "alarm: executed"]
    + ["node1: sends 2", "alarm: executed", "node3: received 2"],
    "streaming": streaming_lines(5),
}
"""What each example prints under the greedy scheduler (fork_join: in some order of its branches)."""


@functools.cache
def example(name: str):
    """The example module ``name``, imported once."""
    spec = importlib.util.spec_from_file_location(f"flow_control_{name}", FLOW_CONTROL / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(app, use_scheduler, capsys) -> list[str]:
    """Run ``app`` under the current scheduler kind; the lines it printed."""
    capsys.readouterr()
    use_scheduler(app)
    app.run()
    return capsys.readouterr().out.splitlines()


def assert_in_order(lines: list[str], *chain: str) -> None:
    """Each line of ``chain`` was printed once, and after the one before it."""
    positions = [lines.index(line) for line in chain]
    assert positions == sorted(positions), (chain, lines)


def assert_same_lines(lines: list[str], expected: list[str], scheduler_kind: str) -> None:
    """Exactly ``expected`` under the greedy scheduler; the same lines in any order otherwise."""
    if scheduler_kind == "greedy":
        assert lines == expected
    else:
        assert Counter(lines) == Counter(expected), lines


def test_sequential(use_scheduler, capsys):
    lines = run(example("sequential").SequentialApp(), use_scheduler, capsys)
    assert lines == EXPECTED["sequential"]


def test_conditional(use_scheduler, capsys, scheduler_kind):
    lines = run(example("conditional").ConditionalApp(), use_scheduler, capsys)
    assert_same_lines(lines, EXPECTED["conditional"], scheduler_kind)
    assert_in_order(lines, "node1: execution 1", "node2: executed", "node3: executed")
    assert_in_order(lines, "node1: execution 1", "node1: execution 2", "node4: executed", "node5: executed")


def test_conditional_routing(use_scheduler, capsys, scheduler_kind):
    lines = run(example("conditional_routing").ConditionalRoutingApp(), use_scheduler, capsys)
    assert_same_lines(lines, EXPECTED["conditional_routing"], scheduler_kind)
    assert_in_order(lines, "node1: sends 1", "node2: received 1")
    assert_in_order(lines, "node1: sends 1", "node1: sends 2", "node3: received 2")


def test_fork_join(use_scheduler, capsys):
    lines = run(example("fork_join").ForkJoinApp(pause_s=0.01), use_scheduler, capsys)
    branches = [f"node{i}: executed" for i in range(2, 7)]
    assert lines[0] == "node1: executed"
    assert sorted(lines[1:6]) == branches  # every branch, after the fork and before the join
    assert lines[6:] == ["node7: executed", "node8: executed"]


def test_mixed_flows(use_scheduler, capsys, scheduler_kind):
    lines = run(example("mixed_flows").MixedFlowsApp(), use_scheduler, capsys)
    assert_same_lines(lines, EXPECTED["mixed_flows"], scheduler_kind)
    assert_in_order(lines, "node1: sends 1", "node2: received 1")
    assert_in_order(lines, "node1: sends 1", "node1: sends 2", "node3: received 2")
    first_alarm = lines.index("alarm: executed")
    second_alarm = lines.index("alarm: executed", first_alarm + 1)
    assert lines.index("node1: sends 1") < first_alarm
    assert lines.index("node1: sends 2") < second_alarm


def test_streaming(use_scheduler, capsys, scheduler_kind):
    module = example("streaming")
    lines = run(module.StreamingApp(), use_scheduler, capsys)
    assert_same_lines(lines, streaming_lines(module.ITERATIONS), scheduler_kind)
    for n in range(1, module.ITERATIONS + 1):
        assert_in_order(lines, f"node1: sends {n}", f"node1: iteration {n}", f"node1: sends {n + 1}")
        assert_in_order(lines, f"node1: iteration {n}", *(f"node{i}: received {n}" for i in (2, 3, 4)))
    for node in ("node2", "node3", "node4"):
        values = [line for line in lines if line.startswith(f"{node}: ")]
        assert values == [f"{node}: received {n}" for n in range(1, module.ITERATIONS + 1)]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_runs_as_a_script(name):
    """Each example runs on its own under its default scheduler and prints only its lines."""
    result = subprocess.run(
        [sys.executable, str(FLOW_CONTROL / f"{name}.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    if name == "fork_join":
        assert re.fullmatch(r"5 branches joined in \d+\.\d s", lines.pop()), lines
    assert Counter(lines) == Counter(EXPECTED[name])


def test_a_scheduler_outside_the_three_is_refused():
    result = subprocess.run(
        [sys.executable, str(FLOW_CONTROL / "sequential.py"), "fastest"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "invalid choice: 'fastest'" in result.stderr
    assert result.stdout == ""
