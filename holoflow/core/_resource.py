"""The base class of resources: components an operator holds (allocators, clocks, pools)."""

from __future__ import annotations

from holoflow.core._component import Component

__all__ = ["Resource"]


class Resource(Component):
    """Base class of resources; subclass it to write your own.

    Declare parameters in ``setup(spec)`` like an operator. Operators receive resources as
    positional or keyword arguments and look them up with ``op.resource(name)``.
    """

    _kind = "resource"
    _default_name = "noname_resource"
