"""Holoscan's GXF wrapper classes and ``load_extensions``: the pieces that put Holoscan components
into GXF's C++ runtime.

holoflow has no GXF runtime: operators, conditions, resources and schedulers are Python objects
run by holoflow itself. These names import so that code naming them loads; constructing one (or
calling ``load_extensions``) raises :class:`~holoflow.errors.NotSupportedError` saying what to
use instead. (This package reads and writes GXF *recordings*, which need no runtime.)
"""

from __future__ import annotations

from typing import Any, ClassVar

from holoflow.errors import NotSupportedError

__all__ = [
    "GXFComponent",
    "GXFCondition",
    "GXFExecutionContext",
    "GXFInputContext",
    "GXFNetworkContext",
    "GXFOperator",
    "GXFOutputContext",
    "GXFResource",
    "GXFScheduler",
    "GXFSystemResourceBase",
    "load_extensions",
]

_NO_RUNTIME = "holoflow runs graphs in Python without GXF's C++ runtime, so there is no GXF object to wrap"


class GXFComponent:
    """Base of Holoscan's wrappers around GXF components. Constructing one raises.

    Raises
    ------
    holoflow.errors.NotSupportedError
        Always; the message names what to use instead.
    """

    _instead: ClassVar[str] = "write the component in Python (holoflow.core.Component subclasses)"

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        raise NotSupportedError(f"{type(self).__name__}: {_NO_RUNTIME}; {self._instead}")


class GXFCondition(GXFComponent):
    """Holoscan's wrapper of a GXF scheduling term."""

    _instead = "subclass holoflow.core.Condition, or use the conditions in holoflow.conditions"


class GXFResource(GXFComponent):
    """Holoscan's wrapper of a GXF component used as a resource."""

    _instead = "subclass holoflow.core.Resource, or use the resources in holoflow.resources"


class GXFSystemResourceBase(GXFResource):
    """Holoscan's wrapper of a GXF system resource (thread pools, GPU devices)."""

    _instead = "use holoflow.resources.ThreadPool (fragment.make_thread_pool)"


class GXFNetworkContext(GXFComponent):
    """Holoscan's wrapper of a GXF network context (UCX)."""

    _instead = "compose every operator in one Application; holoflow does not run distributed applications"


class GXFScheduler(GXFComponent):
    """Holoscan's wrapper of a GXF scheduler."""

    _instead = "use GreedyScheduler, MultiThreadScheduler or EventBasedScheduler from holoflow.schedulers"


class GXFOperator(GXFComponent):
    """Holoscan's base of operators that wrap a GXF codelet."""

    _instead = "subclass holoflow.core.Operator and implement compute() in Python"


class GXFExecutionContext(GXFComponent):
    """Holoscan's execution context of a GXF operator."""

    _instead = "compute() receives holoflow's ExecutionContext"


class GXFInputContext(GXFComponent):
    """Holoscan's input context of a GXF operator."""

    _instead = "compute() receives holoflow's InputContext"


class GXFOutputContext(GXFComponent):
    """Holoscan's output context of a GXF operator."""

    _instead = "compute() receives holoflow's OutputContext"


def load_extensions(
    context: Any = None,
    extension_filenames: list[str] | None = None,
    manifest_filenames: list[str] | None = None,
) -> None:
    """Holoscan loads GXF extension libraries into a GXF context; holoflow has neither.

    Raises
    ------
    holoflow.errors.NotSupportedError
        Always: the codelets of a GXF extension are C++ and cannot run in holoflow; write the
        operators they provide in Python.
    """
    files = [*(extension_filenames or ()), *(manifest_filenames or ())]
    raise NotSupportedError(
        f"load_extensions({files}): {_NO_RUNTIME}, and GXF extensions are C++ libraries for that "
        "runtime; write the operators they provide as holoflow.core.Operator subclasses"
    )
