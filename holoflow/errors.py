"""Exceptions raised by holoflow.

Every holoflow error derives from :class:`HoloflowError` and from the built-in exception a caller
would naturally catch, so ``except ValueError`` keeps working around code that validates input::

    HoloflowError
    ├── GraphError (ValueError)          the graph is wrong: unknown port, ambiguous add_flow,
    │                                    duplicate operator name, required input left unconnected
    ├── ConfigError (ValueError)         unreadable YAML, missing config key, unknown parameter
    ├── TensorError (ValueError)         an object is not a tensor of a supported kind or dtype
    ├── ResourceError (RuntimeError)     a memory pool is exhausted, a device is missing
    ├── CodecError (ValueError)          bytes from a file or the network do not decode
    │   └── GXFFormatError               a GXF recording is truncated, corrupt or hostile
    ├── SchedulingError (RuntimeError)   the run cannot go on: a full queue under the FAULT policy
    └── HoloflowInternalError (RuntimeError)
                                         a broken invariant inside holoflow: please report it

Exceptions raised by user code (``compute``, ``start``...) are never wrapped: they propagate from
``run()`` with their own type and a note naming the operator and the lifecycle method.
"""

from __future__ import annotations

__all__ = [
    "CodecError",
    "ConfigError",
    "GXFFormatError",
    "GraphError",
    "HoloflowError",
    "HoloflowInternalError",
    "ResourceError",
    "SchedulingError",
    "TensorError",
]


class HoloflowError(Exception):
    """Base class of every error holoflow raises itself."""


class GraphError(HoloflowError, ValueError):
    """The operator graph is malformed; raised while composing, before anything runs."""


class ConfigError(HoloflowError, ValueError):
    """A configuration file, key or parameter is missing or invalid."""


class TensorError(HoloflowError, ValueError):
    """An object cannot be used as a tensor, or its dtype, device or layout is unsupported."""


class CodecError(HoloflowError, ValueError):
    """Bytes read from a file or the network do not decode."""


class GXFFormatError(CodecError):
    """A GXF recording cannot be decoded; says which file, frame and field.

    Attributes
    ----------
    path : str
        The file being read.
    frame : int or None
        Index of the entity (frame), when known.
    field : str
        The header or payload field that failed.
    """

    def __init__(self, path: str, frame: int | None, field: str, detail: str) -> None:
        where = f"{path}" + (f", frame {frame}" if frame is not None else "")
        super().__init__(f"{where}: {field}: {detail}")
        self.path = path
        self.frame = frame
        self.field = field


class ResourceError(HoloflowError, RuntimeError):
    """A resource cannot serve a request: a pool is exhausted, a device or library is missing."""


class SchedulingError(HoloflowError, RuntimeError):
    """The scheduler cannot continue the run (for example a queue overflowed under FAULT)."""


class HoloflowInternalError(HoloflowError, RuntimeError):
    """An invariant inside holoflow was broken. This is a bug in holoflow."""
