"""``UcxContext``: Holoscan's UCX network context for distributed applications."""

from __future__ import annotations

from typing import Any

from holoflow.core import NetworkContext

__all__ = ["UcxContext"]


class UcxContext(NetworkContext):
    """Holoscan's UCX network context for distributed applications.

    holoflow picks the transport between fragments itself (in one process: in-process links;
    see ``docs/distributed.md``), so a fragment may set one with ``network_context(...)`` and
    it changes nothing. Holoscan's arguments (``cpu_data_only``, ``enable_async``) are kept in
    :attr:`settings`.
    """

    def __init__(self, fragment: Any, *args: Any, name: str = "ucx_context", **kwargs: Any) -> None:
        self.settings: dict[str, Any] = dict(kwargs)
        """The keyword arguments given (Holoscan's UCX tuning), unused."""
        super().__init__(fragment, *args, name=name)
