"""``load_app``: GXF application files to a holoflow :class:`Application`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from holoflow.core import Application

__all__ = ["load_app"]

AppPaths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def load_app(paths: AppPaths, *, extensions: Sequence[str] = ()) -> Application:
    """Load one or more GXF application files into an :class:`Application`.

    ``paths`` is one path or a sequence of them; the entities of all files join one graph, as
    when ``gxe`` loads several. ``extensions`` names modules that register Python codelets.
    """
    raise NotImplementedError("in progress")
