"""A ``holoscan`` package served by holoflow, so that a script written for Holoscan runs unedited.

``write_shim(folder)`` writes ``folder/holoscan/__init__.py``; with ``folder`` first on
``PYTHONPATH``, ``import holoscan.X`` (at any depth) gives the module ``holoflow.X`` itself (the same
module object, so classes are shared), and ``holoscan.name`` reads ``holoflow.name``. A module that
holoflow lacks fails to import with Holoscan's module name in the error, as it would on a Holoscan
install that lacks it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_shim"]

_SHIM = '''"""``holoscan`` imports served by holoflow: ``holoscan.X`` is the module ``holoflow.X``."""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys

import holoflow as _holoflow

_PREFIX = "holoscan."


class _HoloflowModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``holoscan.X`` wherever ``holoflow.X`` exists and loads it as that module."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(_PREFIX):
            return None
        try:
            found = importlib.util.find_spec("holoflow." + fullname[len(_PREFIX):])
        except ModuleNotFoundError:
            return None
        return None if found is None else importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        # The import system returns what sys.modules holds after exec_module: the holoflow module.
        real = importlib.import_module("holoflow." + module.__name__[len(_PREFIX):])
        sys.modules[module.__name__] = real


sys.meta_path.insert(0, _HoloflowModules())


def __getattr__(name):
    return getattr(_holoflow, name)


def __dir__():
    return sorted(set(dir(_holoflow)) | set(globals()))
'''


def write_shim(folder: str | Path) -> Path:
    """Write the ``holoscan`` shim package into ``folder`` (created if missing); return ``folder``.

    Put the returned folder first on ``PYTHONPATH`` (with holoflow importable after it) to run a
    Holoscan script on holoflow.
    """
    folder = Path(folder)
    package = folder / "holoscan"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(_SHIM)
    return folder
