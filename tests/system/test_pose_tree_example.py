"""The pose-tree examples: holoflow's ``examples/pose_tree_basic.py`` and Holoscan's own.

holoflow's example is run under every scheduler and its lines are checked against poses composed
here with plain 4x4 matrices. Holoscan's ``examples/pose_tree/pose_tree_basic`` runs unedited
(through the ``holoscan`` shim of the examples benchmark) where a holoscan-sdk checkout is named
by ``HOLOSCAN_SDK``; its lines must equal the recorded Holoscan 4.6 run, numbers compared as
numbers (a different libm may move a last digit).
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from holoflow.core import Fragment

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pose_tree_basic.py"
RECORDED = REPO / "tests" / "data" / "holoscan-4.6-examples" / "pose_tree" / "pose_tree_basic" / "python"
SDK = os.environ.get("HOLOSCAN_SDK", "")
HOLOSCAN_EXAMPLE = Path(SDK) / "examples" / "pose_tree" / "pose_tree_basic" / "python" / "pose_tree_basic.py"


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def transform(angle_z: float = 0.0, translation=(0.0, 0.0, 0.0), pitch: float = 0.0) -> np.ndarray:
    """A 4x4 transform: rotation about z, then about y by ``pitch``, then the translation."""
    cz, sz, cy, sy = math.cos(angle_z), math.sin(angle_z), math.cos(pitch), math.sin(pitch)
    m = np.eye(4)
    m[:3, :3] = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]]) @ np.array(
        [[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]
    )
    m[:3, 3] = translation
    return m


def expected_lines(ticks: int) -> list[str]:
    """What the example must print, composed independently of holoflow.pose_tree."""
    mount = transform(pitch=math.radians(30), translation=(0.3, 0.0, 0.5))

    def base(t: float) -> tuple[float, np.ndarray]:
        return 0.1 * t + math.pi / 2, np.array([2 * math.cos(0.1 * t), 2 * math.sin(0.1 * t), 0.0])

    def tool(t: float) -> np.ndarray:
        return np.array([0.1 * math.sin(t), 0.05, 1.0 + 0.1 * math.cos(t)])

    def line(t: float, label: str, heading: float, at: np.ndarray, seen: np.ndarray) -> str:
        world_tool = transform(heading, at) @ mount @ transform(translation=seen)
        x, y, z = world_tool[:3, 3]
        return f"t={t:4.1f}  {label}x={x:+.4f} y={y:+.4f} z={z:+.4f}"

    lines = []
    for k in range(1, ticks + 1):
        lines.append(line(k, "tool in world  ", *base(k), tool(k)))
        if k > 1:  # halfway between samples: mean translations, mean heading (slerp about z)
            (h0, p0), (h1, p1) = base(k - 1), base(k)
            lines.append(
                line(k - 0.5, "interpolated   ", (h0 + h1) / 2, (p0 + p1) / 2, (tool(k - 1) + tool(k)) / 2)
            )
    edges = [("world", "base"), ("base", "camera"), ("camera", "tool")]
    return [*lines, f"edges {edges}, version {5 + 2 * ticks}"]


def test_the_example_composes_three_edges_under_every_scheduler(use_scheduler, capsys):
    example = load(EXAMPLE, "pose_tree_basic_example")
    app = example.ToolTrackingApp(ticks=8)
    use_scheduler(app)
    app.run()
    assert capsys.readouterr().out.splitlines() == expected_lines(8)


def test_the_example_runs_as_a_script():
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--ticks", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == expected_lines(3)


NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def same_numbers(ours: str, theirs: str) -> bool:
    """Equal text around the numbers (spacing aside: Eigen pads to the widest number), and
    numbers equal to 1e-6 (``-0`` and ``0`` alike)."""
    if NUMBER.sub("#", ours).split() != NUMBER.sub("#", theirs).split():
        return False
    a = [float(x) for x in NUMBER.findall(ours)]
    b = [float(x) for x in NUMBER.findall(theirs)]
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9) for x, y in zip(a, b))


def test_number_comparison_keeps_real_differences():
    assert same_numbers("T=[0.99985204 0.0172 0.]", "T=[0.99985204 0.0172 0.]")
    assert same_numbers("Q=SO3(quaternion= -0 0 1)", "Q=SO3(quaternion=  0 0 1)")
    assert same_numbers("x=1.0000001", "x=1.0000002")
    assert not same_numbers("x=1.001", "x=1.002")
    assert not same_numbers("day 1 x=1", "day 2 x=1")
    assert not same_numbers("Sun→Earth x=1", "Sun→Moon x=1")


@pytest.mark.skipif(not HOLOSCAN_EXAMPLE.is_file(), reason="set HOLOSCAN_SDK to a holoscan-sdk checkout")
@pytest.mark.skipif(not hasattr(Fragment, "register_service"), reason="the example needs fragment services")
def test_holoscans_example_prints_what_holoscan_printed(tmp_path):
    shim = load(REPO / "benchmarks" / "_holoscan_shim.py", "_holoscan_shim_for_pose_tree")
    shim.write_shim(tmp_path)
    result = subprocess.run(
        [sys.executable, HOLOSCAN_EXAMPLE.name],
        cwd=HOLOSCAN_EXAMPLE.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]),
            "PYTHONUNBUFFERED": "1",
        },
    )
    assert result.returncode == 0, result.stderr[-2000:]
    ours = result.stdout.splitlines()
    theirs = (RECORDED / "pose_tree_basic.py.run1.txt").read_text().splitlines()
    assert len(ours) == len(theirs) == 3 * 365 + 1
    different = [(a, b) for a, b in zip(ours, theirs) if not same_numbers(a, b)]
    assert not different, different[:3]
