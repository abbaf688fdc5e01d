"""The pages of the documentation site made from the code, and the checks that fail its build.

MkDocs loads this file as a hook (``hooks:`` in ``mkdocs.yml``):

- :func:`on_files` adds the API reference, a page per public module of holoflow
  (``reference/<module>.md``: the module's ``__all__``, each Holoscan name it mirrors linked to
  its entry) and the reference index;
- :func:`on_page_markdown` puts the Holoscan compatibility table (from
  ``tests/data/holoscan-4.6-names.json`` and what imports here) where a page has the line
  :data:`TABLE_MARKER` (the porting guide), and points links to the repository's examples and
  benchmarks at the repository;
- :func:`on_post_build` fails the build (as ``--strict`` fails it for a broken link) when a
  public name is missing from the site's inventory (``objects.inv``) or has no docstring.

The page texts come from plain functions (:func:`reference_page`, :func:`compatibility_table`,
...) that the tests call without building the site.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import pkgutil
import types
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NAMES_FILE = ROOT / "tests" / "data" / "holoscan-4.6-names.json"
HOLOSCAN_API = "https://docs.nvidia.com/holoscan/sdk-user-guide/api/python/"

TABLE_MARKER = "<!-- holoscan-compatibility-table -->"
"""The line a page puts where the generated compatibility table goes."""

UNDOCUMENTED_MODULES = {
    "holoflow.cli": "the command line, documented by `holoflow --help` and the guide pages",
}
"""Public modules with no reference page, and why."""


@functools.cache
def reference_modules() -> list[str]:
    """``holoflow`` and each public module under it that declares ``__all__`` (sorted), less
    :data:`UNDOCUMENTED_MODULES`."""
    import holoflow

    names = ["holoflow"]
    for info in pkgutil.iter_modules(holoflow.__path__):
        if info.name.startswith("_"):
            continue
        name = f"holoflow.{info.name}"
        if name in UNDOCUMENTED_MODULES:
            continue
        if hasattr(importlib.import_module(name), "__all__"):
            names.append(name)
    return sorted(names)


def public_names(module: str) -> list[str]:
    """``module.__all__``, in its order."""
    return list(importlib.import_module(module).__all__)


def _is_submodule(module: str, name: str) -> bool:
    return isinstance(getattr(importlib.import_module(module), name, None), types.ModuleType)


@functools.cache
def holoscan_names() -> dict[str, list[str]]:
    """Holoscan 4.6's public names by module (``holoscan.core`` ...)."""
    table: dict[str, list[str]] = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    return {module: names for module, names in table.items() if not module.startswith("_")}


def _holoflow_module(holoscan_module: str) -> str:
    return "holoflow" + holoscan_module[len("holoscan") :]


def _summary(module: str | types.ModuleType) -> str:
    """The first paragraph of a module's docstring, on one line."""
    loaded = importlib.import_module(module) if isinstance(module, str) else module
    doc = inspect.getdoc(loaded) or ""
    return doc.split("\n\n")[0].replace("\n", " ").strip()


def _page_path(module: str) -> str:
    return f"reference/{module}.md"


def _holoscan_page(holoscan_module: str) -> str:
    if "." not in holoscan_module:
        return f"{HOLOSCAN_API}holoscan_python_api.html"
    return f"{HOLOSCAN_API}{holoscan_module.replace('.', '_')}.html"


def _resolve(module: str, name: str) -> Any:
    """The object ``from module import name`` gives, or ``None`` when it does not import."""
    try:
        namespace: dict[str, Any] = {}
        exec(f"from {module} import {name}", namespace)
    except ImportError:
        return None
    return namespace[name]


def _kind(value: Any) -> str:
    if isinstance(value, types.ModuleType):
        return "module"
    if inspect.isclass(value):
        return "class"
    if callable(value):
        return "function"
    return "value"


def reference_page(module: str) -> str:
    """The Markdown of ``module``'s reference page."""
    names = public_names(module)
    holoscan_module = "holoscan" + module[len("holoflow") :]
    mirrored = holoscan_names().get(holoscan_module, [])
    lines = [f"# `{module}`", "", _summary(module), ""]
    if mirrored:
        lines += [
            f"Mirrors [`{holoscan_module}`]({_holoscan_page(holoscan_module)}): each Holoscan name below"
            " imports from this module and links to its entry.",
            "",
            "| Holoscan | holoflow |",
            "|---|---|",
        ]
        for name in mirrored:
            if name in names and not _is_submodule(module, name):
                target = f"[`{module}.{name}`][{module}.{name}]"
            else:
                target = _submodule_link(module, name)
            lines.append(f"| `{holoscan_module}.{name}` | {target} |")
        lines.append("")
    submodules = [name for name in names if _is_submodule(module, name)]
    if submodules:
        documented = set(reference_modules())
        lines += ["Submodules:", ""]
        for name in submodules:
            full = f"{module}.{name}"
            label = f"[`{full}`]({full}.md)" if full in documented else f"`{full}`"
            lines.append(f"- {label}: {_summary(getattr(importlib.import_module(module), name))}")
        lines.append("")
    members = "\n".join(f"        - {name}" for name in names if name not in submodules)
    lines += [
        f"::: {module}",
        "    options:",
        "      show_root_heading: false",
        "      show_root_toc_entry: false",
        "      members:",
        members,
        "",
    ]
    return "\n".join(lines)


def _submodule_link(module: str, name: str) -> str:
    value = _resolve(module, name)
    if isinstance(value, types.ModuleType):
        if value.__name__ in reference_modules():
            return f"[`{value.__name__}`]({value.__name__}.md)"
        return f"`{module}.{name}`: {_summary(value)}"
    return "not available" if value is None else f"`{module}.{name}`"


def reference_index() -> str:
    """The Markdown of the reference's first page: one line per module."""
    lines = [
        "# API reference",
        "",
        "One page per public module, made from the code's docstrings. Each module documents what"
        " its `__all__` exports; a name that mirrors a Holoscan name says so at the top of its"
        " page, and the [porting guide's table](../porting_from_holoscan.md#every-holoscan-name) lists"
        " every Holoscan 4.6 name with where it lives here.",
        "",
        "| module | what it holds |",
        "|---|---|",
    ]
    lines += [f"| [`{module}`]({module}.md) | {_summary(module)} |" for module in reference_modules()]
    return "\n".join(lines) + "\n"


def compatibility_rows() -> list[tuple[str, str, str, str]]:
    """``(holoscan name, holoflow name, kind, status)`` for every Holoscan 4.6 public name;
    status is ``available`` or ``missing`` (the name does not import at the Holoscan path with
    ``holoscan`` replaced by ``holoflow``)."""
    rows = []
    for holoscan_module, names in holoscan_names().items():
        module = _holoflow_module(holoscan_module)
        for name in names:
            value = _resolve(module, name)
            status = "missing" if value is None else "available"
            kind = "" if value is None else _kind(value)
            rows.append((f"{holoscan_module}.{name}", f"{module}.{name}", kind, status))
    return rows


def compatibility_table() -> str:
    """The Markdown of the Holoscan compatibility table (made when the site is built), with its
    one-line summary; links are relative to a page in ``docs/``."""
    rows = compatibility_rows()
    available = sum(1 for *_, status in rows if status == "available")
    documented = set(reference_modules())
    lines = [
        f"Every public name of Holoscan 4.6 ({len(rows)} names in {len(holoscan_names())} modules) and"
        f" where it lives in holoflow: **{available} of {len(rows)} import** from the same path with"
        " `holoscan` replaced by `holoflow` (this table is made from the code when the site is built).",
        "",
        "| Holoscan 4.6 | holoflow | kind | status |",
        "|---|---|---|---|",
    ]
    for holoscan_name, name, kind, status in rows:
        module, _, short = name.rpartition(".")
        if name in documented:
            target = f"[`{name}`](reference/{name}.md)"
        elif module in documented and short in public_names(module) and not _is_submodule(module, short):
            target = f"[`{name}`][{name}]"
        else:
            target = f"`{name}`"
        lines.append(f"| `{holoscan_name}` | {target} | {kind} | {status} |")
    return "\n".join(lines) + "\n"


def generated_pages() -> dict[str, str]:
    """Every generated page by its path under ``docs/``."""
    pages = {_page_path(module): reference_page(module) for module in reference_modules()}
    pages["reference/index.md"] = reference_index()
    return pages


# -- checks ------------------------------------------------------------------------------------------


def read_inventory(path: Path) -> set[str]:
    """The object names of a Sphinx inventory (``objects.inv``, version 2) as mkdocstrings
    writes it."""
    data = path.read_bytes()
    lines = data.split(b"\n", 4)
    if len(lines) < 5 or not lines[0].startswith(b"# Sphinx inventory version 2"):
        raise ValueError(f"{path}: not a version 2 Sphinx inventory")
    body = zlib.decompress(lines[4]).decode("utf-8")
    return {line.split(" ", 1)[0] for line in body.splitlines() if line.strip()}


def missing_from_inventory(inventory: set[str]) -> list[str]:
    """``module.name`` for each public name of a reference module the inventory lacks."""
    return [
        f"{module}.{name}"
        for module in reference_modules()
        for name in public_names(module)
        if f"{module}.{name}" not in inventory and not _is_submodule(module, name)
    ]


def undocumented_names() -> list[str]:
    """``module.name`` for each public class, function or submodule of a reference module with
    no docstring of its own (values are documented by their module's page)."""
    missing = []
    for module in reference_modules():
        loaded = importlib.import_module(module)
        for name in public_names(module):
            value = getattr(loaded, name, None)
            kind = _kind(value)
            if kind != "value" and not (value.__doc__ or "").strip():
                missing.append(f"{module}.{name}")
    return missing


# -- MkDocs hooks ------------------------------------------------------------------------------------


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages to the site."""
    from mkdocs.structure.files import File

    for path, text in generated_pages().items():
        files.append(File.generated(config, path, content=text))
    return files


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Put the compatibility table where a page asks for it (:data:`TABLE_MARKER`), and point
    links to files of the repository outside ``docs/`` (``../examples/x.py``) at the
    repository, where the site has no copy of them."""
    if TABLE_MARKER in markdown:
        markdown = markdown.replace(TABLE_MARKER, compatibility_table())
    repository = kwargs["config"]["repo_url"]
    for folder in ("examples", "benchmarks"):
        markdown = markdown.replace(f"](../{folder}/", f"]({repository}/blob/main/{folder}/")
    return markdown


def on_post_build(config: Any) -> None:
    """Fail the build when a public name is missing from the site or has no docstring."""
    from mkdocs.exceptions import PluginError

    inventory = read_inventory(Path(config["site_dir"]) / "objects.inv")
    problems = [f"not in the API reference: {name}" for name in missing_from_inventory(inventory)]
    problems += [f"no docstring: {name}" for name in undocumented_names()]
    if problems:
        raise PluginError("the API reference is incomplete:\n  " + "\n  ".join(problems))
