"""Console data loggers: ``BasicConsoleLogger`` (on the operator's thread), its GXF-named twin,
and the line format they share with ``AsyncConsoleLogger``.

Each message becomes one INFO record of the ``holoflow.data_loggers`` logger, in Holoscan's
layout (the first line here is one line)::

    BasicConsoleLogger[ID:tx.out][Acquisition Timestamp:-1][Emit Timestamp:1733...]
    [Category:TensorMap][Type Name: TensorMap][Stream: none] TensorMap(size=1) {...}
    MetadataDictionary(size=1) {'k': Python(int): 3}

The second line is there when metadata is logged and the operator uses metadata.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from holoflow.core import DataLoggerResource, IOSpec
from holoflow.data_loggers._serializer import SimpleTextSerializer
from holoflow.logger import get_logger
from holoflow.tensor import Tensor, TensorMap

if TYPE_CHECKING:
    from collections.abc import Mapping

    from holoflow.core import Clock, Fragment, Subgraph

__all__ = ["BasicConsoleLogger", "GXFConsoleLogger", "format_line", "serializer_of"]

log = get_logger("holoflow.data_loggers")
_OUTPUT = IOSpec.IOType.OUTPUT


def serializer_of(logger: Any) -> SimpleTextSerializer:
    """The logger's ``serializer`` parameter, made (a default one) when it has none.

    Raises
    ------
    TypeError
        If the parameter is not a :class:`SimpleTextSerializer`.
    """
    serializer = getattr(logger, "serializer", None)
    if serializer is None:
        serializer = SimpleTextSerializer(logger.fragment, name="serializer")
        logger.add_arg(serializer=serializer)
    if not isinstance(serializer, SimpleTextSerializer):
        raise TypeError(
            f"{logger.name}: serializer must be a SimpleTextSerializer, not {type(serializer).__name__}"
        )
    return serializer


def format_line(
    prefix: str,
    serializer: SimpleTextSerializer,
    data: Any,
    unique_id: str,
    acquisition_timestamp: int,
    timestamp: int,
    metadata: Mapping[str, Any] | None,
    io_type: IOSpec.IOType,
    stream: int | None,
    log_data_content: bool,
    category: str | None = None,
) -> str:
    """One log record for a message (see the module docstring)."""
    cls = type(data)
    if cls is TensorMap:
        content = serializer.serialize_tensormap_to_string(data, log_data_content)
        category = category or "TensorMap"
    elif cls is Tensor:
        content = serializer.serialize_tensor_to_string(data, log_data_content)
        category = category or "Tensor"
    else:
        content = serializer._value(data, log_data_content)
        category = category or "Message"
    if metadata is not None:
        content += "\n" + serializer.serialize_metadata_to_string(metadata)
    when = "Emit Timestamp" if io_type is _OUTPUT else "Receive Timestamp"
    stream_info = "none" if stream is None else f"0x{stream:x}"
    return (
        f"{prefix}[ID:{unique_id}][Acquisition Timestamp:{acquisition_timestamp}][{when}:{timestamp}]"
        f"[Category:{category}][Type Name: {cls.__qualname__}][Stream: {stream_info}] {content}"
    )


class BasicConsoleLogger(DataLoggerResource):
    """Logs every message as it is emitted or received, on the operator's thread.

    Parameters
    ----------
    fragment : Fragment or Subgraph
        Owner.
    serializer : SimpleTextSerializer, optional
        How messages become text; a default one is made when omitted.
    log_inputs, log_outputs, log_metadata, log_tensor_data_content, use_scheduler_clock, clock,
    allowlist_patterns, denylist_patterns
        As :class:`~holoflow.core.DataLoggerResource` (``use_scheduler_clock`` defaults to
        ``True`` here, as in Holoscan).
    name : str
        The logger's name.
    """

    _default_name = "basic_console_logger"
    _prefix = "BasicConsoleLogger"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        serializer: SimpleTextSerializer | None = None,
        log_inputs: bool = True,
        log_outputs: bool = True,
        log_metadata: bool = True,
        log_tensor_data_content: bool = True,
        use_scheduler_clock: bool = True,
        clock: Clock | None = None,
        allowlist_patterns: list[str] | None = None,
        denylist_patterns: list[str] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            fragment,
            serializer=serializer,
            log_inputs=log_inputs,
            log_outputs=log_outputs,
            log_metadata=log_metadata,
            log_tensor_data_content=log_tensor_data_content,
            use_scheduler_clock=use_scheduler_clock,
            clock=clock,
            allowlist_patterns=list(allowlist_patterns or ()),
            denylist_patterns=list(denylist_patterns or ()),
            name=self._default_name if name is None else name,
        )

    def setup(self, spec: Any) -> None:
        spec.param("serializer", None)
        super().setup(spec)

    def initialize(self) -> None:
        super().initialize()
        self._serializer = serializer_of(self)

    def log_data(
        self,
        data: Any,
        unique_id: str,
        acquisition_timestamp: int = -1,
        metadata: Mapping[str, Any] | None = None,
        io_type: IOSpec.IOType = _OUTPUT,
        stream: int | None = None,
    ) -> bool:
        """Write the message's line now, unless the patterns leave ``unique_id`` out, ``data``
        is ``None`` or the ``holoflow.data_loggers`` logger drops INFO records; returns ``True``
        either way."""
        if data is None or not self.should_log_message(unique_id) or not log.isEnabledFor(logging.INFO):
            return True
        serializer = getattr(self, "_serializer", None) or serializer_of(self)
        line = format_line(
            self._prefix,
            serializer,
            data,
            unique_id,
            acquisition_timestamp,
            self.get_timestamp(),
            metadata if self.should_log_metadata() else None,
            io_type,
            stream,
            self.should_log_tensor_data_content(),
        )
        log.info("%s", line)
        return True


class GXFConsoleLogger(BasicConsoleLogger):
    """:class:`BasicConsoleLogger` under the name Holoscan gives its GXF-entity-aware variant.

    In holoflow an emitted ``holoflow.gxf.Entity`` already travels as a TensorMap, which
    :class:`BasicConsoleLogger` logs, so the two behave the same.
    """

    _default_name = "gxf_basic_console_logger"
