"""The dependency direction of ``docs/design.md``, read from every import in the package.

Each package may import only the packages its row of ``ALLOWED`` names (plus itself and the
ground modules), and only through their faces: no module imports a private module or a private
name of another package. Type-only imports count too: they are dependencies a reader follows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "holoflow"

GROUND = {"errors", "_env", "_helpers", "_progress", "logger"}
"""Modules anyone may import; they import nothing of holoflow outside the ground (``logger`` reads
its variables through ``_env``)."""

SUBSYSTEM = {"errors", "tensor"}
ALLOWED: dict[str, set[str]] = {
    "tensor": set(),
    "gxf": SUBSYSTEM,
    "kernels": SUBSYSTEM,
    "inference": SUBSYSTEM,
    "viz": SUBSYSTEM,
    "sensor_bridge": SUBSYSTEM,
    "core": SUBSYSTEM,
    "conditions": {"core", *SUBSYSTEM},
    "resources": {"core", *SUBSYSTEM},
    "schedulers": {"core", "conditions", *SUBSYSTEM},
    "flow_graphs": {"core"},
    "executors": {"core", *SUBSYSTEM},
    "network_contexts": {"core", *SUBSYSTEM},
    "decorator": {"core", "conditions", *SUBSYSTEM},
    "pose_tree": {"core", *SUBSYSTEM},
    "data_loggers": {"core", *SUBSYSTEM},
    "distributed": {"core", "schedulers", "viz", *SUBSYSTEM},
    "operators": {
        "core",
        "conditions",
        "resources",
        "gxf",
        "kernels",
        "inference",
        "viz",
        "sensor_bridge",
        *SUBSYSTEM,
    },
}
"""What each package may import besides itself and the ground. Packages missing here (``apps``,
``testing``, ``cli``, ``__main__``, ``__init__``) sit on top and may import any face, and so do
the ``__main__`` modules of packages (entry points, run as scripts)."""

UPPER_PARTS = {("gxf", "_app"): "gxf._app"}
"""Sub-packages that form a layer of their own on top (missing from ``ALLOWED``): ``gxf._app``
loads GXF application files into runtime graphs, while the rest of ``gxf`` works without the
runtime (its face reaches the loader only through a lazy ``__getattr__``)."""


LAZY_FACES = {("holoflow/gxf/__init__.py", "gxf._app")}
"""(file, layer) pairs where a face re-exports an upper layer's names through a module
``__getattr__`` (imported on first use, so importing the face does not load the layer)."""


def _package(parts: tuple[str, ...] | list[str]) -> str:
    """The layer a module (its dotted parts below ``holoflow``) belongs to."""
    return UPPER_PARTS.get(tuple(parts[:2]), parts[0])


def _imports() -> list[tuple[str, str, str, str]]:
    """(file, importing package, imported package, dotted name imported) for every import."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        package = _package(parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == "holoflow":
                    names = [f"holoflow.{alias.name}" for alias in node.names]
                elif node.module.startswith("holoflow."):
                    names = [f"{node.module}.{alias.name}" for alias in node.names]
                else:
                    continue
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names if alias.name.startswith("holoflow.")]
            else:
                continue
            file = str(path.relative_to(PACKAGE.parent))
            found.extend((file, package, _package(name.split(".")[1:]), name) for name in names)
    return found


IMPORTS = _imports()


def test_the_scan_sees_the_package():
    assert len(IMPORTS) > 300
    assert ("holoflow/schedulers/_threaded.py", "schedulers", "core", "holoflow.core.Scheduler") in IMPORTS


def test_no_private_import_across_packages():
    bad = [
        f"{file}: {name}"
        for file, package, target, name in IMPORTS
        if target != package
        and target not in GROUND
        and any(part.startswith("_") for part in name.split(".")[1 + len(target.split(".")) :])
    ]
    assert not bad, "import these through the package's face:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_its_layer_allows(package):
    allowed = ALLOWED[package] | GROUND | {package}
    bad = sorted(
        {
            f"{file}: {name}"
            for file, p, target, name in IMPORTS
            if p == package
            and target not in allowed
            and not file.endswith("/__main__.py")
            and (file, target) not in LAZY_FACES
        }
    )
    assert not bad, f"{package} may import only {sorted(allowed)}:\n" + "\n".join(bad)


def test_the_ground_imports_only_the_ground():
    bad = [
        f"{file}: {name}"
        for file, package, target, name in IMPORTS
        if package in GROUND and target not in GROUND
    ]
    assert not bad, bad


def test_the_layers_have_no_cycle():
    """The table itself is a DAG, so the packages it admits can never import in a circle."""
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(package: str, path: list[str]) -> None:
        assert package not in visiting, " -> ".join([*path, package])
        if package in done:
            return
        visiting.add(package)
        for dependency in ALLOWED.get(package, set()) - GROUND:
            visit(dependency, [*path, package])
        visiting.discard(package)
        done.add(package)

    for package in ALLOWED:
        visit(package, [])
