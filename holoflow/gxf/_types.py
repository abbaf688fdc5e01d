"""GXF type ids, element and storage codes, and the packed struct layouts of a recording.

See docs/gxf_format.md (in the user guide) for the byte layout. Every integer is little-endian
and every struct packed.
"""

from __future__ import annotations

import enum
import struct

import numpy as np

__all__ = [
    "COMPONENT_HEADER",
    "ENTITY_HEADER",
    "INDEX_DTYPE",
    "MAX_RANK",
    "SCALAR_TIDS",
    "TENSOR_HEADER",
    "TENSOR_TID",
    "TIMESTAMP",
    "TIMESTAMP_TID",
    "ElementType",
    "StorageType",
]

ENTITY_HEADER = struct.Struct("<QIQIQQ")  # serialized_size, checksum, sequence, flags, count, reserved
COMPONENT_HEADER = struct.Struct("<QQQQ")  # serialized_size, tid.hash1, tid.hash2, name_size
TENSOR_HEADER = struct.Struct("<iiQI8i8Q")  # storage, element, bytes/element, rank, dims[8], strides[8]
TIMESTAMP = struct.Struct("<qq")  # pubtime, acqtime
INDEX_DTYPE = np.dtype([("log_time", "<u8"), ("data_size", "<u8"), ("data_offset", "<u8")])
MAX_RANK = 8

TENSOR_TID = (0x377501D69ABF447C, 0xA6170114D4F33AB8)
TIMESTAMP_TID = (0xD1095B105C904BBC, 0xBC89601134CB4E03)
# Scalar components: tid -> (little-endian struct, numpy dtype of the value).
SCALAR_TIDS: dict[tuple[int, int], np.dtype] = {
    (0x83905C6ACA344F40, 0xB474CF2CDE8274DE): np.dtype("<i1"),
    (0xD4299E150006D0BF, 0x8CBD9B743575E155): np.dtype("<u1"),
    (0x9E1DDE793550307D, 0xE81AB864890B3685): np.dtype("<i2"),
    (0x958CBDEFB505BCC7, 0x8A43DC4B23F8CEAD): np.dtype("<u2"),
    (0xB557EC7F49A508F7, 0xA35E086E9D1EA767): np.dtype("<i4"),
    (0xD5506B685C86FEDB, 0xA2A2A7BAE38FF3EF): np.dtype("<u4"),
    (0xC611627B6393365F, 0xD2341F26BFA8D28F): np.dtype("<i8"),
    (0xC4385F5B6E2501D9, 0xD7B56E7CADC704E8): np.dtype("<u8"),
    (0xA81BF295421F49EF, 0xF24AF59E9EA0D5D6): np.dtype("<f4"),
    (0xD57CEE59686FE26D, 0x95BE659C126B02EA): np.dtype("<f8"),
    (0xC02F9E93D01B1D29, 0xF52378D2A9195128): np.dtype("?"),
}
SCALAR_TID_OF = {dtype: tid for tid, dtype in SCALAR_TIDS.items()}


class StorageType(enum.IntEnum):
    """Where a recorded tensor lived (GXF ``MemoryStorageType``)."""

    HOST = 0
    DEVICE = 1
    SYSTEM = 2
    CUDA_MANAGED = 3


class ElementType(enum.IntEnum):
    """GXF ``PrimitiveType`` codes."""

    CUSTOM = 0
    INT8 = 1
    UINT8 = 2
    INT16 = 3
    UINT16 = 4
    INT32 = 5
    UINT32 = 6
    INT64 = 7
    UINT64 = 8
    FLOAT32 = 9
    FLOAT64 = 10
    COMPLEX64 = 11
    COMPLEX128 = 12
    FLOAT16 = 13


ELEMENT_DTYPES: dict[ElementType, np.dtype] = {
    ElementType.INT8: np.dtype("<i1"),
    ElementType.UINT8: np.dtype("<u1"),
    ElementType.INT16: np.dtype("<i2"),
    ElementType.UINT16: np.dtype("<u2"),
    ElementType.INT32: np.dtype("<i4"),
    ElementType.UINT32: np.dtype("<u4"),
    ElementType.INT64: np.dtype("<i8"),
    ElementType.UINT64: np.dtype("<u8"),
    ElementType.FLOAT32: np.dtype("<f4"),
    ElementType.FLOAT64: np.dtype("<f8"),
    ElementType.COMPLEX64: np.dtype("<c8"),
    ElementType.COMPLEX128: np.dtype("<c16"),
    ElementType.FLOAT16: np.dtype("<f2"),
}
ELEMENT_OF_DTYPE = {dtype: code for code, dtype in ELEMENT_DTYPES.items()}
