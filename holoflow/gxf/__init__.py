"""GXF entity recordings (``.gxf_index`` + ``.gxf_entities``): read, write, decode, encode;
and ``Entity``, Holoscan's way of building a message of named tensors in ``compute``.

The recordings are byte-compatible with the Holoscan SDK's VideoStreamRecorderOp /
VideoStreamReplayerOp and NVIDIA's ``convert_video_to_gxf_entities.py``, and work without any
graph; a decoded entity of a recording is a :class:`RecordedEntity`.
"""

from holoflow.gxf._convert import convert, open_frames
from holoflow.gxf._entity import Component, RecordedEntity, Timestamp, decode_entity, encode_entity
from holoflow.gxf._message_entity import Entity
from holoflow.gxf._recording import GXFReader, GXFWriter, recording_paths
from holoflow.gxf._types import ElementType, StorageType

__all__ = [
    "Component",
    "ElementType",
    "Entity",
    "GXFReader",
    "GXFWriter",
    "RecordedEntity",
    "StorageType",
    "Timestamp",
    "convert",
    "decode_entity",
    "encode_entity",
    "open_frames",
    "recording_paths",
]
