"""The documentation site's API reference and Holoscan compatibility table, made from the code
(``tools/docs_site.py``): every public name has its place and its docstring; the site builds
with ``--strict`` where MkDocs is installed (``nox -s docs`` installs it)."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import subprocess
import sys
import types
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_docs_site() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("docs_site", ROOT / "tools" / "docs_site.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docs_site = _load_docs_site()

REQUIRED = [
    "holoflow.core",
    "holoflow.conditions",
    "holoflow.resources",
    "holoflow.schedulers",
    "holoflow.operators",
    "holoflow.tensor",
    "holoflow.gxf",
    "holoflow.inference",
    "holoflow.viz",
    "holoflow.sensor_bridge",
    "holoflow.distributed",
]


def test_every_public_module_has_a_page_or_a_reason():
    import holoflow

    modules = pkgutil.iter_modules(holoflow.__path__)
    public = {f"holoflow.{info.name}" for info in modules if not info.name.startswith("_")}
    documented = set(docs_site.reference_modules())
    assert set(REQUIRED) <= documented
    assert public - documented == set(docs_site.UNDOCUMENTED_MODULES)


@pytest.mark.parametrize("module", docs_site.reference_modules())
def test_a_page_names_every_public_name(module):
    page = docs_site.reference_page(module)
    members = page.split("      members:\n", 1)[1]
    listed = [line.strip()[2:] for line in members.splitlines() if line.startswith("        - ")]
    loaded = importlib.import_module(module)
    names = loaded.__all__
    submodules = [name for name in names if isinstance(getattr(loaded, name), types.ModuleType)]
    assert listed == [name for name in names if name not in submodules]
    for name in submodules:
        assert f"`{module}.{name}`" in page


def test_holoscan_names_link_to_their_entries():
    page = docs_site.reference_page("holoflow.core")
    assert "| `holoscan.core.Operator` | [`holoflow.core.Operator`][holoflow.core.Operator] |" in page
    operators = docs_site.reference_page("holoflow.operators")
    assert "`holoscan.operators.holoviz`" in operators, "a per-operator submodule is named too"


def test_the_porting_guide_asks_for_the_table():
    guide = (ROOT / "docs" / "porting_from_holoscan.md").read_text(encoding="utf-8")
    assert guide.count(docs_site.TABLE_MARKER) == 1


def test_compatibility_table_covers_holoscan_46():
    rows = docs_site.compatibility_rows()
    assert len(rows) == 205
    statuses = {holoscan: status for holoscan, _, _, status in rows}
    assert statuses["holoscan.core.Application"] == "available"
    assert statuses["holoscan.conditions.CountCondition"] == "available"
    page = docs_site.compatibility_table()
    available = sum(1 for status in statuses.values() if status == "available")
    assert f"**{available} of 205 import**" in page
    assert page.count("\n| `holoscan") == 205


def test_every_public_class_function_and_submodule_has_a_docstring():
    assert docs_site.undocumented_names() == []


def test_inventory_reader_reads_what_mkdocstrings_writes(tmp_path):
    body = "holoflow.core.Operator py:class 1 reference/holoflow.core/#$ -\nholoflow.core py:module 1 x -\n"
    header = b"# Sphinx inventory version 2\n# Project: holoflow\n# Version: 0.0.0\n# The rest is zlib\n"
    path = tmp_path / "objects.inv"
    path.write_bytes(header + zlib.compress(body.encode()))
    assert docs_site.read_inventory(path) == {"holoflow.core.Operator", "holoflow.core"}
    missing = docs_site.missing_from_inventory(docs_site.read_inventory(path))
    assert "holoflow.core.Application" in missing and "holoflow.core.Operator" not in missing
    path.write_bytes(b"not an inventory")
    with pytest.raises(ValueError, match="not a version 2 Sphinx inventory"):
        docs_site.read_inventory(path)


@pytest.mark.slow
def test_the_site_builds_strictly_with_every_name(tmp_path):
    pytest.importorskip("mkdocs", reason="MkDocs is not installed here: `nox -s docs` builds the site")
    pytest.importorskip("mkdocstrings_handlers.python", reason="mkdocstrings[python] is not installed here")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert docs_site.missing_from_inventory(docs_site.read_inventory(site / "objects.inv")) == []
    porting = (site / "porting_from_holoscan" / "index.html").read_text(encoding="utf-8")
    assert "holoscan.core.Operator" in porting and docs_site.TABLE_MARKER not in porting
