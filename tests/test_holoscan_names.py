"""Every public name of Holoscan 4.6 imports from the same path with ``holoscan`` -> ``holoflow``.

``data/holoscan-4.6-names.json`` lists, per module, what Holoscan 4.6 exports: each module's
``__all__``, plus ``holoscan.data_loggers.SimpleTextSerializer`` (imported eagerly and documented,
but left out of ``__all__``). A name is importable when ``from <module> import <name>`` works,
which also finds submodules (``from holoflow.operators import holoviz``).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

NAMES_FILE = Path(__file__).parent / "data" / "holoscan-4.6-names.json"


def _holoscan_names() -> list[tuple[str, str]]:
    table = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    return [
        (module.replace("holoscan", "holoflow", 1), name)
        for module, names in table.items()
        if not module.startswith("_")
        for name in names
    ]


NAMES = _holoscan_names()


def _importable(module: str, name: str) -> bool:
    """Whether ``from module import name`` succeeds."""
    try:
        namespace = {}
        exec(f"from {module} import {name}", namespace)
    except ImportError:
        return False
    return True


def test_the_list_is_holoscan_46():
    assert len(NAMES) == 205
    assert len({module for module, _ in NAMES}) == 14
    assert ("holoflow.data_loggers", "SimpleTextSerializer") in NAMES


@pytest.mark.parametrize(("module", "name"), NAMES)
def test_name_imports_from_the_holoscan_path(module, name):
    assert _importable(module, name), f"from {module} import {name}"


def test_all_205_names_are_available():
    assert [pair for pair in NAMES if not _importable(*pair)] == []


def test_holoflow_modules_export_what_they_import():
    """A name found at a Holoscan path is in that module's ``__all__`` (or is a submodule)."""
    missing = []
    for module, name in NAMES:
        if name == "__version__":
            continue
        loaded = importlib.import_module(module)
        value = getattr(loaded, name, None)
        if value is None:  # a submodule that ``from ... import`` loads
            importlib.import_module(f"{module}.{name}")
            continue
        if isinstance(value, type(importlib)):
            continue
        if name not in getattr(loaded, "__all__", ()):
            missing.append(f"{module}.{name}")
    assert not missing, missing
