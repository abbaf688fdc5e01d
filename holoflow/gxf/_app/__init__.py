"""GXF application files: load a ``gxe`` YAML graph as a holoflow :class:`Application`, and
Python codelets in GXF's model.

This sub-package sits above the runtime (it builds operators, conditions, resources and
schedulers), unlike the rest of :mod:`holoflow.gxf`, which works without it;
``holoflow.gxf`` imports it only when one of its names is first used.
"""

from holoflow.gxf._app._codelet import (
    Codelet,
    ParameterInfo,
    ReceiverHandle,
    Registrar,
    SerializerHandle,
    TransmitterHandle,
)
from holoflow.gxf._app._emit import to_yaml
from holoflow.gxf._app._load import load_app
from holoflow.gxf._app._registry import register_type

__all__ = [
    "Codelet",
    "ParameterInfo",
    "ReceiverHandle",
    "Registrar",
    "SerializerHandle",
    "TransmitterHandle",
    "load_app",
    "register_type",
    "to_yaml",
]
