"""GXF entity recordings (``.gxf_index`` + ``.gxf_entities``): read, write, decode, encode.

Byte-compatible with the Holoscan SDK's VideoStreamRecorderOp / VideoStreamReplayerOp and
NVIDIA's ``convert_video_to_gxf_entities.py``. Works without any graph.

Holoscan's GXF runtime wrappers (``GXFOperator``, ``GXFResource``, ..., ``load_extensions``)
import from here too; they raise ``NotSupportedError`` when used (see ``_wrappers``).
"""

from holoflow.gxf._convert import convert, open_frames
from holoflow.gxf._entity import Component, Entity, Timestamp, decode_entity, encode_entity
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
    "StorageType",
    "Timestamp",
    "convert",
    "decode_entity",
    "encode_entity",
    "load_extensions",
    "open_frames",
    "recording_paths",
]
