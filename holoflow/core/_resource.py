"""The base class of resources: components an operator holds (allocators, clocks, pools)."""

from __future__ import annotations

import enum
from typing import Any

from holoflow.core._component import Component

__all__ = ["Resource", "StreamPool"]


class Resource(Component):
    """Base class of resources; subclass it to write your own.

    Declare parameters in ``setup(spec)`` like an operator. Operators receive resources as
    positional or keyword arguments and look them up with ``op.resource(name)``.
    """

    class ResourceType(enum.Enum):
        """How a resource is implemented."""

        NATIVE = 0
        GXF = 1

    _kind = "resource"
    _default_name = "noname_resource"

    @property
    def resource_type(self) -> Resource.ResourceType:
        """``ResourceType.NATIVE``: every holoflow resource is implemented in Python."""
        return Resource.ResourceType.NATIVE


class StreamPool(Resource):
    """A resource that hands out CUDA streams; an operator holding one takes its streams from it.

    Subclasses implement :meth:`allocate_stream` and :meth:`release_stream`
    (:class:`~holoflow.resources.CudaStreamPool` is the built-in one).
    """

    _default_name = "stream_pool"

    def allocate_stream(self) -> Any:
        """A stream object whose ``ptr`` is the ``cudaStream_t``."""
        raise NotImplementedError(f"{type(self).__name__} must implement allocate_stream()")

    def release_stream(self, stream: Any) -> None:
        """Take back a stream given by :meth:`allocate_stream`."""
        raise NotImplementedError(f"{type(self).__name__} must implement release_stream(stream)")
