"""Distributed applications: fragments across processes and hosts.

An :class:`~holoflow.core.Application` whose ``compose`` adds fragments (``add_fragment``, or
``add_flow(fragment1, fragment2, {("tx.out", "rx.in")})``) runs through :func:`run_app`: with no
``--driver``/``--worker`` option every fragment runs in this process, each on its own thread,
joined by in-process links; with them, this process plays the driver, a worker or both
(``_roles``), and fragments in other processes are reached over ZeroMQ (``docs/distributed.md``).

Importing this package imports no networking library: pyzmq (the ``distributed`` extra) is
imported when a process takes a role.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from holoflow.core.run import set_fragment_graph_runner
from holoflow.distributed import _codec
from holoflow.distributed._edges import EdgeSpec
from holoflow.distributed._local import run_local
from holoflow.errors import DistributedError, GraphError

if TYPE_CHECKING:
    from holoflow.core import Application

__all__ = ["EdgeSpec", "register_codec", "run_app", "run_local"]


def run_app(app: Application) -> None:
    """Run a composed application that has fragments.

    Raises
    ------
    holoflow.errors.GraphError
        If the application graph holds operators as well as fragments (Holoscan's text).
    holoflow.errors.DistributedError
        If the command line asks for ``--driver`` or ``--worker`` and pyzmq is missing, or the
        distributed run fails (see ``_roles.run_roles``).
    """
    if len(app.graph.get_nodes()):
        raise GraphError(
            "Both fragments and operators are added to the application graph. Please use only one of them."
        )
    options = app.options
    if getattr(options, "run_driver", False) or getattr(options, "run_worker", False):
        try:
            roles = importlib.import_module("holoflow.distributed._roles")
        except ModuleNotFoundError as error:
            if error.name is None or not error.name.startswith("zmq"):
                raise
            raise DistributedError(
                "--driver/--worker: multi-process runs need pyzmq (pip install 'holoflow[distributed]'); "
                "without these options every fragment runs in this process"
            ) from None
        roles.run_roles(app, options)
        return
    run_local(app)


def register_codec(cls: type, name: str, encode: Any, decode: Any) -> None:
    """Let ``cls`` travel between fragments: ``encode(obj)`` returns codec-friendly data,
    ``decode(data)`` rebuilds the object (see ``holoflow.distributed._codec``)."""
    _codec.register_codec(cls, name, encode, decode)


set_fragment_graph_runner(run_app)
