"""Holoscan resources that exist only inside GXF's C++ runtime: wrapped GXF components and the
serializers and buffers that GXF (and UCX) use to turn entities into bytes.

holoflow passes Python objects between operators as they are and reads and writes GXF
recordings with ``holoflow.gxf``; it has no GXF runtime to put these in. They import so that
code naming them loads; constructing one raises :class:`~holoflow.errors.NotSupportedError`
saying what to use instead.
"""

from __future__ import annotations

from typing import Any, ClassVar

from holoflow.core import Resource
from holoflow.errors import NotSupportedError

__all__ = [
    "GXFComponentResource",
    "SerializationBuffer",
    "StdComponentSerializer",
    "StdEntitySerializer",
    "UcxComponentSerializer",
    "UcxEntitySerializer",
    "UcxHoloscanComponentSerializer",
    "UcxSerializationBuffer",
]

_SERIALIZE = (
    "holoflow passes messages between operators as Python objects, never serialized; to write or "
    "read GXF recordings use VideoStreamRecorderOp / VideoStreamReplayerOp or holoflow.gxf "
    "(GXFWriter, GXFReader, encode_entity, decode_entity)"
)
_UCX = (
    "UCX serialization joins the fragments of a distributed application, and holoflow links "
    "fragments with its own codec, not with these components (not one fragment's operators either)"
)


class _GXFOnly(Resource):
    _why: ClassVar[str] = ""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        raise NotSupportedError(f"{type(self).__name__}: {self._why}")


class GXFComponentResource(_GXFOnly):
    """Holoscan's resource wrapping an arbitrary GXF component (by GXF type name)."""

    _why = (
        "a GXF component is C++ code for GXF's runtime, which holoflow does not have; write the "
        "resource as a holoflow.core.Resource subclass"
    )

    def __init__(self, fragment: Any = None, gxf_typename: str = "", *_args: Any, **_kwargs: Any) -> None:  # noqa: ARG002
        raise NotSupportedError(f"GXFComponentResource({gxf_typename!r}): {self._why}")


class SerializationBuffer(_GXFOnly):
    """Holoscan's buffer for serializing GXF entities."""

    _why = _SERIALIZE


class StdComponentSerializer(_GXFOnly):
    """Holoscan's serializer of GXF Timestamp and Tensor components."""

    _why = _SERIALIZE


class StdEntitySerializer(_GXFOnly):
    """Holoscan's default serializer of GXF entities."""

    _why = _SERIALIZE


class UcxComponentSerializer(_GXFOnly):
    """Holoscan's UCX serializer of GXF components."""

    _why = _UCX


class UcxEntitySerializer(_GXFOnly):
    """Holoscan's UCX serializer of GXF entities."""

    _why = _UCX


class UcxHoloscanComponentSerializer(_GXFOnly):
    """Holoscan's UCX serializer of Holoscan's own message types."""

    _why = _UCX


class UcxSerializationBuffer(_GXFOnly):
    """Holoscan's UCX serialization buffer."""

    _why = _UCX
