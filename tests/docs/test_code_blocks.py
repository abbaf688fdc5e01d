"""Every fenced code block of the user guide is checked against the code it describes.

- ``python``: run as a script in a fresh interpreter (a temporary working directory, the
  repository on ``PYTHONPATH``, strict mode on so a keyword the API does not take fails) and must
  exit 0. A block that cannot run on its own on a CPU-only machine carries a marker among the
  HTML comment lines just above its fence, ``<!-- check: compile (why) -->``: it is compiled and
  its import statements are executed, nothing more. A block marked ``<!-- check: continue -->``
  runs after the page's previous Python blocks, as one program (the page builds it up in steps).
- ``yaml`` / ``json``: parsed.
- ``bash`` / ``sh`` / ``shell`` / ``console``: every ``holoflow SUBCOMMAND`` names a subcommand
  of the command line, every ``python3 -m holoflow...`` a module that exists, and every path
  under ``examples/`` or ``benchmarks/`` a file or folder of the repository.
- Other languages (``text``, ``dot``...) and blocks that only include a file
  (``--8<-- "examples/NAME.py"``, checked elsewhere) are left alone. ``ruff format`` formats the
  Python blocks of Markdown files and would rewrite an include line, so include blocks sit
  between ``<!-- fmt: off -->`` and ``<!-- fmt: on -->``.

Blocks that import a third-party package that is not installed are skipped, naming it (a
compile-only block leaves out just those imports).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import os
import posixpath
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RUN_TIMEOUT_S = 120.0

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*check:\s*(?P<mode>[\w-]+)(?P<why>.*?)-->\s*$")
_HTML_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")
_INCLUDE = re.compile(r"""^\s*-+8<-+\s+["'][^"']+["']\s*$""")
_MODES = {"run", "compile", "continue"}
_SHELLS = {"bash", "sh", "shell", "console", "zsh"}
_CHECKED_TREES = ("examples", "benchmarks")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it opens (``page:line``), its language, its text (the fence's
    indentation removed) and the check mode its marker asks for (``run`` when unmarked)."""

    page: str
    line: int
    language: str
    text: str
    mode: str
    why: str

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def is_include(self) -> bool:
        lines = [line for line in self.text.splitlines() if line.strip()]
        return bool(lines) and all(_INCLUDE.match(line) for line in lines)


def parse_blocks(page: str, source: str) -> list[Block]:
    """The fenced code blocks of one Markdown page, in order. An unclosed fence runs to the end
    of the page, as CommonMark reads it."""
    lines = source.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"].expandtabs())
        language = (opening["info"].strip().split() or [""])[0].strip("{}.").lower()
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = _FENCE.match(lines[j])
            if (
                closing
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
                and not closing["info"].strip()
            ):
                break
            line = lines[j].expandtabs()
            body.append(line[min(indent, len(line) - len(line.lstrip())) :])
            j += 1
        marker = _marker_above(lines, i)
        mode, why = ("run", "") if marker is None else (marker["mode"], marker["why"].strip())
        blocks.append(Block(page, i + 1, language, "\n".join(body) + "\n", mode, why))
        i = j + 1
    return blocks


def _marker_above(lines: list[str], fence: int) -> re.Match[str] | None:
    """The check marker among the HTML comment lines just above line ``fence`` (a marker may
    share them with others, such as ``<!-- fmt: off -->``)."""
    i = fence - 1
    while i >= 0 and _HTML_COMMENT.match(lines[i]):
        marker = _MARKER.match(lines[i])
        if marker is not None:
            return marker
        i -= 1
    return None


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _all_blocks() -> list[Block]:
    blocks: list[Block] = []
    for path in _pages():
        blocks += parse_blocks(path.relative_to(DOCS).as_posix(), path.read_text(encoding="utf-8"))
    return blocks


BLOCKS = [block for block in _all_blocks() if not block.is_include]
PYTHON = [block for block in BLOCKS if block.language in {"python", "py", "python3"}]


def _program(block: Block) -> str:
    """The source a Python block runs as: with ``continue``, the page's earlier blocks back to
    the first that is not a continuation come first."""
    if block.mode != "continue":
        return block.text
    earlier = [b for b in PYTHON if b.page == block.page and b.line < block.line]
    if not earlier:
        raise AssertionError(f"{block.id}: 'check: continue' but no earlier Python block on the page")
    start = len(earlier) - 1
    while earlier[start].mode == "continue" and start > 0:
        start -= 1
    if earlier[start].mode == "compile":
        raise AssertionError(f"{block.id}: continues {earlier[start].id}, which is compile-only")
    return "\n".join(b.text for b in [*earlier[start:], block])


def _imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _missing(module: str) -> bool:
    """Whether ``module`` belongs to a third-party package this machine lacks."""
    top = module.split(".")[0]
    return top != "holoflow" and importlib.util.find_spec(top) is None


def _skip_if_missing_packages(tree: ast.AST) -> None:
    """Skip the test when the block imports a third-party package this machine lacks."""
    missing = sorted({name.split(".")[0] for name in _imported_modules(tree) if _missing(name)})
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")


def _imports_available(node: ast.stmt) -> bool:
    """Whether every module ``node`` (an import statement) imports is installed here."""
    if isinstance(node, ast.Import):
        return not any(_missing(alias.name) for alias in node.names)
    assert isinstance(node, ast.ImportFrom)
    return node.level != 0 or not _missing(node.module or "")


def _available_imports(tree: ast.AST) -> list[ast.stmt]:
    """The block's import statements, less those of third-party packages this machine lacks."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom)) and _imports_available(node)
    ]


def _environment(sample_data: Path | None = None) -> dict[str, str]:
    """The environment a block runs in; ``sample_data`` holds the sample apps' recordings."""
    env = dict(os.environ)
    if sample_data is not None:
        env["HOLOFLOW_DATA"] = str(sample_data)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["HOLOFLOW_STRICT"] = "1"  # a keyword the API does not take is an error, not a warning
    env["MPLBACKEND"] = "Agg"
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


@pytest.fixture(scope="module")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the sample recordings that blocks generate, shared by the blocks."""
    return tmp_path_factory.mktemp("doc_sample_data")


@pytest.mark.parametrize("block", PYTHON, ids=[b.id for b in PYTHON])
def test_python_block(block: Block, tmp_path: Path, sample_data: Path) -> None:
    if block.mode not in _MODES:
        pytest.fail(f"{block.id}: unknown check mode {block.mode!r} (known: {sorted(_MODES)})")
    source = _program(block)
    tree = ast.parse(source, filename=block.id)  # a syntax error fails here, for every mode
    if block.mode == "compile":
        assert re.search(r"\(\s*\S.*\)", block.why), (
            f"{block.id}: a compile-only marker must say why, e.g. <!-- check: compile (needs a GPU) -->"
        )
        compile(tree, block.id, "exec")
        imports = ast.Module(body=_available_imports(tree), type_ignores=[])
        exec(compile(imports, block.id, "exec"), {})
        return
    _skip_if_missing_packages(tree)
    script = tmp_path / "block.py"
    script.write_text(source, encoding="utf-8")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_environment(sample_data),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, (
        f"{block.id} exited {result.returncode} after {time.monotonic() - started:.1f} s\n"
        f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-6000:]}"
    )


def test_markers_sit_on_python_blocks() -> None:
    """A check marker before a block of another language would be silently ignored."""
    misplaced = [b.id for b in BLOCKS if b.mode != "run" and b not in PYTHON]
    assert misplaced == []


def test_the_guide_has_blocks() -> None:
    """The parser finds the guide's blocks (an empty parametrization would pass vacuously)."""
    assert len(PYTHON) > 30
    assert {b.page for b in BLOCKS} >= {"core.md", "tensors.md", "visualization.md"}


def test_parse_blocks_reads_fences_markers_and_includes() -> None:
    page = "\n".join(
        [
            "text",
            "<!-- check: compile (needs a GPU) -->",
            "<!-- fmt: off -->",
            "```python",
            "import cupy",
            "```",
            "- item",
            "",
            "    ````py title='x'",
            "    a = '```'",
            "    ```",
            "    b = 1",
            "    ````",
            "```python",
            '--8<-- "examples/hello_world.py"',
            "```",
            "~~~",
            "plain",
        ]
    )
    first, second, third, fourth = parse_blocks("p.md", page)
    assert (first.line, first.language, first.mode, first.why, first.text) == (
        4,
        "python",
        "compile",
        "(needs a GPU)",
        "import cupy\n",
    )
    assert (second.language, second.mode, second.text) == ("py", "run", "a = '```'\n```\nb = 1\n")
    assert third.is_include and not first.is_include
    assert (fourth.language, fourth.text) == ("", "plain\n")


DATA = [block for block in BLOCKS if block.language in {"yaml", "yml", "json"}]


@pytest.mark.parametrize("block", DATA, ids=[b.id for b in DATA])
def test_data_block(block: Block) -> None:
    if block.language == "json":
        json.loads(block.text)
    else:
        list(yaml.safe_load_all(block.text))


def shell_commands(text: str) -> list[list[str]]:
    """The simple commands of a shell block, as word lists: continuation lines joined, comments
    and ``$ `` prompts removed, split at ``&&``, ``||``, ``;``, ``|`` and ``&``; lines of a
    console block without a prompt (output) are left out when the block has prompts."""
    lines = text.replace("\\\n", " ").splitlines()
    if any(line.lstrip().startswith("$ ") for line in lines):
        lines = [line.lstrip()[2:] for line in lines if line.lstrip().startswith("$ ")]
    commands: list[list[str]] = []
    for line in lines:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in lexer:
            if token and set(token) <= set("&|;"):
                commands.append(words)
                words = []
            else:
                words.append(token)
        commands.append(words)
    return [words for words in commands if words]


@functools.cache
def _subcommand_exists(name: str) -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "holoflow", name, "--help"],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    return result.returncode == 0


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def shell_problems(text: str) -> list[str]:
    """What a shell block names that does not exist: holoflow subcommands, ``python3 -m``
    modules of holoflow, and paths under examples/ or benchmarks/ (relative to the repository
    root, following ``cd`` inside the block)."""
    problems: list[str] = []
    cwd = "."
    for words in shell_commands(text):
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words = words[1:]  # VAR=value prefixes
        if not words:
            continue
        if words[0] == "cd" and len(words) > 1:
            cwd = posixpath.normpath(posixpath.join(cwd, words[1]))
            continue
        if words[0] == "holoflow":
            subcommand = next((w for w in words[1:] if not w.startswith("-")), None)
            if subcommand is not None and not _subcommand_exists(subcommand):
                problems.append(f"no subcommand 'holoflow {subcommand}'")
        if re.fullmatch(r"python3?(\.\d+)?", words[0]) and "-m" in words:
            module = words[words.index("-m") + 1]
            if module.split(".")[0] == "holoflow" and not _module_exists(module):
                problems.append(f"no module {module}")
        for word in words[1:]:
            for part in word.split("="):
                path = posixpath.normpath(posixpath.join(cwd, part))
                if path.split("/")[0] in _CHECKED_TREES and not (ROOT / path).exists():
                    problems.append(f"no file {path}")
    return problems


SHELL = [block for block in BLOCKS if block.language in _SHELLS]


@pytest.mark.parametrize("block", SHELL, ids=[b.id for b in SHELL])
def test_shell_block(block: Block) -> None:
    assert shell_problems(block.text) == []


def test_shell_problems_finds_what_is_missing() -> None:
    text = "\n".join(
        [
            "mkdir -p demo && cd demo   # a comment: holoflow nosuch",
            "holoflow run ../examples/gxf_apps/format_converter.yaml \\",
            "    --extension=../examples/gxf_apps/missing.py",
            "FOO=1 python3 -m holoflow.apps.nosuch --headless | tee out.txt",
            "holoflow nosuchcommand x",
            "python3 benchmarks/ping_chain.py",
        ]
    )
    assert shell_problems(text) == [
        "no file examples/gxf_apps/missing.py",
        "no module holoflow.apps.nosuch",
        "no subcommand 'holoflow nosuchcommand'",
    ]
    assert shell_commands("$ holoflow graph x\nout put\n$ ls") == [["holoflow", "graph", "x"], ["ls"]]
