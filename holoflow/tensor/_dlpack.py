"""DLPack capsules in both directions, through ctypes: no array library needed.

Design
======
*Importing.* ``import_capsule(capsule)`` reads a ``DLManagedTensor`` (capsule ``"dltensor"``)
or ``DLManagedTensorVersioned`` (``"dltensor_versioned"``), renames the capsule to its ``used_``
name — the protocol's signal that the consumer now owns the tensor — and returns an
:class:`ImportedTensor` describing the memory. The ``ImportedTensor`` owns the managed tensor:
when it is garbage collected it calls the producer's deleter, which frees the producer's
memory if nothing else holds it.

*Exporting.* ``export_capsule(...)`` builds the managed struct in ctypes memory. The struct,
its shape and strides arrays and the Python owner of the memory sit in ``_EXPORTED`` under the
struct's address until the consumer calls the deleter (or, for a capsule nobody consumed, the
capsule's destructor does). So the owner stays alive exactly as long as some consumer may
still read the memory.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DLPACK_VERSION",
    "FLAG_READ_ONLY",
    "ImportedTensor",
    "contiguous_strides",
    "export_capsule",
    "import_capsule",
]

DLPACK_VERSION = (1, 1)
FLAG_READ_ONLY = 1
FLAG_IS_COPIED = 2


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device", DLDevice),
        ("ndim", ctypes.c_int32),
        ("dtype", DLDataType),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


class DLManagedTensor(ctypes.Structure):
    pass


_Deleter = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
DLManagedTensor._fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", _Deleter)]


class DLPackVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [
        ("version", DLPackVersion),
        ("manager_ctx", ctypes.c_void_p),
        ("deleter", _Deleter),
        ("flags", ctypes.c_uint64),
        ("dl_tensor", DLTensor),
    ]


_api = ctypes.pythonapi
_api.PyCapsule_IsValid.restype = ctypes.c_int
_api.PyCapsule_IsValid.argtypes = [ctypes.py_object, ctypes.c_char_p]
_api.PyCapsule_GetPointer.restype = ctypes.c_void_p
_api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_api.PyCapsule_SetName.restype = ctypes.c_int
_api.PyCapsule_SetName.argtypes = [ctypes.py_object, ctypes.c_char_p]
_api.PyCapsule_New.restype = ctypes.py_object
_Destructor = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, _Destructor]
_capsule_is_valid = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_IsValid", _api)
)
_capsule_get_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api)
)

# Names handed to PyCapsule_New / SetName must outlive the capsules: module constants do.
_LEGACY = b"dltensor"
_VERSIONED = b"dltensor_versioned"
_USED_LEGACY = b"used_dltensor"
_USED_VERSIONED = b"used_dltensor_versioned"


@dataclass(frozen=True, slots=True)
class ImportedTensor:
    """What an imported DLPack tensor describes; keeps the producer's memory alive."""

    data: int
    """Address of the first element (``data + byte_offset``)."""
    shape: tuple[int, ...]
    """Extent of each dimension."""
    strides: tuple[int, ...]
    """Stride of each dimension in **bytes**."""
    dtype: tuple[int, int, int]
    """DLPack data type as ``(code, bits, lanes)``."""
    device: tuple[int, int]
    """DLPack device as ``(device_type, device_id)``."""
    read_only: bool
    """Whether the producer marked the memory read-only."""
    owner: _ManagedHandle
    """Calls the producer's deleter when garbage collected."""


class _ManagedHandle:
    """Owns one consumed managed tensor; calls its deleter exactly once."""

    __slots__ = ("_address", "_deleter")

    def __init__(self, address: int, deleter: Any) -> None:
        self._address = address
        self._deleter = deleter

    def __del__(self) -> None:
        deleter, self._deleter = self._deleter, None
        if deleter:
            deleter(self._address)


def import_capsule(capsule: Any) -> ImportedTensor:
    """Consume a DLPack capsule and describe its tensor.

    Raises
    ------
    TypeError
        If ``capsule`` is not an unconsumed DLPack capsule.
    BufferError
        If the tensor uses a DLPack major version this module does not speak.
    """
    if _api.PyCapsule_IsValid(capsule, _VERSIONED):
        address = _api.PyCapsule_GetPointer(capsule, _VERSIONED)
        managed: Any = DLManagedTensorVersioned.from_address(address)
        if managed.version.major != DLPACK_VERSION[0]:
            raise BufferError(f"unsupported DLPack version {managed.version.major}.{managed.version.minor}")
        read_only = bool(managed.flags & FLAG_READ_ONLY)
        used = _USED_VERSIONED
    elif _api.PyCapsule_IsValid(capsule, _LEGACY):
        address = _api.PyCapsule_GetPointer(capsule, _LEGACY)
        managed = DLManagedTensor.from_address(address)
        read_only = False
        used = _USED_LEGACY
    else:
        raise TypeError("expected an unconsumed DLPack capsule ('dltensor' or 'dltensor_versioned')")
    tensor = managed.dl_tensor
    ndim = tensor.ndim
    if ndim < 0 or ndim > 64:
        raise BufferError(f"DLPack tensor has an invalid ndim {ndim}")
    shape = tuple(tensor.shape[i] for i in range(ndim))
    itemsize = max(tensor.dtype.bits * tensor.dtype.lanes // 8, 1)
    if tensor.strides:
        strides = tuple(tensor.strides[i] * itemsize for i in range(ndim))
    else:
        strides = contiguous_strides(shape, itemsize)
    _api.PyCapsule_SetName(capsule, used)
    handle = _ManagedHandle(address, managed.deleter)
    return ImportedTensor(
        data=(tensor.data or 0) + tensor.byte_offset,
        shape=shape,
        strides=strides,
        dtype=(tensor.dtype.code, tensor.dtype.bits, tensor.dtype.lanes),
        device=(tensor.device.device_type, tensor.device.device_id),
        read_only=read_only,
        owner=handle,
    )


def contiguous_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """Byte strides of a C-contiguous array of ``shape``."""
    strides = []
    step = itemsize
    for extent in reversed(shape):
        strides.append(step)
        step *= max(extent, 1)
    return tuple(reversed(strides))


# address of an exported struct -> (struct, shape array, strides array, owner)
_EXPORTED: dict[int, tuple[Any, Any, Any, Any]] = {}
_EXPORTED_LOCK = threading.Lock()


def _forget(address: int) -> None:
    with _EXPORTED_LOCK:
        _EXPORTED.pop(address, None)


def _destroy(capsule: int) -> None:
    # Called when a capsule dies; only an unconsumed capsule still holds our struct.
    for name in (_VERSIONED, _LEGACY):
        if _capsule_is_valid(capsule, name):
            _forget(_capsule_get_pointer(capsule, name))
            return


_delete_exported = _Deleter(_forget)
_destroy_capsule = _Destructor(_destroy)


def export_capsule(
    *,
    data: int,
    shape: tuple[int, ...],
    strides: tuple[int, ...],
    dtype: tuple[int, int, int],
    device: tuple[int, int],
    owner: Any,
    versioned: bool,
    read_only: bool = False,
) -> Any:
    """Build a DLPack capsule over existing memory; ``owner`` stays alive until it is freed.

    ``strides`` are in bytes and must be multiples of the item size.
    """
    code, bits, lanes = dtype
    itemsize = max(bits * lanes // 8, 1)
    if any(s % itemsize for s in strides):
        raise BufferError(f"strides {strides} are not multiples of the item size {itemsize}")
    ndim = len(shape)
    shape_array = (ctypes.c_int64 * max(ndim, 1))(*shape)
    strides_array = (ctypes.c_int64 * max(ndim, 1))(*(s // itemsize for s in strides))
    struct: Any = DLManagedTensorVersioned() if versioned else DLManagedTensor()
    tensor = struct.dl_tensor
    tensor.data = data or None
    tensor.device = DLDevice(*device)
    tensor.ndim = ndim
    tensor.dtype = DLDataType(code, bits, lanes)
    tensor.shape = ctypes.cast(shape_array, ctypes.POINTER(ctypes.c_int64))
    tensor.strides = ctypes.cast(strides_array, ctypes.POINTER(ctypes.c_int64))
    tensor.byte_offset = 0
    struct.deleter = _delete_exported
    if versioned:
        struct.version = DLPackVersion(*DLPACK_VERSION)
        struct.flags = FLAG_READ_ONLY if read_only else 0
    address = ctypes.addressof(struct)
    with _EXPORTED_LOCK:
        _EXPORTED[address] = (struct, shape_array, strides_array, owner)
    return _api.PyCapsule_New(address, _VERSIONED if versioned else _LEGACY, _destroy_capsule)


def exported_count() -> int:
    """Capsules exported and not yet freed (for leak tests)."""
    return len(_EXPORTED)
