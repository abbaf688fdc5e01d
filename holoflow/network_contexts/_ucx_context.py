"""``UcxContext``: Holoscan's UCX network context for distributed applications."""

from __future__ import annotations

from typing import Any

from holoflow.core import NetworkContext
from holoflow.errors import NotSupportedError

__all__ = ["UcxContext"]


class UcxContext(NetworkContext):
    """Holoscan's UCX network context for distributed applications. Constructing one raises.

    Raises
    ------
    holoflow.errors.NotSupportedError
        Always, until holoflow runs distributed applications: compose every operator in one
        ``Application`` (connections inside it need no network context).
    """

    def __init__(self, fragment: Any, *_args: Any, **_kwargs: Any) -> None:  # noqa: ARG002
        raise NotSupportedError(
            "UcxContext: holoflow does not run distributed applications yet (no UCX transport "
            "between fragments); compose every operator in one Application, where connections "
            "need no network context"
        )
