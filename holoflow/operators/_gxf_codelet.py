"""``GXFCodeletOp``: Holoscan's operator that runs a C++ GXF codelet. holoflow cannot run one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from holoflow.core import Operator
from holoflow.errors import NotSupportedError

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["GXFCodeletOp"]


class GXFCodeletOp(Operator):
    """Holoscan's wrapper that runs a GXF codelet (a C++ component of a GXF extension) as an
    operator. holoflow runs graphs without GXF's runtime, so constructing one (or a subclass)
    raises.

    Raises
    ------
    holoflow.errors.NotSupportedError
        Always: write the codelet's work as a ``holoflow.core.Operator`` subclass in Python.
    """

    def __init__(
        self,
        fragment: Fragment | Subgraph,  # noqa: ARG002 - Holoscan's signature
        gxf_typename: str = "",
        *_args: Any,
        **_kwargs: Any,
    ) -> None:
        raise NotSupportedError(
            f"GXFCodeletOp({gxf_typename!r}): a GXF codelet is C++ code for GXF's runtime, which "
            "holoflow does not have; write its work as a holoflow.core.Operator subclass "
            "(compute() in Python)"
        )
