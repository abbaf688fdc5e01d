"""GXF entity recordings (``.gxf_index`` + ``.gxf_entities``): read, write, decode, encode.

Byte-compatible with the Holoscan SDK's VideoStreamRecorderOp / VideoStreamReplayerOp and
NVIDIA's ``convert_video_to_gxf_entities.py``. Works without any graph.
"""

from holoflow.gxf._convert import convert, open_frames
from holoflow.gxf._entity import Component, Entity, Timestamp, decode_entity, encode_entity
from holoflow.gxf._recording import GXFReader, GXFWriter, recording_paths
from holoflow.gxf._types import ElementType, StorageType

__all__ = [
    "Component",
    "ElementType",
    "Entity",
    "GXFReader",
    "GXFWriter",
    "StorageType",
    "Timestamp",
    "convert",
    "decode_entity",
    "encode_entity",
    "open_frames",
    "recording_paths",
]
