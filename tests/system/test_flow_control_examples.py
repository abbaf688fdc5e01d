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
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holoflow.schedulers import GreedyScheduler

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
    "for_loop": [
        f"node{node}: index {index}"
        for node, index in [
            (1, -1),
            (2, 0),
            (3, 0),
            (1, 0),
            (2, 1),
            (3, 1),
            (1, 1),
            (2, 2),
            (3, 2),
            (1, 2),
            (4, 3),
        ]
    ],
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


def run_script(name: str, *args: str) -> list[str]:
    """Run example ``name`` as a script; the lines it printed."""
    result = subprocess.run(
        [sys.executable, str(FLOW_CONTROL / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


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
    lines = run_script(name)
    if name == "fork_join":
        assert re.fullmatch(r"5 branches joined in \d+\.\d s", lines.pop()), lines
    assert Counter(lines) == Counter(EXPECTED[name])


def test_streaming_with_monitor_runs_as_a_script():
    check_monitor_lines(run_script("streaming_with_monitor"), example("streaming_with_monitor").ITERATIONS)


def test_state_based_monitoring_runs_as_a_script():
    assert run_script("state_based_monitoring", "event", "--seed", "7") == monitoring_lines(7, 10)


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


def test_for_loop(use_scheduler, capsys):
    lines = run(example("for_loop").ForLoopApp(), use_scheduler, capsys)
    assert lines == EXPECTED["for_loop"]


def values_of(lines: list[str], prefix: str) -> list[int]:
    """The numbers in the lines that start with ``prefix`` (``"op: received 3"`` -> 3), in order."""
    return [int(re.search(r"\d+", line[len(prefix) :])[0]) for line in lines if line.startswith(prefix)]


def check_monitor_lines(lines: list[str], count: int) -> None:
    """What streaming_with_monitor guarantees whatever the timing: the stream and visualize see
    every value in order; the monitor may skip values it was too busy for, never reorders them,
    always gets the last, and reports exactly the odd ones it got, each after detecting it."""
    assert values_of(lines, "gen_signal: sends ") == list(range(1, count + 2))
    assert values_of(lines, "gen_signal: iteration ") == list(range(1, count + 2))
    assert values_of(lines, "process_signal: received ") == list(range(1, count + 1))
    assert values_of(lines, "visualize: received ") == list(range(1, count + 1))
    for n in range(1, count + 1):
        assert_in_order(
            lines, f"gen_signal: sends {n}", f"gen_signal: iteration {n}", f"gen_signal: sends {n + 1}"
        )
        assert_in_order(
            lines, f"gen_signal: iteration {n}", f"process_signal: received {n}", f"visualize: received {n}"
        )
    detected = [line for line in lines if line.startswith("detect_event: ")]
    seen = values_of(detected, "detect_event: received ")
    assert seen == sorted(set(seen)) and seen[-1] == count
    assert detected == [f"detect_event: received {n}, detected {n % 2 == 1}" for n in seen]
    events = [n for n in seen if n % 2 == 1]
    reports = [line for line in lines if line.startswith("report_generation: ")]
    assert reports == [f"report_generation: value {n}, detected True" for n in events]
    for n in seen:
        assert_in_order(
            lines, f"process_signal: received {n}", f"detect_event: received {n}, detected {n % 2 == 1}"
        )
    for n in events:
        assert_in_order(
            lines,
            f"detect_event: received {n}, detected True",
            f"report_generation: value {n}, detected True",
        )


def test_streaming_with_monitor(use_scheduler, capsys):
    module = example("streaming_with_monitor")
    lines = run(module.StreamingWithMonitorApp(), use_scheduler, capsys)
    check_monitor_lines(lines, module.ITERATIONS)


def test_streaming_with_monitor_skips_nothing_when_one_operator_runs_at_a_time(capsys):
    """Under the greedy scheduler each value crosses the whole graph before the next is made."""
    module = example("streaming_with_monitor")
    app = module.StreamingWithMonitorApp(process_s=0.0, detect_s=0.0)
    app.scheduler(GreedyScheduler(app))
    capsys.readouterr()
    app.run()
    lines = capsys.readouterr().out.splitlines()
    check_monitor_lines(lines, module.ITERATIONS)
    assert values_of(lines, "detect_event: received ") == list(range(1, module.ITERATIONS + 1))
    assert values_of(lines, "report_generation: value ") == list(range(1, module.ITERATIONS + 1, 2))


def monitoring_lines(seed: int, rounds: int) -> list[str]:
    """What state_based_monitoring prints for ``seed``, worked out without the graph."""
    rng = random.Random(seed)
    lines, alerts = [], 0
    for _ in range(rounds):
        value = rng.uniform(0.0, 100.0)
        lines.append(f"sensor_op: reading {value:.2f}")
        if 20.0 <= value <= 80.0:
            lines.append(f"preprocess_op: preprocessing {value:.2f}")
            continue
        alerts += 1
        lines += [
            f"sensor_op: {value:.2f} is outside [20, 80], alerting",
            f"alert_op: alert {alerts} for {value:.2f}",
        ]
        if alerts == 3:
            lines += ["alert_op: starting recovery", f"recovery_op: recovering from {value:.2f}"]
            alerts = 0
        else:
            lines.append("alert_op: back to sensor_op")
    value = rng.uniform(0.0, 100.0)
    return lines + [f"sensor_op: reading {value:.2f}", f"sensor_op: {rounds} rounds done, stopping"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), rounds=st.integers(0, 15))
def test_state_based_monitoring_follows_the_readings(use_scheduler, capsys, seed, rounds):
    """One chain of control flows: the same lines, in the same order, under every scheduler."""
    app = example("state_based_monitoring").SensorMonitoringApp(seed=seed, rounds=rounds, pause_s=0.0)
    assert run(app, use_scheduler, capsys) == monitoring_lines(seed, rounds)


def test_state_based_monitoring_reaches_recovery(use_scheduler, capsys):
    """Seed 3 goes through normal readings, two alerts and a recovery."""
    lines = run(
        example("state_based_monitoring").SensorMonitoringApp(seed=3, pause_s=0.0), use_scheduler, capsys
    )
    assert lines == monitoring_lines(3, 10)
    assert "recovery_op: recovering from 83.75" in lines
