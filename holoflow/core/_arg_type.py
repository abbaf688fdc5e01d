"""What kind of value an argument holds: ``ArgElementType``, ``ArgContainerType`` and ``ArgType``.

holoflow keeps argument values as the Python objects they are; an :class:`ArgType` describes one
in Holoscan's terms (the C++ type Holoscan would store it as), for ``Arg.arg_type`` and
``Arg.description``. It never changes or converts the value.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

__all__ = ["ArgContainerType", "ArgElementType", "ArgType", "arg_type_of"]


class ArgElementType(enum.Enum):
    """The element type of an argument (Holoscan's names and values)."""

    CUSTOM = 0
    BOOLEAN = 1
    INT8 = 2
    UNSIGNED8 = 3
    INT16 = 4
    UNSIGNED16 = 5
    INT32 = 6
    UNSIGNED32 = 7
    INT64 = 8
    UNSIGNED64 = 9
    FLOAT32 = 10
    FLOAT64 = 11
    COMPLEX64 = 12
    COMPLEX128 = 13
    STRING = 14
    HANDLE = 15
    YAML_NODE = 16
    IO_SPEC = 17
    CONDITION = 18
    RESOURCE = 19


class ArgContainerType(enum.Enum):
    """Whether an argument is one value, a vector (list) or a fixed-size array."""

    NATIVE = 0
    VECTOR = 1
    ARRAY = 2


_ELEMENT_NAMES = {
    ArgElementType.CUSTOM: "CustomType",
    ArgElementType.BOOLEAN: "bool",
    ArgElementType.INT8: "int8_t",
    ArgElementType.UNSIGNED8: "uint8_t",
    ArgElementType.INT16: "int16_t",
    ArgElementType.UNSIGNED16: "uint16_t",
    ArgElementType.INT32: "int32_t",
    ArgElementType.UNSIGNED32: "uint32_t",
    ArgElementType.INT64: "int64_t",
    ArgElementType.UNSIGNED64: "uint64_t",
    ArgElementType.FLOAT32: "float",
    ArgElementType.FLOAT64: "double",
    ArgElementType.COMPLEX64: "std::complex<float>",
    ArgElementType.COMPLEX128: "std::complex<double>",
    ArgElementType.STRING: "std::string",
    ArgElementType.HANDLE: "std::any",
    ArgElementType.YAML_NODE: "YAML::Node",
    ArgElementType.IO_SPEC: "holoscan::IOSpec*",
    ArgElementType.CONDITION: "std::shared_ptr<Condition>",
    ArgElementType.RESOURCE: "std::shared_ptr<Resource>",
}

_NUMPY_ELEMENTS = {
    np.dtype(np.bool_): ArgElementType.BOOLEAN,
    np.dtype(np.int8): ArgElementType.INT8,
    np.dtype(np.uint8): ArgElementType.UNSIGNED8,
    np.dtype(np.int16): ArgElementType.INT16,
    np.dtype(np.uint16): ArgElementType.UNSIGNED16,
    np.dtype(np.int32): ArgElementType.INT32,
    np.dtype(np.uint32): ArgElementType.UNSIGNED32,
    np.dtype(np.int64): ArgElementType.INT64,
    np.dtype(np.uint64): ArgElementType.UNSIGNED64,
    np.dtype(np.float32): ArgElementType.FLOAT32,
    np.dtype(np.float64): ArgElementType.FLOAT64,
    np.dtype(np.complex64): ArgElementType.COMPLEX64,
    np.dtype(np.complex128): ArgElementType.COMPLEX128,
}


class ArgType:
    """An argument's type: element type, container type and nesting depth.

    Parameters
    ----------
    element_type : ArgElementType
        The type of each element (default ``CUSTOM``).
    container_type : ArgContainerType
        ``NATIVE`` for one value, ``VECTOR`` for a list, ``ARRAY`` for a fixed-size array.
    dimension : int, optional
        How deeply containers nest (a list of lists is 2); defaults to 0 for ``NATIVE`` and 1
        otherwise.
    """

    __slots__ = ("container_type", "dimension", "element_type")

    def __init__(
        self,
        element_type: ArgElementType = ArgElementType.CUSTOM,
        container_type: ArgContainerType = ArgContainerType.NATIVE,
        dimension: int | None = None,
    ) -> None:
        self.element_type = ArgElementType(element_type)
        self.container_type = ArgContainerType(container_type)
        native = self.container_type is ArgContainerType.NATIVE
        self.dimension = (0 if native else 1) if dimension is None else int(dimension)

    @property
    def to_string(self) -> str:
        """The C++ type Holoscan would hold the value as, e.g. ``std::vector<double>``."""
        text = _ELEMENT_NAMES[self.element_type]
        if self.container_type is ArgContainerType.NATIVE:
            return text
        pattern = "std::vector<{}>" if self.container_type is ArgContainerType.VECTOR else "std::array<{},N>"
        for _ in range(max(self.dimension, 1)):
            text = pattern.format(text)
        return text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArgType):
            return NotImplemented
        return (self.element_type, self.container_type, self.dimension) == (
            other.element_type,
            other.container_type,
            other.dimension,
        )

    def __hash__(self) -> int:
        return hash((self.element_type, self.container_type, self.dimension))

    def __repr__(self) -> str:
        return self.to_string


def _element_of(value: Any) -> ArgElementType:
    from holoflow.core._condition import Condition
    from holoflow.core._resource import Resource
    from holoflow.core._spec import IOSpec

    if isinstance(value, (bool, np.bool_)):
        return ArgElementType.BOOLEAN
    if isinstance(value, np.generic):
        return _NUMPY_ELEMENTS.get(value.dtype, ArgElementType.CUSTOM)
    if isinstance(value, int):
        return ArgElementType.INT64
    if isinstance(value, float):
        return ArgElementType.FLOAT64
    if isinstance(value, complex):
        return ArgElementType.COMPLEX128
    if isinstance(value, str):
        return ArgElementType.STRING
    if isinstance(value, dict):
        return ArgElementType.YAML_NODE
    if isinstance(value, Condition):
        return ArgElementType.CONDITION
    if isinstance(value, Resource):
        return ArgElementType.RESOURCE
    if isinstance(value, IOSpec):
        return ArgElementType.IO_SPEC
    return ArgElementType.CUSTOM


def arg_type_of(value: Any) -> ArgType:
    """The :class:`ArgType` describing ``value``: lists and tuples are vectors (nested ones add a
    dimension, the element type is that of the first innermost item), numpy arrays are vectors of
    their dtype, everything else is a native value."""
    if isinstance(value, np.ndarray):
        element = _NUMPY_ELEMENTS.get(value.dtype, ArgElementType.CUSTOM)
        return ArgType(element, ArgContainerType.VECTOR, max(value.ndim, 1))
    depth = 0
    item = value
    while isinstance(item, (list, tuple)):
        depth += 1
        if not item:
            return ArgType(ArgElementType.CUSTOM, ArgContainerType.VECTOR, depth)
        item = item[0]
    if depth == 0:
        return ArgType(_element_of(value))
    return ArgType(_element_of(item), ArgContainerType.VECTOR, depth)
