"""Rendering DOT text with Graphviz, which holoflow does not need to run.

Graphviz's ``dot`` program draws the pictures; it is found on ``PATH``. Where it is missing, the
``graphviz`` Python package (``pip install 'holoflow[graph]'``) is tried, which may know where
Graphviz lives; it is imported only then.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from holoflow.errors import ConfigError, ResourceError

__all__ = ["FORMATS", "dot_to_bytes", "graphviz_available", "render"]

FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}
"""File suffix → what :func:`render` writes (``dot``: the text itself, no Graphviz needed)."""

_MISSING = (
    "Graphviz is not installed: drawing a graph needs its 'dot' program on PATH (Debian/Ubuntu: "
    "apt-get install graphviz; macOS: brew install graphviz; conda: conda install graphviz); "
    "the DOT text itself (.dot) needs nothing"
)
_TIMEOUT_S = 120


def graphviz_available() -> bool:
    """Whether pictures can be drawn: Graphviz's ``dot`` is on ``PATH``, or the ``graphviz``
    Python package is installed and finds it."""
    if shutil.which("dot"):
        return True
    package = _package()
    if package is None:
        return False
    try:
        package.version()
    except Exception:  # the package is there, Graphviz is not
        return False
    return True


def dot_to_bytes(dot: str, fmt: str) -> bytes:
    """Draw ``dot`` with Graphviz in format ``fmt`` (``"svg"``, ``"png"``, or any other format
    Graphviz knows) and return the file's bytes.

    Raises
    ------
    holoflow.errors.ResourceError
        If Graphviz is not installed (the message says how to install it), or it failed (its
        error output is quoted).
    """
    program = shutil.which("dot")
    if program is not None:
        try:
            done = subprocess.run(
                [program, f"-T{fmt}"],
                input=dot.encode(),
                capture_output=True,
                timeout=_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ResourceError(f"Graphviz ({program}) took over {_TIMEOUT_S} s to draw the graph") from exc
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip()
            raise ResourceError(f"Graphviz ({program} -T{fmt}) failed: {message}")
        return done.stdout
    package = _package()
    if package is None:
        raise ResourceError(_MISSING)
    try:
        result: bytes = package.Source(dot).pipe(format=fmt)
    except package.ExecutableNotFound as exc:
        raise ResourceError(f"{_MISSING} (the graphviz Python package found no Graphviz either)") from exc
    except package.CalledProcessError as exc:
        raise ResourceError(f"Graphviz failed: {exc}") from exc
    return result


def render(dot: str, path: str | os.PathLike[str]) -> Path:
    """Write ``dot`` to ``path``, drawn as the suffix says: ``.svg`` or ``.png`` (needs
    Graphviz), ``.dot`` or ``.gv`` (the text itself). Returns the path written.

    Raises
    ------
    holoflow.errors.ConfigError
        If the suffix is none of :data:`FORMATS`.
    holoflow.errors.ResourceError
        If Graphviz is needed and not installed, or failed.
    """
    target = Path(path)
    fmt = FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ConfigError(
            f"cannot tell how to write {str(target)!r}: its suffix must be one of {', '.join(FORMATS)}"
        )
    if fmt == "dot":
        target.write_text(dot, encoding="utf-8")
    else:
        target.write_bytes(dot_to_bytes(dot, fmt))
    return target


def _package() -> Any:
    """The ``graphviz`` Python package, or ``None``."""
    try:
        import graphviz
    except ImportError:
        return None
    return graphviz
