"""The sample apps by name, imported only when run."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from holoflow.apps._base import SampleApp

__all__ = ["APPS", "app_class", "run"]

APPS = ("endoscopy_tool_tracking", "ultrasound_segmentation")
"""The names of the sample apps (``python -m holoflow.apps.NAME``, ``holoflow run NAME``)."""

_CLASSES = {
    "endoscopy_tool_tracking": "EndoscopyToolTrackingApp",
    "ultrasound_segmentation": "UltrasoundSegmentationApp",
}


def app_class(name: str) -> type[SampleApp]:
    """The application class of sample app ``name`` (its module is imported now).

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`APPS`.
    """
    if name not in APPS:
        raise ValueError(f"unknown sample app {name!r}; available: {', '.join(APPS)}")
    module = importlib.import_module(f"holoflow.apps.{name}")
    found: type[SampleApp] = getattr(module, _CLASSES[name])
    return found


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
