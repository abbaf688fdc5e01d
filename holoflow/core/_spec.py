"""Port declarations: ``IOSpec`` and ``OperatorSpec`` (``spec.input`` / ``spec.output``)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from holoflow.core._arg import Arg, ArgList
from holoflow.core._component import ComponentSpec, ParameterFlag
from holoflow.core._condition import ConditionType
from holoflow.core._queue import QueuePolicy
from holoflow.errors import GraphError

# IOSpec re-exports QueuePolicy as its class attribute ``IOSpec.QueuePolicy`` (Holoscan's spelling);
# inside the class body that name would shadow the module-level one in annotations, so they use
# this alias.
_Policy = QueuePolicy

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment

__all__ = ["IOSpec", "MultiMessageConditionInfo", "OperatorSpec"]

_MULTI_PORT_KINDS = (ConditionType.MULTI_MESSAGE_AVAILABLE, ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT)


class _IOSize:
    """A queue size: a positive int, or one of the special sizes ANY_SIZE / PRECEDING_COUNT."""

    __slots__ = ("size",)

    def __init__(self, size: int) -> None:
        self.size = int(size)

    def __int__(self) -> int:
        return self.size

    def __index__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _IOSize):
            return self.size == other.size
        if isinstance(other, int):
            return self.size == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.size)

    def __repr__(self) -> str:
        return f"IOSize({self.size})"


class IOSpec:
    """One declared port: its name, direction, queue size and policy, conditions and connector.

    Queue sizes: ``IOSpec.SIZE_ONE`` (default), any int ≥ 1 (the operator then receives a tuple
    of that many messages per compute), ``IOSpec.PRECEDING_COUNT`` (one message from each
    connection, as a tuple) and ``IOSpec.ANY_SIZE`` (any number of connections, each its own
    queue; ``receive`` returns a tuple with one item per connection in connection order).
    """

    class IOType(enum.Enum):
        """Direction of a port."""

        INPUT = 0
        OUTPUT = 1

    class ConnectorType(enum.Enum):
        """Kind of queue between ports."""

        DEFAULT = 0
        DOUBLE_BUFFER = 1
        ASYNC_BUFFER = 2
        UCX = 3

    IOSize = _IOSize
    QueuePolicy = QueuePolicy
    ANY_SIZE = _IOSize(-1)
    PRECEDING_COUNT = _IOSize(0)
    SIZE_ONE = _IOSize(1)

    def __init__(
        self,
        owner_label: str,
        name: str,
        io_type: IOSpec.IOType,
        size: int | _IOSize = 1,
        policy: _Policy | int | None = None,
    ) -> None:
        self._owner_label = owner_label
        self._name = name
        self._io_type = io_type
        self._queue_size = 1
        self.queue_size = int(size)
        self._queue_policy: _Policy | None = None
        self.queue_policy = policy
        self._conditions: list[tuple[ConditionType, dict[str, Any]]] = []
        self._connector_type = IOSpec.ConnectorType.DEFAULT
        self._connector_kwargs: dict[str, Any] = {}

    @property
    def name(self) -> str:
        """Port name."""
        return self._name

    @property
    def io_type(self) -> IOSpec.IOType:
        """INPUT or OUTPUT."""
        return self._io_type

    @property
    def queue_size(self) -> int:
        """Declared queue size (-1 ANY_SIZE, 0 PRECEDING_COUNT, else the batch size)."""
        return self._queue_size

    @queue_size.setter
    def queue_size(self, value: int | _IOSize) -> None:
        size = int(value)
        if size < -1:
            raise ValueError(
                f"{self.label}: invalid queue size {size}; use an int >= 1, "
                "IOSpec.ANY_SIZE or IOSpec.PRECEDING_COUNT"
            )
        if size <= 0 and self._io_type is IOSpec.IOType.OUTPUT:
            raise ValueError(f"{self.label}: output ports take a queue size >= 1, got {size}")
        self._queue_size = size

    @property
    def queue_policy(self) -> _Policy | None:
        """Policy for a full queue; ``None`` means the default (FAULT)."""
        return self._queue_policy

    @queue_policy.setter
    def queue_policy(self, value: _Policy | int | None) -> None:
        self._queue_policy = None if value is None else QueuePolicy(value)

    @property
    def label(self) -> str:
        """``"operator 'x': input port 'in'"``, for messages."""
        kind = "input" if self._io_type is IOSpec.IOType.INPUT else "output"
        return f"{self._owner_label}: {kind} port '{self._name}'"

    @property
    def conditions(self) -> list[tuple[ConditionType, dict[str, Any]]]:
        """Conditions declared on the port, as (type, keyword arguments)."""
        return list(self._conditions)

    def condition(self, kind: ConditionType, **kwargs: Any) -> IOSpec:
        """Declare a condition on this port (replaces the default one); returns the spec.

        ``ConditionType.NONE`` removes the default condition: the operator then runs without
        waiting for this port, and ``receive`` may return ``None``.
        """
        if not isinstance(kind, ConditionType):
            raise TypeError(f"{self.label}: condition kind must be a ConditionType, not {kind!r}")
        self._conditions.append((kind, dict(kwargs)))
        return self

    def connector(self, kind: IOSpec.ConnectorType | None = None, **kwargs: Any) -> Any:
        """Set the connector (``capacity=``, ``policy=``) and return the spec; no args: get it."""
        if kind is None and not kwargs:
            return self._connector_type
        if kind is not None:
            self._connector_type = IOSpec.ConnectorType(kind)
        unknown = set(kwargs) - {"capacity", "policy"}
        if unknown:
            raise TypeError(f"{self.label}: unknown connector argument(s) {sorted(unknown)}")
        if "capacity" in kwargs and int(kwargs["capacity"]) < 1:
            raise ValueError(f"{self.label}: connector capacity must be >= 1, got {kwargs['capacity']}")
        self._connector_kwargs.update(kwargs)
        return self

    @property
    def connector_type(self) -> IOSpec.ConnectorType:
        """The connector kind (DEFAULT unless ``connector`` set one)."""
        return self._connector_type

    # -- resolved values used by the executor ------------------------------------------------------
    def _capacity(self, n_connections: int) -> int:
        if "capacity" in self._connector_kwargs:
            return int(self._connector_kwargs["capacity"])
        if self._queue_size == 0:
            return max(n_connections, 1)
        return max(self._queue_size, 1)

    def _policy(self, default: _Policy) -> _Policy:
        if "policy" in self._connector_kwargs:
            return QueuePolicy(self._connector_kwargs["policy"])
        return self._queue_policy if self._queue_policy is not None else default

    def __repr__(self) -> str:
        return f"<IOSpec {self.label} size={self._queue_size}>"


class MultiMessageConditionInfo:
    """One condition declared over several input ports with ``OperatorSpec.multi_port_condition``.

    Attributes
    ----------
    kind : ConditionType
        ``MULTI_MESSAGE_AVAILABLE`` or ``MULTI_MESSAGE_AVAILABLE_TIMEOUT``.
    port_names : list of str
        The input ports the condition watches, in order (``min_sizes`` follows this order).
    args : ArgList
        The keyword arguments given for the condition.
    """

    def __init__(
        self,
        kind: ConditionType = ConditionType.MULTI_MESSAGE_AVAILABLE,
        port_names: Iterable[str] = (),
        args: ArgList | None = None,
    ) -> None:
        self.kind = kind
        self.port_names = list(port_names)
        self.args = args if args is not None else ArgList()

    def __repr__(self) -> str:
        return f"MultiMessageConditionInfo({self.kind.name}, {self.port_names!r}, {self.args!r})"


class OperatorSpec(ComponentSpec):
    """What an operator declares in ``setup(spec)``: input and output ports, parameters, and the
    conditions that span several input ports."""

    def __init__(self, fragment: Fragment | None = None, owner_label: str = "operator") -> None:
        super().__init__(fragment, owner_label)
        self._inputs: dict[str, IOSpec] = {}
        self._outputs: dict[str, IOSpec] = {}
        self._multi_port_conditions: list[MultiMessageConditionInfo] = []
        self._or_combined: list[list[str]] = []

    def input(
        self, name: str = "", *, size: int | _IOSize = 1, policy: _Policy | int | None = None
    ) -> IOSpec:
        """Declare an input port; returns its ``IOSpec`` for chaining ``.condition(...)``."""
        return self._add_port(self._inputs, name, IOSpec.IOType.INPUT, size, policy)

    def output(
        self, name: str = "", *, size: int | _IOSize = 1, policy: _Policy | int | None = None
    ) -> IOSpec:
        """Declare an output port; returns its ``IOSpec``."""
        return self._add_port(self._outputs, name, IOSpec.IOType.OUTPUT, size, policy)

    def param(
        self,
        name: str,
        default_value: Any = None,
        flag: ParameterFlag = ParameterFlag.NONE,
        *,
        headline: str = "",
        description: str = "",
        kind: str = "",
    ) -> None:
        """Declare a parameter; ``kind="receivers"`` declares an ``ANY_SIZE`` input instead."""
        if kind == "receivers":
            self.input(name, size=IOSpec.ANY_SIZE)
            return
        if kind:
            raise ValueError(f"{self._owner_label}: unknown parameter kind {kind!r}; use 'receivers'")
        super().param(name, default_value, flag, headline=headline, description=description)

    def multi_port_condition(self, kind: ConditionType, port_names: Iterable[str], **kwargs: Any) -> None:
        """Declare one condition over several input ports.

        ``kind`` is ``ConditionType.MULTI_MESSAGE_AVAILABLE`` or
        ``MULTI_MESSAGE_AVAILABLE_TIMEOUT``; ``kwargs`` are the condition's arguments
        (``sampling_mode``, ``min_sum``, ``min_sizes``, and ``execution_frequency`` for the timeout
        kind). The named ports get no default ``MessageAvailableCondition``. The ports and the
        arguments are checked when the graph is built, before anything runs.

        Raises
        ------
        TypeError
            If ``port_names`` is a single string or holds something other than strings.
        GraphError
            If ``kind`` is not a multi-message kind, or ``port_names`` is empty or names a
            port twice.
        """
        if kind not in _MULTI_PORT_KINDS:
            raise GraphError(
                f"{self._owner_label}: multi_port_condition takes ConditionType."
                f"MULTI_MESSAGE_AVAILABLE or MULTI_MESSAGE_AVAILABLE_TIMEOUT, not {kind!r}"
            )
        names = self._port_list("multi_port_condition", port_names)
        args = ArgList(Arg(key, value) for key, value in kwargs.items())
        self._multi_port_conditions.append(MultiMessageConditionInfo(kind, names, args))

    def multi_port_conditions(self) -> list[MultiMessageConditionInfo]:
        """The conditions declared with :meth:`multi_port_condition`, in declaration order."""
        return list(self._multi_port_conditions)

    def or_combine_port_conditions(self, port_names: Iterable[str]) -> None:
        """Combine the conditions of the named input ports with OR instead of AND.

        The operator may then run when any one of those ports' conditions is ready (the default
        ``MessageAvailableCondition`` included); the result is ANDed with its other conditions.
        The ports are checked when the graph is built.

        Raises
        ------
        TypeError
            If ``port_names`` is a single string or holds something other than strings.
        GraphError
            If ``port_names`` is empty or names a port twice.
        """
        self._or_combined.append(self._port_list("or_combine_port_conditions", port_names))

    def _or_groups(self) -> list[list[str]]:
        """The port lists given to :meth:`or_combine_port_conditions`, in order."""
        return [list(group) for group in self._or_combined]

    def _description_lines(self) -> list[str]:
        lines = super()._description_lines()
        for title, ports in (("inputs", self._inputs), ("outputs", self._outputs)):
            lines.append(f"{title}:")
            if not ports:
                lines.append("  []")
            for port in ports.values():
                lines.append(f"  - name: {port.name}")
                lines.append(f"    io_type: {port.io_type.name}")
                lines.append(f"    queue_size: {port.queue_size}")
                lines.append(f"    connector_type: {port.connector_type.name}")
                kinds = [kind.name for kind, _ in port.conditions]
                lines.append(f"    conditions: [{', '.join(kinds)}]")
        return lines

    @property
    def inputs(self) -> dict[str, IOSpec]:
        """Input ports by name."""
        return dict(self._inputs)

    @property
    def outputs(self) -> dict[str, IOSpec]:
        """Output ports by name."""
        return dict(self._outputs)

    def _port_list(self, method: str, port_names: Iterable[str]) -> list[str]:
        if isinstance(port_names, str):
            raise TypeError(
                f"{self._owner_label}: {method} takes a list of port names, not the string {port_names!r}"
            )
        names = list(port_names)
        if not all(isinstance(name, str) for name in names):
            raise TypeError(f"{self._owner_label}: {method} takes port names as strings, got {names!r}")
        if not names:
            raise GraphError(f"{self._owner_label}: {method} needs at least one port name")
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise GraphError(f"{self._owner_label}: {method} names port(s) {twice} more than once")
        return names

    def _add_port(
        self,
        table: dict[str, IOSpec],
        name: str,
        io_type: IOSpec.IOType,
        size: int | _IOSize,
        policy: _Policy | int | None,
    ) -> IOSpec:
        if not isinstance(name, str):
            raise TypeError(f"{self._owner_label}: port name must be a str, not {type(name).__name__}")
        if name in table:
            kind = "input" if io_type is IOSpec.IOType.INPUT else "output"
            raise ValueError(f"{self._owner_label}: {kind} port '{name}' is declared twice")
        port = IOSpec(self._owner_label, name, io_type, size, policy)
        table[name] = port
        return port
