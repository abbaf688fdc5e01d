"""DLPack device and data-type descriptors, and their mapping to numpy dtypes."""

from __future__ import annotations

import enum
from typing import NamedTuple

import numpy as np

from holoflow.errors import TensorError

__all__ = ["DLDataType", "DLDataTypeCode", "DLDevice", "DLDeviceType", "dl_to_numpy", "numpy_to_dl"]


class DLDeviceType(enum.IntEnum):
    """Where memory lives (DLPack ``DLDeviceType``)."""

    DLCPU = 1
    DLCUDA = 2
    DLCUDAHOST = 3
    DLOPENCL = 4
    DLVULKAN = 7
    DLMETAL = 8
    DLVPI = 9
    DLROCM = 10
    DLROCMHOST = 11
    DLEXTDEV = 12
    DLCUDAMANAGED = 13
    DLONEAPI = 14


class DLDataTypeCode(enum.IntEnum):
    """Kinds of element (DLPack ``DLDataTypeCode``)."""

    DLINT = 0
    DLUINT = 1
    DLFLOAT = 2
    DLOPAQUEHANDLE = 3
    DLBFLOAT = 4
    DLCOMPLEX = 5
    DLBOOL = 6


class DLDevice(NamedTuple):
    """A device: its type and index."""

    device_type: DLDeviceType
    device_id: int


class DLDataType(NamedTuple):
    """An element type: kind, bits per lane, lanes."""

    code: DLDataTypeCode
    bits: int
    lanes: int


CPU = DLDevice(DLDeviceType.DLCPU, 0)
# Devices whose memory the host can read directly.
HOST_DEVICES = frozenset({DLDeviceType.DLCPU, DLDeviceType.DLCUDAHOST, DLDeviceType.DLCUDAMANAGED})

_KIND_TO_CODE = {
    "i": DLDataTypeCode.DLINT,
    "u": DLDataTypeCode.DLUINT,
    "f": DLDataTypeCode.DLFLOAT,
    "c": DLDataTypeCode.DLCOMPLEX,
    "b": DLDataTypeCode.DLBOOL,
}
_CODE_TO_KIND = {v: k for k, v in _KIND_TO_CODE.items()}


def numpy_to_dl(dtype: np.dtype) -> DLDataType:
    """The DLPack type of a numpy dtype.

    Raises
    ------
    TensorError
        For dtypes DLPack cannot describe (objects, strings, structured types).
    """
    if dtype.kind in _KIND_TO_CODE:
        return DLDataType(_KIND_TO_CODE[dtype.kind], dtype.itemsize * 8, 1)
    if dtype.name == "bfloat16":
        return DLDataType(DLDataTypeCode.DLBFLOAT, 16, 1)
    raise TensorError(f"dtype {dtype} has no DLPack equivalent; use a numeric or bool dtype")


def dl_to_numpy(dl: DLDataType | tuple[int, int, int]) -> np.dtype:
    """The numpy dtype of a DLPack type.

    Raises
    ------
    TensorError
        For vector lanes, opaque handles, or bfloat16 without ``ml_dtypes`` installed.
    """
    code, bits, lanes = int(dl[0]), int(dl[1]), int(dl[2])
    if lanes != 1:
        raise TensorError(f"DLPack dtype with {lanes} lanes is not supported")
    if code == DLDataTypeCode.DLBFLOAT and bits == 16:
        try:
            import ml_dtypes  # type: ignore[import-not-found]
        except ImportError:
            raise TensorError("bfloat16 tensors need the ml_dtypes package (pip install ml_dtypes)") from None
        bfloat16: np.dtype = np.dtype(ml_dtypes.bfloat16)
        return bfloat16
    if code == DLDataTypeCode.DLBOOL or (code == DLDataTypeCode.DLUINT and bits == 1):
        return np.dtype(np.bool_)
    if code not in _CODE_TO_KIND or bits % 8:
        raise TensorError(f"DLPack dtype (code={code}, bits={bits}) has no numpy equivalent")
    return np.dtype(f"{_CODE_TO_KIND[DLDataTypeCode(code)]}{bits // 8}")
