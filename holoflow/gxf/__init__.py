"""GXF entity recordings (``.gxf_index`` + ``.gxf_entities``): read, write, decode, encode;
and ``Entity``, Holoscan's way of building a message of named tensors in ``compute``.

The recordings are byte-compatible with the Holoscan SDK's VideoStreamRecorderOp /
VideoStreamReplayerOp and NVIDIA's ``convert_video_to_gxf_entities.py``, and work without any
graph; a decoded entity of a recording is a :class:`RecordedEntity`.

Holoscan's GXF runtime wrappers (``GXFOperator``, ``GXFResource``, ..., ``load_extensions``)
import from here too; they raise ``NotSupportedError`` when used (see ``_wrappers``).

GXF application files (the YAML graphs ``gxe`` runs) load with :func:`load_app`; that part sits
above the runtime and is imported on first use of its names.
"""

import typing as _typing

from holoflow.gxf._convert import convert, open_frames
from holoflow.gxf._entity import Component, RecordedEntity, Timestamp, decode_entity, encode_entity
from holoflow.gxf._message_entity import Entity
from holoflow.gxf._recording import GXFReader, GXFWriter, recording_paths
from holoflow.gxf._types import ElementType, StorageType
from holoflow.gxf._wrappers import (
    GXFComponent,
    GXFCondition,
    GXFExecutionContext,
    GXFInputContext,
    GXFNetworkContext,
    GXFOperator,
    GXFOutputContext,
    GXFResource,
    GXFScheduler,
    GXFSystemResourceBase,
    load_extensions,
)

__all__ = [
    "Codelet",
    "Component",
    "ElementType",
    "Entity",
    "GXFComponent",
    "GXFCondition",
    "GXFExecutionContext",
    "GXFInputContext",
    "GXFNetworkContext",
    "GXFOperator",
    "GXFOutputContext",
    "GXFReader",
    "GXFResource",
    "GXFScheduler",
    "GXFSystemResourceBase",
    "GXFWriter",
    "ParameterInfo",
    "ReceiverHandle",
    "RecordedEntity",
    "Registrar",
    "SerializerHandle",
    "StorageType",
    "Timestamp",
    "TransmitterHandle",
    "convert",
    "decode_entity",
    "encode_entity",
    "load_app",
    "load_extensions",
    "open_frames",
    "recording_paths",
    "register_type",
    "to_yaml",
]

if _typing.TYPE_CHECKING:
    from holoflow.gxf._app import (
        Codelet,
        ParameterInfo,
        ReceiverHandle,
        Registrar,
        SerializerHandle,
        TransmitterHandle,
        load_app,
        register_type,
        to_yaml,
    )

_APP_NAMES = {
    "Codelet",
    "ParameterInfo",
    "ReceiverHandle",
    "Registrar",
    "SerializerHandle",
    "TransmitterHandle",
    "load_app",
    "register_type",
    "to_yaml",
}


def __getattr__(name: str) -> _typing.Any:
    # The application loader builds runtime objects; importing it here would tie the recording
    # codec (which operators use) to the runtime, so it loads on first use.
    if name in _APP_NAMES:
        from holoflow.gxf import _app

        return getattr(_app, name)
    raise AttributeError(f"module 'holoflow.gxf' has no attribute {name!r}")
