"""Running a script in a fresh interpreter in which chosen packages cannot be imported, or chosen
shared libraries cannot be loaded."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence

_PRELUDE = """\
import importlib.abc, sys
BLOCKED = {blocked!r}
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"blocked {{name}}")
sys.meta_path.insert(0, _Block())
"""

_NO_LIBRARIES = """\
import ctypes
_REFUSED = {refused!r}
_load = ctypes.CDLL.__init__
def _refuse(self, name, *args, **kwargs):
    if name and any(part in str(name) for part in _REFUSED):
        raise OSError(f"{{name}}: cannot open shared object file: No such file or directory")
    _load(self, name, *args, **kwargs)
ctypes.CDLL.__init__ = _refuse
"""


def run_without(blocked: Sequence[str], script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (Python source, dedented) in a new interpreter where importing any package
    named in ``blocked`` (top-level names) raises ImportError; ``BLOCKED`` and ``sys`` are defined
    for the script. Returns the finished process with its text output."""
    return _run(_PRELUDE.format(blocked=tuple(blocked)) + textwrap.dedent(script), timeout)


def run_without_libraries(
    refused: Sequence[str], script: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (Python source, dedented) in a new interpreter whose ``ctypes`` cannot load
    a shared library with any of ``refused`` in its name, as on a machine without it. Returns the
    finished process with its text output."""
    return _run(_NO_LIBRARIES.format(refused=tuple(refused)) + textwrap.dedent(script), timeout)


def _run(source: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=timeout, check=False
    )
