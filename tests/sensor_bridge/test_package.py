"""The package's shape: what it imports, the test doubles' home, the emulator's command line."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import holoflow.sensor_bridge
import holoflow.testing
from holoflow.testing import random_loopback_ip

PACKAGE = Path(holoflow.sensor_bridge.__file__).parent
# a subsystem imports itself, tensor, errors and the ground modules only
ALLOWED = {
    "holoflow.sensor_bridge",
    "holoflow.errors",
    "holoflow.tensor",
    "holoflow._env",
    "holoflow._helpers",
    "holoflow._progress",
}


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


def test_modules_import_only_errors_tensor_and_ground_modules():
    offending = []
    for path in sorted(PACKAGE.glob("*.py")):
        for name, line in _imports(path):
            if path.name == "__main__.py" and name == "holoflow.testing":
                continue  # the command line runs the emulator
            if path.name == "__init__.py" and name == "holoflow.testing":
                continue  # the lazy aliases of the moved test doubles
            if not any(name == a or name.startswith(a + ".") for a in ALLOWED):
                offending.append(f"{path.name}:{line} {name}")
    assert not offending, offending


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


def test_importing_the_package_leaves_testing_unimported():
    script = textwrap.dedent(
        """
        import sys
        import holoflow.sensor_bridge as sb
        assert "holoflow.testing" not in sys.modules, "imported at import time"
        emulator = sb.HSBEmulator
        import holoflow.testing
        assert emulator is holoflow.testing.HSBEmulator
        try:
            sb.NoSuchName
        except AttributeError as exc:
            assert "NoSuchName" in str(exc)
        else:
            raise AssertionError("no AttributeError")
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_the_old_names_are_the_test_doubles():
    for name in (
        "DataPlaneConfig",
        "EmulatorStatistics",
        "HSBEmulator",
        "Impairment",
        "RoceTransmitter",
        "frames_from_gxf",
        "random_loopback_ip",
    ):
        assert getattr(holoflow.sensor_bridge, name) is getattr(holoflow.testing, name)
        assert name not in holoflow.sensor_bridge.__all__
        assert name in holoflow.testing.__all__


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
