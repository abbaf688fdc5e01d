"""Input and output contexts that hand each message to the fragment's data loggers.

A run builds these instead of the plain contexts only for a fragment with data loggers, so
fragments without any keep the plain ``receive`` / ``emit``. Which loggers see a port is
decided once per run (``log_inputs`` / ``log_outputs`` and the allow/deny patterns only depend
on the port's unique id), so a port no logger wants costs one dictionary lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from holoflow.core._context import InputContext, OutputContext, PortMode
from holoflow.core._data_logger import DataLogger, DataLoggerResource
from holoflow.core._metadata import NO_METADATA
from holoflow.core._spec import IOSpec
from holoflow.tensor import EMITTED_AS_TENSOR_MAP, Tensor, TensorMap

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["LoggedInputs", "LoggedOutputs", "LoggingInputContext", "LoggingOutputContext", "loggers_for"]

_INPUT = IOSpec.IOType.INPUT
_OUTPUT = IOSpec.IOType.OUTPUT
_Loggers = tuple[DataLogger, ...]


def loggers_for(loggers: Sequence[DataLogger], unique_id: str, io_type: IOSpec.IOType) -> _Loggers:
    """The loggers that log messages of ``unique_id`` in direction ``io_type``."""
    wanted = []
    for logger in loggers:
        if not (logger.should_log_output() if io_type is _OUTPUT else logger.should_log_input()):
            continue
        if isinstance(logger, DataLoggerResource) and not logger.should_log_message(unique_id):
            continue
        wanted.append(logger)
    return tuple(wanted)


def _log(
    loggers: _Loggers,
    data: Any,
    unique_id: str,
    acquisition_timestamp: int,
    metadata: Mapping[str, Any] | None,
    io_type: IOSpec.IOType,
) -> None:
    cls = type(data)
    for logger in loggers:
        if cls is TensorMap:
            logger.log_tensormap_data(data, unique_id, acquisition_timestamp, metadata, io_type)
        elif cls is Tensor:
            logger.log_tensor_data(data, unique_id, acquisition_timestamp, metadata, io_type)
        else:
            logger.log_data(data, unique_id, acquisition_timestamp, metadata, io_type)


class LoggedInputs:
    """What makes an input context log: ``receive`` logs what the context it is mixed into
    (``_base_receive``) returns.

    Each message received is logged once, with the operator's metadata as it is after the
    message's metadata merged in; an ``ANY_SIZE`` port logs the item of connection ``i`` as
    ``"<op>.<port>:<i>"``. ``None`` (nothing received) is not logged. The class mixing it in
    declares the slots ``_by_port``, ``_logged``, ``_op_name`` and ``_per_connection``.
    """

    __slots__ = ()
    _by_port: dict[str, _Loggers]
    _logged: frozenset[str]
    _op_name: str
    _per_connection: set[str]
    _ports: dict[str, Any]
    _only: str
    _fast: dict[str, Any]
    _acquired: dict[str, list[int]] | None
    _metadata: Any
    _base_receive: Callable[..., Any]

    def attach(self, op_name: str, loggers: Sequence[DataLogger]) -> None:
        """Choose, for each port, the loggers that want it (as the run initializes)."""
        # The slots are declared by the class that mixes this in.
        self._op_name = op_name  # type: ignore[misc]
        self._by_port = {}  # type: ignore[misc]
        self._per_connection = set()  # type: ignore[misc]
        for name, port in self._ports.items():
            if not name:
                continue
            self._by_port[name] = loggers_for(loggers, f"{op_name}.{name}", _INPUT)
            if port.mode is PortMode.PER_CONNECTION:
                self._per_connection.add(name)
        if self._only:
            self._by_port[""] = self._by_port[self._only]
        self._logged = frozenset(name for name, loggers in self._by_port.items() if loggers)  # type: ignore[misc]
        # A logged port is read by the general path, which the logging code wraps.
        self._fast = {name: queue for name, queue in self._fast.items() if name not in self._logged}  # type: ignore[misc]

    def receive(self, name: str = "", *, kind: str = "") -> Any:
        if name not in self._logged:
            return self._base_receive(name, kind=kind)
        acquired = self._acquired
        before = len(acquired.get(name or self._only, ())) if acquired else 0
        value = self._base_receive(name, kind=kind)
        loggers = self._by_port.get(name)
        if not loggers or value is None:
            return value
        port = name or self._only
        unique_id = f"{self._op_name}.{port}"
        metadata = None if self._metadata is None else self._metadata._items
        times: Sequence[int] = self._acquired.get(port, ()) if self._acquired else ()
        if type(value) is tuple:
            indexed = port in self._per_connection
            for index, item in enumerate(value):
                if item is not None:
                    item_id = f"{unique_id}:{index}" if indexed else unique_id
                    _log(loggers, item, item_id, -1, metadata, _INPUT)
        else:
            stamp = times[-1] if len(times) > before else -1
            _log(loggers, value, unique_id, stamp, metadata, _INPUT)
        return value


class LoggingInputContext(LoggedInputs, InputContext):
    """An :class:`InputContext` whose ``receive`` also logs what it returns (see
    :class:`LoggedInputs`)."""

    __slots__ = ("_by_port", "_logged", "_op_name", "_per_connection")
    _base_receive = InputContext.receive


class LoggedOutputs:
    """What makes an output context log: ``emit`` also logs what it sends (through the context
    it is mixed into, ``_base_emit``), with the operator's metadata as it is at the call. The
    class mixing it in declares the slots ``_by_port`` and ``_op_name``."""

    __slots__ = ()
    _by_port: dict[str, _Loggers]
    _op_name: str
    _ports: dict[str, Any]
    _streams: Any
    _metadata: Any
    _base_emit: Callable[..., None]

    def attach(self, op_name: str, loggers: Sequence[DataLogger]) -> None:
        """Choose, for each port, the loggers that want it (as the run initializes)."""
        # The slots are declared by the class that mixes this in.
        self._op_name = op_name  # type: ignore[misc]
        self._by_port = {}  # type: ignore[misc]
        for name in self._ports:
            if name:
                self._by_port[name] = loggers_for(loggers, f"{op_name}.{name}", _OUTPUT)
        if len(self._by_port) == 1:
            self._by_port[""] = next(iter(self._by_port.values()))

    def emit(self, data: Any, name: str = "", emitter_name: str = "", acq_timestamp: int = -1) -> None:
        loggers = self._by_port.get(name)
        if not loggers:
            self._base_emit(data, name, emitter_name, acq_timestamp)
            return
        convert = EMITTED_AS_TENSOR_MAP.get(type(data))
        if convert is not None:  # log what receivers get: the TensorMap
            data = convert(data)
            self._streams.stamp(name, data)
        self._base_emit(data, name, emitter_name, acq_timestamp)
        if not name:
            name = next(n for n in self._ports if n)
        metadata = None if self._metadata is NO_METADATA else self._metadata
        _log(loggers, data, f"{self._op_name}.{name}", int(acq_timestamp), metadata, _OUTPUT)


class LoggingOutputContext(LoggedOutputs, OutputContext):
    """An :class:`OutputContext` whose ``emit`` also logs what it sends (see
    :class:`LoggedOutputs`)."""

    __slots__ = ("_by_port", "_op_name")
    _base_emit = OutputContext.emit
