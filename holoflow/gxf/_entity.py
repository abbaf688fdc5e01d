"""Encode and decode one serialized GXF entity (entity header, components, payloads).

Design
======
Decoding never trusts the bytes. It works on a read-only buffer (usually a memory map) between
``start`` and ``end`` — the entity's extent from the index — and checks every count, name
length, rank, dimension and stride against the bytes that are really there before building
anything, so a hostile file cannot make it read out of bounds or allocate what the file does
not contain. Tensors come back as numpy views of the buffer: decoding copies no payload.

Encoding writes C-contiguous data with matching byte strides, zero sizes and checksum, dims
padded with 1 and strides with 0, as GXF's serializer does. It returns a list of byte chunks so
that large tensors are written from their own memory without being joined.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from holoflow.errors import CodecError, GXFFormatError
from holoflow.gxf._types import (
    COMPONENT_HEADER,
    ELEMENT_DTYPES,
    ELEMENT_OF_DTYPE,
    ENTITY_HEADER,
    MAX_RANK,
    SCALAR_TID_OF,
    SCALAR_TIDS,
    TENSOR_HEADER,
    TENSOR_TID,
    TIMESTAMP,
    TIMESTAMP_TID,
    ElementType,
    StorageType,
)

__all__ = ["Component", "RecordedEntity", "Timestamp", "decode_entity", "encode_entity"]

MAX_NAME = 1 << 16


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A GXF Timestamp component."""

    pubtime: int
    """When the message was published (ns)."""
    acqtime: int
    """When the data was acquired (ns)."""


@dataclass(frozen=True, slots=True)
class Component:
    """One component of an entity."""

    name: str
    """Component name ("" is common for tensors)."""
    value: Any
    """A numpy array (Tensor), a :class:`Timestamp`, or a numpy scalar."""
    storage: StorageType | None = None
    """Where a tensor lived when recorded (tensors only)."""


@dataclass(frozen=True, slots=True)
class RecordedEntity:
    """A decoded entity: its sequence number and components in file order."""

    sequence_number: int
    """The serializer's counter (usually the frame index)."""
    components: tuple[Component, ...]
    """Components in the order they were written."""

    def tensors(self) -> dict[str, np.ndarray]:
        """Tensor components by name (views of the file's memory)."""
        return {c.name: c.value for c in self.components if isinstance(c.value, np.ndarray)}

    @property
    def timestamp(self) -> Timestamp | None:
        """The first Timestamp component, if any."""
        return next((c.value for c in self.components if isinstance(c.value, Timestamp)), None)


def decode_entity(
    buffer: Any, start: int, end: int, *, path: str, frame: int | None
) -> tuple[RecordedEntity, int]:
    """Decode the entity in ``buffer[start:end]``.

    Returns
    -------
    (RecordedEntity, int)
        The entity and the offset just past its last component.

    Raises
    ------
    GXFFormatError
        On any truncation or inconsistency, naming ``path``, ``frame`` and the field.
    """

    def fail(field: str, detail: str) -> GXFFormatError:
        return GXFFormatError(path, frame, field, detail)

    if end - start < ENTITY_HEADER.size:
        raise fail("entity header", f"needs {ENTITY_HEADER.size} bytes, {max(end - start, 0)} available")
    _, _, sequence, _, count, _ = ENTITY_HEADER.unpack_from(buffer, start)
    offset = start + ENTITY_HEADER.size
    if count > (end - offset) // COMPONENT_HEADER.size:
        raise fail("component_count", f"{count} components cannot fit in {end - offset} bytes")
    components = []
    for index in range(count):
        where = f"component {index}"
        if end - offset < COMPONENT_HEADER.size:
            raise fail(f"{where} header", "truncated")
        _, hash1, hash2, name_size = COMPONENT_HEADER.unpack_from(buffer, offset)
        offset += COMPONENT_HEADER.size
        if name_size > min(end - offset, MAX_NAME):
            raise fail(f"{where} name_size", f"{name_size} bytes does not fit in the entity")
        try:
            name = bytes(buffer[offset : offset + name_size]).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise fail(f"{where} name", "is not UTF-8") from exc
        offset += name_size
        tid = (hash1, hash2)
        if tid == TENSOR_TID:
            value, storage, offset = _decode_tensor(buffer, offset, end, fail, f"{where} ('{name}') tensor")
            components.append(Component(name, value, storage))
        elif tid == TIMESTAMP_TID:
            if end - offset < TIMESTAMP.size:
                raise fail(f"{where} timestamp", "truncated")
            components.append(Component(name, Timestamp(*TIMESTAMP.unpack_from(buffer, offset))))
            offset += TIMESTAMP.size
        elif tid in SCALAR_TIDS:
            dtype = SCALAR_TIDS[tid]
            if end - offset < dtype.itemsize:
                raise fail(f"{where} scalar", "truncated")
            components.append(Component(name, np.frombuffer(buffer, dtype, 1, offset)[0]))
            offset += dtype.itemsize
        else:
            raise fail(
                f"{where} tid", f"unknown component type {hash1:016x}-{hash2:016x}; its size is not stored"
            )
    return RecordedEntity(sequence, tuple(components)), offset


def _decode_tensor(
    buffer: Any, offset: int, end: int, fail: Any, where: str
) -> tuple[np.ndarray, StorageType, int]:
    if end - offset < TENSOR_HEADER.size:
        raise fail(f"{where} header", f"needs {TENSOR_HEADER.size} bytes, {end - offset} available")
    fields = TENSOR_HEADER.unpack_from(buffer, offset)
    storage_code, element_code, bytes_per_element, rank = fields[:4]
    dims, strides = fields[4:12], fields[12:20]
    offset += TENSOR_HEADER.size
    try:
        storage = StorageType(storage_code)
    except ValueError:
        raise fail(f"{where} storage_type", f"unknown code {storage_code}") from None
    try:
        element = ElementType(element_code)
    except ValueError:
        raise fail(f"{where} element_type", f"unknown code {element_code}") from None
    if element is ElementType.CUSTOM:
        raise fail(f"{where} element_type", "custom (0) element types are not supported")
    dtype = ELEMENT_DTYPES[element]
    if bytes_per_element != dtype.itemsize:
        raise fail(
            f"{where} bytes_per_element",
            f"{bytes_per_element} for {element.name} (expected {dtype.itemsize})",
        )
    if rank > MAX_RANK:
        raise fail(f"{where} rank", f"{rank} exceeds {MAX_RANK}")
    shape = tuple(dims[:rank])
    if any(d < 0 for d in shape):
        raise fail(f"{where} dims", f"negative dimension in {shape}")
    count = 1
    for d in shape:
        count *= d
    extent = dtype.itemsize
    for d in shape:
        extent *= max(d, 1)
    if extent > 1 << 62:  # numpy cannot even describe such an array, empty or not
        raise fail(f"{where} dims", f"{shape} is too large")
    nbytes = count * dtype.itemsize
    if nbytes > end - offset:
        raise fail(
            f"{where} data", f"needs {nbytes} bytes for {shape} {dtype.name}, {end - offset} available"
        )
    byte_strides = tuple(strides[:rank])
    if any(stride > 1 << 62 for stride in byte_strides):
        raise fail(f"{where} strides", f"{byte_strides} holds an impossible stride")
    if count:
        reach = dtype.itemsize + sum((d - 1) * s for d, s in zip(shape, byte_strides, strict=True))
        if reach > nbytes:
            raise fail(
                f"{where} strides", f"{byte_strides} address {reach} bytes, beyond the {nbytes} of data"
            )
    array = np.ndarray(shape, dtype, buffer, offset, byte_strides if count else None)
    return array, storage, offset + nbytes


def encode_entity(components: Mapping[str, Any] | Iterable[Component], sequence_number: int) -> list[Any]:
    """Serialize components into GXF entity bytes, as a list of chunks to write in order.

    ``components`` is a mapping of name → value (numpy-compatible host array, :class:`Timestamp`,
    or a Python/numpy scalar) or a list of :class:`Component`.

    Raises
    ------
    holoflow.errors.CodecError
        For a value GXF cannot store (rank > 8, an unsupported dtype, a string...).
    """
    if isinstance(components, Mapping):
        components = [Component(str(name), value) for name, value in components.items()]
    chunks: list[Any] = []
    count = 0
    for component in components:
        name = component.name.encode("utf-8")
        value = component.value
        if isinstance(value, Timestamp):
            chunks += [
                COMPONENT_HEADER.pack(0, *TIMESTAMP_TID, len(name)),
                name,
                TIMESTAMP.pack(value.pubtime, value.acqtime),
            ]
        elif isinstance(value, (bool, int, float, np.generic)) and not isinstance(value, np.ndarray):
            scalar = np.asarray(value)
            dtype = scalar.dtype.newbyteorder("<") if scalar.dtype.itemsize > 1 else scalar.dtype
            tid = SCALAR_TID_OF.get(dtype)
            if tid is None:
                raise CodecError(
                    f"component '{component.name}': GXF has no scalar component for {scalar.dtype}"
                )
            chunks += [COMPONENT_HEADER.pack(0, *tid, len(name)), name, scalar.astype(dtype).tobytes()]
        else:
            chunks += _encode_tensor(component.name, name, value, component.storage)
        count += 1
    return [ENTITY_HEADER.pack(0, 0, sequence_number, 0, count, 0), *chunks]


def _encode_tensor(label: str, name: bytes, value: Any, storage: StorageType | None) -> list[Any]:
    array = np.asarray(value)
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)
    dtype = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
    element = ELEMENT_OF_DTYPE.get(dtype)
    if element is None:
        supported = sorted(d.name for d in ELEMENT_DTYPES.values())
        raise CodecError(f"tensor '{label}': GXF cannot store dtype {array.dtype}; supported: {supported}")
    if array.ndim > MAX_RANK:
        raise CodecError(
            f"tensor '{label}': GXF tensors have at most {MAX_RANK} dimensions, got {array.ndim}"
        )
    array = array.astype(dtype, copy=False)
    dims = list(array.shape) + [1] * (MAX_RANK - array.ndim)
    strides = list(array.strides) + [0] * (MAX_RANK - array.ndim)
    header = TENSOR_HEADER.pack(
        int(storage if storage is not None else StorageType.SYSTEM),
        int(element),
        dtype.itemsize,
        array.ndim,
        *dims,
        *strides,
    )
    data = array.reshape(-1).view(np.uint8) if array.size else b""
    return [COMPONENT_HEADER.pack(0, *TENSOR_TID, len(name)), name, header, data]
