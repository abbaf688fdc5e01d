"""Allocators: where operators get memory for the tensors they emit.

``allocator.empty(shape, dtype)`` returns a numpy array (host storage) or a CuPy array (device
storage) whose memory comes from the allocator. ``UnboundedAllocator`` asks the array library
each time; ``BlockMemoryPool`` hands out blocks it allocated up front.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow._helpers import warn_once
from holoflow.core import Resource
from holoflow.errors import CPUFallbackWarning, ResourceError
from holoflow.resources._raw_allocation import RawAllocations
from holoflow.tensor import cuda_available, host_buffer, require_cuda

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["Allocator", "MemoryStorageType", "UnboundedAllocator", "device_falls_back_to_host"]


class MemoryStorageType(enum.IntEnum):
    """Kinds of memory, numbered as in GXF."""

    HOST = 0
    """Page-locked (pinned) host memory when CUDA is present, else ordinary host memory."""
    DEVICE = 1
    """CUDA device memory (needs CuPy and a device)."""
    SYSTEM = 2
    """Host memory; pinned when CUDA is present, so device copies from it are fast."""
    CUDA_MANAGED = 3
    """CUDA managed (unified) memory."""


class Allocator(RawAllocations, Resource):
    """Base class of allocators (``allocate`` / ``free`` / ``block_size``: see
    :class:`~holoflow.resources._raw_allocation.RawAllocations`)."""

    _default_name = "allocator"

    def empty(self, shape: int | tuple[int, ...], dtype: Any = np.uint8, storage_type: Any = None) -> Any:
        """An uninitialized array of ``shape`` and ``dtype`` from this allocator."""
        raise NotImplementedError(f"{type(self).__name__} must implement empty()")

    def is_available(self, size: int) -> bool:
        """Whether ``size`` bytes can be allocated now."""
        raise NotImplementedError(f"{type(self).__name__} must implement is_available()")


class UnboundedAllocator(Allocator):
    """Allocates from the array libraries on every request; never runs out."""

    _default_name = "unbounded_allocator"

    def __init__(self, fragment: Fragment | Subgraph, name: str = "unbounded_allocator") -> None:
        super().__init__(fragment, name=name)

    def empty(
        self,
        shape: int | tuple[int, ...],
        dtype: Any = np.uint8,
        storage_type: MemoryStorageType | int = MemoryStorageType.SYSTEM,
    ) -> Any:
        """An uninitialized array; device or managed storage is host memory where CUDA is
        missing (see :func:`device_falls_back_to_host`)."""
        storage = MemoryStorageType(storage_type)
        if storage in _CUDA_STORAGE and device_falls_back_to_host(self._label()):
            storage = MemoryStorageType.SYSTEM
        if storage is MemoryStorageType.DEVICE:
            return require_cuda(f"{self._label()}: device storage").empty(shape, dtype=dtype)
        if storage is MemoryStorageType.CUDA_MANAGED:
            cupy = require_cuda(f"{self._label()}: managed storage")
            dtype = np.dtype(dtype)
            count = int(np.prod(shape, dtype=np.int64))
            memory = cupy.cuda.malloc_managed(max(count * dtype.itemsize, 1))
            return cupy.ndarray(shape, dtype=dtype, memptr=memory)
        dtype = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        if storage is MemoryStorageType.HOST and cuda_available():
            buffer, _ = host_buffer(count * dtype.itemsize)
            return buffer.view(dtype).reshape(shape)
        return np.empty(shape, dtype=dtype)

    def is_available(self, size: int) -> bool:
        if size < 0:
            raise ResourceError(f"{self._label()}: negative size {size}")
        return True


_CUDA_STORAGE = (MemoryStorageType.DEVICE, MemoryStorageType.CUDA_MANAGED)


def device_falls_back_to_host(label: str) -> bool:
    """Whether device memory asked for by ``label`` must come from host memory: true where no
    CUDA device (or no CuPy) is available. The first time in a process it warns
    (:class:`~holoflow.errors.CPUFallbackWarning`); Holoscan would need a GPU there."""
    if cuda_available():
        return False
    warn_once(
        "device memory",
        f"{label}: no CUDA device is available, so device memory comes from host memory instead "
        "(shown once; every device pool and allocator of this process falls back the same way)",
        CPUFallbackWarning,
    )
    return True
