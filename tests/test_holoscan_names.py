"""Every public name of Holoscan 4.6 imports from the same path with ``holoscan`` -> ``holoflow``.

``data/holoscan-4.6-names.json`` lists, per module, what Holoscan 4.6 exports: each module's
``__all__``, plus ``holoscan.data_loggers.SimpleTextSerializer`` (imported eagerly and documented,
but left out of ``__all__``). A name is importable when ``from <module> import <name>`` works,
which also finds submodules (``from holoflow.operators import holoviz``).

``PENDING`` names the ones not built yet, each with where it comes from. They must stay missing
until they are built: a pending name that imports fails the test until it is taken off the list,
so the list always says what is true.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

NAMES_FILE = Path(__file__).parent / "data" / "holoscan-4.6-names.json"

PENDING_MODULES: dict[str, str] = {}
"""Whole modules not built yet (module → where it will come from): every name in them is pending."""

PENDING: dict[tuple[str, str], str] = {}
"""Single names not built yet, by (holoflow module, name) → where they will come from."""


def _holoscan_names() -> list[tuple[str, str]]:
    table = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    return [
        (module.replace("holoscan", "holoflow", 1), name)
        for module, names in table.items()
        if not module.startswith("_")
        for name in names
    ]


NAMES = _holoscan_names()


def _is_pending(module: str, name: str) -> bool:
    return module in PENDING_MODULES or (module, name) in PENDING


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


def test_every_pending_entry_is_a_holoscan_name():
    listed = set(NAMES)
    assert set(PENDING) <= listed, sorted(set(PENDING) - listed)
    modules = {module for module, _ in NAMES} | {f"{m}.{n}" for m, n in NAMES}
    assert set(PENDING_MODULES) <= modules, sorted(set(PENDING_MODULES) - modules)


@pytest.mark.parametrize(("module", "name"), [pair for pair in NAMES if not _is_pending(*pair)])
def test_name_imports_from_the_holoscan_path(module, name):
    assert _importable(module, name), f"from {module} import {name}"


@pytest.mark.parametrize(("module", "name"), [pair for pair in NAMES if _is_pending(*pair)])
def test_pending_name_is_still_missing(module, name):
    where = PENDING_MODULES.get(module) or PENDING[(module, name)]
    assert not _importable(module, name), (
        f"from {module} import {name} works now: take it off PENDING ({where})"
    )


def test_count_of_names_available():
    available = [pair for pair in NAMES if _importable(*pair)]
    pending = [pair for pair in NAMES if _is_pending(*pair)]
    assert len(available) + len(pending) == len(NAMES)


def test_holoflow_modules_export_what_they_import():
    """A name found at a Holoscan path is in that module's ``__all__`` (or is a submodule)."""
    missing = []
    for module, name in NAMES:
        if _is_pending(module, name) or name == "__version__":
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
