"""Holoscan's raw-pointer allocation API on allocators: ``allocate``, ``free``, ``block_size``.

An allocator's usual interface in holoflow is ``empty(shape, dtype)``, which returns an array
that frees its memory when the last reference goes. ``allocate(size)`` returns the address of
``size`` bytes instead, for code that passes pointers around (to C, to CUDA kernels); the
allocator keeps the memory alive until ``free(pointer)``.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from holoflow.errors import ResourceError

__all__ = ["RawAllocations"]


def _address(array: Any) -> int:
    interface = getattr(array, "__cuda_array_interface__", None) or array.__array_interface__
    return int(interface["data"][0])


class RawAllocations:
    """Mixed into :class:`~holoflow.resources.Allocator`; needs ``empty`` and ``_label``."""

    block_size: int = 1
    """Bytes per block: 1 for allocators that hand out any number of bytes (block pools set
    their own)."""

    def allocate(self, size: int, type: Any = None) -> int:
        """The address of ``size`` new bytes of ``type`` storage (a ``MemoryStorageType``; the
        allocator's own, else SYSTEM, when omitted), valid until :meth:`free`. 0 for 0 bytes.

        Raises
        ------
        ValueError
            If ``size`` is negative.
        holoflow.errors.ResourceError
            If the allocator cannot give the memory.
        """
        if int(size) < 0:
            raise ValueError(f"{self._label()}: cannot allocate {size} bytes")  # type: ignore[attr-defined]
        if int(size) == 0:
            return 0
        storage = type if type is not None else getattr(self, "storage_type", 2)
        array = self.empty(int(size), np.uint8, storage)  # type: ignore[attr-defined]
        pointer = _address(array)
        with _LOCK:
            self._raw_allocations()[pointer] = array
        return pointer

    def free(self, pointer: int) -> None:
        """Give back memory that :meth:`allocate` returned (0 is ignored).

        Raises
        ------
        holoflow.errors.ResourceError
            If this allocator did not allocate ``pointer`` or it was freed already.
        """
        if int(pointer) == 0:
            return
        with _LOCK:
            array = self._raw_allocations().pop(int(pointer), None)
        if array is None:
            raise ResourceError(
                f"{self._label()}: free({int(pointer):#x}): not an address this allocator gave out, "  # type: ignore[attr-defined]
                "or freed already"
            )

    def _raw_allocations(self) -> dict[int, Any]:
        table: dict[int, Any] | None = vars(self).get("_holoflow_raw")
        if table is None:
            table = {}
            self._holoflow_raw = table
        return table


_LOCK = threading.Lock()
