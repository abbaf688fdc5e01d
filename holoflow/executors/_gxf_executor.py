"""``GXFExecutor``: Holoscan's GXF-based executor, which holoflow does not need."""

from __future__ import annotations

from typing import Any

from holoflow.core import Executor
from holoflow.errors import NotSupportedError

__all__ = ["GXFExecutor"]


class GXFExecutor(Executor):
    """Holoscan's GXF-based executor. holoflow has none: constructing one raises.

    Raises
    ------
    holoflow.errors.NotSupportedError
        Always: use ``fragment.executor`` (or just ``fragment.run()``).
    """

    def __init__(self, app: Any, *_args: Any, **_kwargs: Any) -> None:  # noqa: ARG002
        raise NotSupportedError(
            "GXFExecutor: holoflow runs graphs natively in Python, without GXF, so there is no GXF "
            "executor; every fragment already has its executor (fragment.executor), and "
            "fragment.run() runs the graph"
        )
