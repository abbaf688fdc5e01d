"""The UCX client and server that share a pose tree between processes: names only.

Holoscan synchronizes the pose trees of a distributed application's fragments over UCX (a
server in the driver, a client in each worker). holoflow does not synchronize pose trees between
processes: the operators of one process share one ``PoseTree`` through ``PoseTreeManager``. The
configuration classes work (they are plain settings); building a client or server raises
:class:`~holoflow.errors.PoseTreeError` saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from holoflow.errors import PoseTreeError

__all__ = [
    "NOT_AVAILABLE",
    "PoseTreeUCXClient",
    "PoseTreeUCXClientConfig",
    "PoseTreeUCXServer",
    "PoseTreeUCXServerConfig",
    "distributed_only",
]

NOT_AVAILABLE = "Not available"


def distributed_only(what: str) -> PoseTreeError:
    """The error for ``what``, which would share a pose tree between processes."""
    return PoseTreeError(
        NOT_AVAILABLE,
        f"{what} shares a pose tree between the processes of a distributed application, which "
        "holoflow does not do: a tree is shared by the operators of one process (every fragment "
        "of a single-process run). Register a PoseTreeManager with fragment.register_service() "
        "and read it with op.service(PoseTreeManager, name).tree",
    )


@dataclass
class PoseTreeUCXServerConfig:
    """Settings of Holoscan's pose-tree UCX server (``holoscan.pose_tree.PoseTreeUCXServerConfig``)."""

    worker_progress_sleep_us: int = 100
    """Microseconds between two turns of the server's progress loop."""
    shutdown_timeout_ms: int = 1000
    """Longest wait for the server to stop."""
    shutdown_poll_sleep_ms: int = 10
    """Milliseconds between two checks while stopping."""
    maximum_clients: int = 1024
    """Most clients served at once."""


@dataclass
class PoseTreeUCXClientConfig:
    """Settings of Holoscan's pose-tree UCX client (``holoscan.pose_tree.PoseTreeUCXClientConfig``)."""

    request_timeout_ms: int = 5000
    """Longest wait for the server to answer a request."""
    request_poll_sleep_us: int = 10
    """Microseconds between two checks for an answer."""
    worker_progress_sleep_us: int = 100
    """Microseconds between two turns of the client's progress loop."""


class PoseTreeUCXServer:
    """Holoscan's server that publishes a pose tree to other processes; not available in holoflow.

    Raises
    ------
    holoflow.errors.PoseTreeError
        Always ("Not available"), explaining what to use instead.
    """

    def __init__(self, pose_tree: Any, config: PoseTreeUCXServerConfig | None = None) -> None:  # noqa: ARG002 - Holoscan's signature
        raise distributed_only("PoseTreeUCXServer")


class PoseTreeUCXClient:
    """Holoscan's client that mirrors another process's pose tree; not available in holoflow.

    Raises
    ------
    holoflow.errors.PoseTreeError
        Always ("Not available"), explaining what to use instead.
    """

    def __init__(self, pose_tree: Any, config: PoseTreeUCXClientConfig | None = None) -> None:  # noqa: ARG002 - Holoscan's signature
        raise distributed_only("PoseTreeUCXClient")
