"""The sample apps by name, imported only when run."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

__all__ = ["APPS", "run"]

APPS = ("endoscopy_tool_tracking", "ultrasound_segmentation")
"""The names of the sample apps (``python -m holoflow.apps.NAME``, ``holoflow run NAME``)."""


def run(name: str, argv: Sequence[str] | None = None) -> int:
    """Run sample app ``name`` with command-line flags ``argv``; returns the exit status.

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`APPS`.
    """
    if name not in APPS:
        raise ValueError(f"unknown sample app {name!r}; available: {', '.join(APPS)}")
    module = importlib.import_module(f"holoflow.apps.{name}")
    status: int = module.main(argv)
    return status
