"""Running a script in a fresh interpreter in which chosen packages cannot be imported."""

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


def run_without(blocked: Sequence[str], script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (Python source, dedented) in a new interpreter where importing any package
    named in ``blocked`` (top-level names) raises ImportError; ``BLOCKED`` and ``sys`` are defined
    for the script. Returns the finished process with its text output."""
    source = _PRELUDE.format(blocked=tuple(blocked)) + textwrap.dedent(script)
    return subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, timeout=timeout, check=False
    )
