"""``load_app``: GXF application files to a holoflow :class:`Application`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from holoflow.gxf._app import _registry as reg
from holoflow.gxf._app._build import GXFApplication, plan
from holoflow.gxf._app._yaml import parse_files

if TYPE_CHECKING:
    from holoflow.core import Application

__all__ = ["load_app"]

AppPaths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def load_app(paths: AppPaths, *, extensions: Sequence[str] = ()) -> Application:
    """Load one or more GXF application files (the YAML graphs ``gxe`` runs) as an application.

    ``paths`` is one path or a sequence of them; the entities of all files join one graph, in
    order, as when ``gxe`` loads several (a document naming an entity defined earlier adds its
    components to it). ``extensions`` names modules to import first: each registers the
    :class:`~holoflow.gxf.Codelet` subclasses it defines (see :func:`register_type`); codelets
    of installed packages register through the entry-point group ``holoflow.gxf_codelets``.

    Returns an :class:`~holoflow.core.Application`, already composed (its operators are in
    ``app.graph``); call its ``run()``. Relative paths inside the files (a replayer's
    ``directory``) are relative to the working directory, as with ``gxe``.

    Raises
    ------
    holoflow.errors.GXFAppError
        For a bad file, or a value a holoflow component refuses: the message names the file,
        document, entity, component and line.
    holoflow.errors.ConfigError
        If an extension or entry point cannot be imported.
    """
    files = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    if not files:
        raise ValueError("load_app: give at least one file")
    for module in extensions:
        reg.load_extension(module)
    reg.load_entry_points()
    app = GXFApplication(plan(parse_files(files)), [os.fspath(f) for f in files])
    app.compose_graph()  # so that a value a component refuses fails here, at its place
    return app
