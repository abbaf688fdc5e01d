"""``PoseTreeManager``: a resource that owns one ``PoseTree`` for the operators of a fragment.

Register it as a fragment service and every operator reaches the same tree::

    # in compose()
    self.register_service(PoseTreeManager(self, name="pose_tree", number_frames=64))
    # in an operator
    self.pose_tree = self.service(PoseTreeManager, "pose_tree").tree

The tree is built (``PoseTree.init`` with the manager's sizes) the first time :attr:`tree` is
read or the run initializes the resource, so operators may use it from their constructors, as
Holoscan's examples do. Holoscan 4.6 builds it only when the run initializes the resource (before
that ``tree`` is ``None``); Holoscan 3.x built it with the manager, as holoflow in effect does.
The UCX parameters are kept for the distributed case, which holoflow does not run.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from holoflow.core import Resource
from holoflow.errors import ConfigError
from holoflow.pose_tree._tree import PoseTree
from holoflow.pose_tree._ucx import distributed_only

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["PoseTreeManager"]

_TREE_SIZES = (
    "number_frames",
    "number_edges",
    "history_length",
    "default_number_edges",
    "default_history_length",
    "edges_chunk_size",
    "history_chunk_size",
)
_UCX_SETTINGS = (
    "request_timeout_ms",
    "request_poll_sleep_us",
    "worker_progress_sleep_us",
    "server_shutdown_timeout_ms",
    "server_shutdown_poll_sleep_ms",
    "maximum_clients",
)
_PARAMETERS: dict[str, tuple[int, str]] = {
    "port": (13337, "Port the UCX server listens on in a distributed application."),
    "number_frames": (1024, "Maximum number of frames."),
    "number_edges": (16384, "Maximum number of edges."),
    "history_length": (1048576, "Maximum number of poses over all edges."),
    "default_number_edges": (16, "Edge slots of a frame made by create_frame_with_id."),
    "default_history_length": (1024, "Poses kept by an edge that set() creates."),
    "edges_chunk_size": (4, "Edge slots are handed out in chunks of this size."),
    "history_chunk_size": (64, "Pose slots are handed out in chunks of this size."),
    "request_timeout_ms": (5000, "Timeout of a UCX client request, in milliseconds."),
    "request_poll_sleep_us": (10, "Sleep between two polls of a UCX request, in microseconds."),
    "worker_progress_sleep_us": (100, "Sleep in the UCX progress loop, in microseconds."),
    "server_shutdown_timeout_ms": (1000, "Timeout of the UCX server's shutdown, in milliseconds."),
    "server_shutdown_poll_sleep_ms": (10, "Sleep between polls while the UCX server shuts down, in ms."),
    "maximum_clients": (1024, "Maximum number of UCX clients."),
}
"""Holoscan's parameters of the manager: default and description."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class PoseTreeManager(Resource):
    """Holds one :class:`PoseTree` shared by the components of a fragment (Holoscan's
    ``holoscan.pose_tree.PoseTreeManager``).

    Parameters
    ----------
    fragment : Fragment or Subgraph
        The owner.
    port : int
        UCX server port in a distributed application, in [1024, 65535] (kept, not used).
    number_frames, number_edges, history_length, default_number_edges, default_history_length,
    edges_chunk_size, history_chunk_size : int
        The tree's sizes, passed to ``PoseTree.init`` (all > 0).
    request_timeout_ms, request_poll_sleep_us, worker_progress_sleep_us,
    server_shutdown_timeout_ms, server_shutdown_poll_sleep_ms, maximum_clients : int
        UCX settings of the distributed case (kept, not used).
    name : str
        The resource's name, which is also its service id.

    Raises
    ------
    holoflow.errors.ConfigError
        If a size is not a positive int, the port is outside [1024, 65535], or a UCX setting is
        not an int >= 0 (also when a later ``add_arg`` makes it so, at the tree's building).
    """

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        port: int = 13337,
        number_frames: int = 1024,
        number_edges: int = 16384,
        history_length: int = 1048576,
        default_number_edges: int = 16,
        default_history_length: int = 1024,
        edges_chunk_size: int = 4,
        history_chunk_size: int = 64,
        request_timeout_ms: int = 5000,
        request_poll_sleep_us: int = 10,
        worker_progress_sleep_us: int = 100,
        server_shutdown_timeout_ms: int = 1000,
        server_shutdown_poll_sleep_ms: int = 10,
        maximum_clients: int = 1024,
        name: str = "noname_resource",
    ) -> None:
        self._tree: PoseTree | None = None
        self._tree_lock = threading.Lock()
        super().__init__(
            fragment,
            name=name,
            port=port,
            number_frames=number_frames,
            number_edges=number_edges,
            history_length=history_length,
            default_number_edges=default_number_edges,
            default_history_length=default_history_length,
            edges_chunk_size=edges_chunk_size,
            history_chunk_size=history_chunk_size,
            request_timeout_ms=request_timeout_ms,
            request_poll_sleep_us=request_poll_sleep_us,
            worker_progress_sleep_us=worker_progress_sleep_us,
            server_shutdown_timeout_ms=server_shutdown_timeout_ms,
            server_shutdown_poll_sleep_ms=server_shutdown_poll_sleep_ms,
            maximum_clients=maximum_clients,
        )
        self._check()

    def setup(self, spec: Any) -> None:
        """Declare the tree sizes, the port and the UCX settings with Holoscan's defaults."""
        for key, (default, description) in _PARAMETERS.items():
            spec.param(key, default, description=description)

    def _check(self) -> None:
        """Raise ConfigError for a parameter the tree or a server could not take."""
        for key in _TREE_SIZES:
            value = getattr(self, key)
            if not _is_int(value) or value <= 0:
                raise ConfigError(f"{self._label()}: {key} must be an int > 0, got {value!r}")
        port = getattr(self, "port")  # noqa: B009 - bound by the spec, unknown to type checkers
        if not _is_int(port) or not 1024 <= port <= 65535:
            raise ConfigError(f"{self._label()}: port must be an int in [1024, 65535], got {port!r}")
        for key in _UCX_SETTINGS:
            value = getattr(self, key)
            if not _is_int(value) or value < 0:
                raise ConfigError(f"{self._label()}: {key} must be an int >= 0, got {value!r}")

    @property
    def tree(self) -> PoseTree:
        """The managed tree (built with the manager's sizes on first use)."""
        tree = self._tree
        if tree is None:
            with self._tree_lock:
                tree = self._tree
                if tree is None:
                    self._check()
                    tree = PoseTree()
                    tree.init(**{key: getattr(self, key) for key in _TREE_SIZES})
                    self._tree = tree
        return tree

    def initialize(self) -> None:
        """Build the tree if nothing has used it yet (called once per run)."""
        _ = self.tree

    # Holoscan's DistributedAppService hooks: serving or joining a distributed tree.
    def driver_start(self, driver_ip: str) -> None:  # noqa: ARG002 - Holoscan's signature
        """Start serving the tree to workers: needs a distributed runtime (raises)."""
        raise distributed_only("PoseTreeManager.driver_start")

    def driver_shutdown(self) -> None:
        """Stop serving the tree to workers: needs a distributed runtime (raises)."""
        raise distributed_only("PoseTreeManager.driver_shutdown")

    def worker_connect(self, driver_ip: str) -> None:  # noqa: ARG002 - Holoscan's signature
        """Mirror the driver's tree: needs a distributed runtime (raises)."""
        raise distributed_only("PoseTreeManager.worker_connect")

    def worker_disconnect(self) -> None:
        """Stop mirroring the driver's tree: needs a distributed runtime (raises)."""
        raise distributed_only("PoseTreeManager.worker_disconnect")
