"""The package's shape: what it imports, the test doubles' home, the emulator's command line."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import holoflow.sensor_bridge
import holoflow.testing
from holoflow.testing import random_loopback_ip

PACKAGE = Path(holoflow.sensor_bridge.__file__).parent


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every ``holoflow`` module ``path`` imports (at any depth: lazy and TYPE_CHECKING too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("holoflow"):
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                # "from holoflow.sensor_bridge import _registers" names a module
                found.append((name if (PACKAGE / f"{alias.name}.py").exists() else node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("holoflow")]
    return found


def test_imports_inside_the_package_run_one_way():
    graph = {
        path.stem: {
            name.rsplit(".", 1)[1]
            for name, _ in _imports(path)
            if name.startswith("holoflow.sensor_bridge._")
        }
        for path in PACKAGE.glob("_*.py")
        if path.name != "__main__.py"
    }
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", " -> ".join([*trail, module])
        state[module] = "open"
        for imported in sorted(graph[module]):
            visit(imported, [*trail, module])
        state[module] = "done"

    for module in sorted(graph):
        visit(module, [])


@pytest.mark.parametrize(
    "name",
    [
        "DataPlaneConfig",
        "EmulatorStatistics",
        "HSBEmulator",
        "Impairment",
        "RoceTransmitter",
        "frames_from_gxf",
        "random_loopback_ip",
    ],
)
def test_a_moved_test_double_says_where_it_went(name):
    assert hasattr(holoflow.testing, name)
    moved = rf"^{name} moved to holoflow.testing .*: from holoflow.testing import {name}$"
    with pytest.raises(ImportError, match=moved):
        getattr(holoflow.sensor_bridge, name)
    with pytest.raises(ImportError, match=moved):
        exec(f"from holoflow.sensor_bridge import {name}", {})
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchName'"):
        holoflow.sensor_bridge.NoSuchName  # noqa: B018


def test_command_line_runs_an_emulator_until_stdin_closes():
    ip = random_loopback_ip()
    with subprocess.Popen(
        [sys.executable, "-m", "holoflow.sensor_bridge", "--ip", ip, "--announce-to", "none"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        ready = process.stdout.readline().split()
        rest, _ = process.communicate(timeout=30)  # closes stdin: the emulator stops
    assert ready == ["ready", ip, "8192"]
    assert process.returncode == 0
    statistics = json.loads(rest)
    assert statistics["frames_sent"] == 0
    assert statistics["resets"] == 0
