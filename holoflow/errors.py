"""Exceptions raised by holoflow.

Every holoflow error derives from :class:`HoloflowError` and from the built-in exception a caller
would naturally catch, so ``except ValueError`` keeps working around code that validates input::

    HoloflowError
    ├── GraphError (ValueError)          the graph is wrong: unknown port, ambiguous add_flow,
    │                                    duplicate operator name, required input left unconnected
    ├── ConfigError (ValueError)         unreadable YAML, missing or invalid config key
    │   └── GXFAppError                  a GXF application file is wrong: says file, document,
    │                                    entity, component and line
    ├── TensorError (ValueError)         an object is not a tensor of a supported kind or dtype
    ├── ResourceError (RuntimeError)     a memory pool is exhausted, a device is missing
    ├── CodecError (ValueError)          bytes from a file or the network do not decode
    │   ├── GXFFormatError               a GXF recording is truncated, corrupt or hostile
    │   └── PacketFormatError            a sensor-bridge packet (BOOTP, control, RoCE) is malformed
    ├── SchedulingError (RuntimeError)   the run cannot go on: a full queue under the FAULT policy
    ├── NotSupportedError (NotImplementedError)
    │                                    a Holoscan feature that exists only inside GXF's C++ runtime
    │                                    or in a distributed (UCX) run; says what to use instead
    ├── MetadataError (RuntimeError)     a metadata key arrived twice under MetadataPolicy.RAISE
    ├── PoseTreeError (RuntimeError)     a pose-tree operation failed: unknown frame, frames not
    │                                    linked, a pose out of order, a full tree
    ├── SensorBridgeError (RuntimeError) a sensor-bridge device refused, failed or is missing
    │   ├── ControlTimeoutError (TimeoutError)
    │   │                                no reply to a control request after every retry
    │   ├── ControlStatusError           the device answered a control request with an error status
    │   ├── BusError                     an I2C or SPI transaction failed (NAK, bus error, busy)
    │   └── DeviceNotFoundError (TimeoutError)
    │                                    no announcement from the wanted device before the timeout
    └── HoloflowInternalError (RuntimeError)
                                         a broken invariant inside holoflow: please report it

Two warning categories (both ``UserWarning``): :class:`CPUFallbackWarning` says that something
Holoscan would run on a GPU runs on the CPU instead (once per process for each kind), and
:class:`UnknownParameterWarning` marks an argument that
names no declared parameter: Holoscan ignores such an argument with a warning, and so does
holoflow. Strict mode (``Application(strict=True)``, or the environment variable
``HOLOFLOW_STRICT=1``) raises :class:`ConfigError` instead; a warnings filter such as
``warnings.simplefilter("error", UnknownParameterWarning)`` also turns it into an error.

Exceptions raised by user code (``compute``, ``start``...) are never wrapped: they propagate from
``run()`` with their own type and a note naming the operator and the lifecycle method.
"""

from __future__ import annotations

__all__ = [
    "BusError",
    "CPUFallbackWarning",
    "CodecError",
    "ConfigError",
    "ControlStatusError",
    "ControlTimeoutError",
    "DeviceNotFoundError",
    "DistributedError",
    "GXFAppError",
    "GXFFormatError",
    "GraphError",
    "HoloflowError",
    "HoloflowInternalError",
    "MetadataError",
    "NotSupportedError",
    "PacketFormatError",
    "PoseTreeError",
    "RemoteError",
    "ResourceError",
    "SchedulingError",
    "SensorBridgeError",
    "TensorError",
    "UnknownParameterWarning",
]


class HoloflowError(Exception):
    """Base class of every error holoflow raises itself."""


class GraphError(HoloflowError, ValueError):
    """The operator graph is malformed; raised while composing, before anything runs."""


class ConfigError(HoloflowError, ValueError):
    """A configuration file, key or parameter is missing or invalid."""


class GXFAppError(ConfigError):
    """A GXF application file (the YAML graphs ``gxe`` runs) cannot be loaded.

    The message starts with where: ``app.yaml:14: document 2, entity 'recorder', component
    'input': ...``; each part is also an attribute (``None`` when not known).

    Attributes
    ----------
    file : str
        The file.
    document : int or None
        The document's index in the file, from 0.
    entity : str or None
        The entity's name.
    component : str or None
        The component's name (``#3`` for the fourth, unnamed, component of the entity).
    line : int or None
        The line, from 1.
    """

    def __init__(
        self,
        detail: str,
        file: str,
        document: int | None = None,
        entity: str | None = None,
        component: str | None = None,
        line: int | None = None,
    ) -> None:
        head = file if line is None else f"{file}:{line}"
        parts = [head]
        if document is not None:
            parts.append(f"document {document}")
        if entity is not None:
            parts.append(f"entity '{entity}'")
        if component is not None:
            parts.append(f"component '{component}'")
        super().__init__(", ".join(parts) + ": " + detail)
        self.file = file
        self.document = document
        self.entity = entity
        self.component = component
        self.line = line
        self.detail = detail


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


class PacketFormatError(CodecError):
    """A sensor-bridge packet does not decode; says which protocol and field.

    Attributes
    ----------
    protocol : str
        ``"bootp"``, ``"control"``, ``"roce"`` or ``"metadata"``.
    field : str
        The header field that failed.
    """

    def __init__(self, protocol: str, field: str, detail: str) -> None:
        super().__init__(f"{protocol} packet: {field}: {detail}")
        self.protocol = protocol
        self.field = field


class ResourceError(HoloflowError, RuntimeError):
    """A resource cannot serve a request: a pool is exhausted, a device or library is missing."""


class SchedulingError(HoloflowError, RuntimeError):
    """The scheduler cannot continue the run (for example a queue overflowed under FAULT)."""


class DistributedError(HoloflowError, RuntimeError):
    """A distributed application cannot go on: a peer was lost, failed, or could not be reached or
    authenticated; the message names the fragment, worker or address."""


class RemoteError(DistributedError):
    """An exception raised in another process of a distributed application, whose type cannot be
    rebuilt here; ``remote_type`` names it and ``remote_traceback`` holds its traceback text."""

    def __init__(self, message: str, remote_type: str = "", remote_traceback: str = "") -> None:
        super().__init__(message)
        self.remote_type = remote_type
        self.remote_traceback = remote_traceback


class MetadataError(HoloflowError, RuntimeError):
    """A metadata key already exists and the policy is ``MetadataPolicy.RAISE``.

    A ``RuntimeError``, as Holoscan raises. The message names the operator, the input port
    (when the key came with a message) and the key.

    Attributes
    ----------
    key : str
        The duplicate key.
    """

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


class PoseTreeError(HoloflowError, RuntimeError):
    """A pose-tree operation failed (``holoflow.pose_tree``).

    A ``RuntimeError``, as Holoscan raises. The message starts with Holoscan's text for the
    failure (:attr:`reason`) and goes on with the frames, times or sizes involved.

    Attributes
    ----------
    reason : str
        Holoscan's error text: ``"Invalid Argument"``, ``"Out of Memory"``, ``"Frame not found"``,
        ``"Edge already exists"``, ``"Cycling dependency"``, ``"Frames are not linked"``,
        ``"Pose updated out of order"`` or ``"Logic Error"``; ``"Not available"`` for what needs
        a distributed runtime.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class SensorBridgeError(HoloflowError, RuntimeError):
    """A sensor-bridge device failed a request; the message names the device and the address.

    Attributes
    ----------
    device : str
        ``"ip:port"`` of the device's control plane (or its IP address).
    """

    def __init__(self, device: str, detail: str) -> None:
        super().__init__(f"{device}: {detail}")
        self.device = device


class ControlTimeoutError(SensorBridgeError, TimeoutError):
    """A control request got no valid reply within its timeout, after every retry."""


class ControlStatusError(SensorBridgeError):
    """The device answered a control request with a non-zero status.

    Attributes
    ----------
    status : int
        The status byte of the reply (``0x03`` invalid address, ``0x0B`` sequence-check failure...).
    address : int
        The first register address of the request.
    """

    def __init__(self, device: str, detail: str, status: int, address: int) -> None:
        super().__init__(device, detail)
        self.status = status
        self.address = address


class BusError(SensorBridgeError):
    """An I2C or SPI transaction through the device failed (NAK, bus or controller error)."""


class DeviceNotFoundError(SensorBridgeError, TimeoutError):
    """No sensor-bridge device with the wanted address announced itself before the timeout."""


class NotSupportedError(HoloflowError, NotImplementedError):
    """A Holoscan name whose work only makes sense inside GXF's C++ runtime (wrapped GXF codelets
    and components, GXF extensions) or in a distributed application (UCX). The name imports, so
    ported code loads; using it raises this error, which says why and what to use instead."""


class HoloflowInternalError(HoloflowError, RuntimeError):
    """An invariant inside holoflow was broken. This is a bug in holoflow."""


class CPUFallbackWarning(UserWarning):
    """Something Holoscan runs on a GPU runs on the CPU instead, because CUDA (or TensorRT) is
    missing: device memory pools and allocators hand out host memory, ``InferenceOp`` runs a
    ``trt`` model's ONNX file with ONNX Runtime. Warned once per process for each kind."""


class UnknownParameterWarning(UserWarning):
    """A component got an argument that names none of its declared parameters; it is ignored."""
