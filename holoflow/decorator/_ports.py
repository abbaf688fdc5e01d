"""``Input`` and ``Output``: the ports of an operator made by ``create_op``, and how they map to
the function's arguments and return value."""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, SupportsIndex

from holoflow.core import ConditionType, IOSpec, OperatorSpec, QueuePolicy
from holoflow.errors import GraphError

__all__ = ["Input", "Output"]


@dataclass
class Input:
    """An input port of a ``create_op`` operator, and the argument(s) its messages fill.

    Parameters
    ----------
    name : str
        The port name.
    arg_map : str, dict of str to str, or empty
        A str: the message received on the port is passed as the function argument of that name
        (when the message is a dict of tensors, the tensor of that name, or its only tensor).
        A dict: the message is a dict of tensors; each key names a tensor and its value the
        argument that tensor is passed as. Empty (the default) or ``None``: the message is
        received and dropped.
    size : int or IOSpec.IOSize
        The port's queue size (``IOSpec.SIZE_ONE`` by default; ``IOSpec.ANY_SIZE`` and
        ``IOSpec.PRECEDING_COUNT`` as for ``spec.input``).
    policy : IOSpec.QueuePolicy, optional
        What a full queue does (POP, REJECT, FAULT); the default policy when ``None``.
    condition_type, condition_kwargs
        A condition to declare on the port instead of the default one, and its arguments.
    connector_type, connector_kwargs
        A connector to declare on the port, and its arguments (``capacity``, ``policy``).
    """

    name: str
    arg_map: str | dict[str, str] | tuple[()] | None = ()
    size: SupportsIndex = IOSpec.SIZE_ONE
    policy: QueuePolicy | None = None
    condition_type: ConditionType | None = None
    condition_kwargs: dict[str, Any] = field(default_factory=dict)
    connector_type: IOSpec.ConnectorType | None = None
    connector_kwargs: dict[str, Any] = field(default_factory=dict)

    def create_input(self, spec: OperatorSpec) -> IOSpec:
        """Declare this port on ``spec``; returns its ``IOSpec``.

        Raises
        ------
        holoflow.errors.GraphError
            If ``size`` is not an int or ``IOSpec.IOSize``, or ``policy`` not a ``QueuePolicy``.
        """
        size, policy = _checked(self, "input")
        port = spec.input(self.name, size=size, policy=policy)
        _add_condition_and_connector(self, port)
        return port


@dataclass
class Output:
    """An output port of a ``create_op`` operator, and what of the return value it emits.

    Parameters
    ----------
    name : str
        The port name.
    tensor_names : str, tuple of str, or empty
        Empty (the default) or ``None``: the port emits the return value (an array is emitted
        as a dict holding it under the name ``""``). Names: the return value is a dict of
        tensors and the port emits a dict of just these (a single name with an array as the
        return value emits a dict holding the array under that name).
    size, policy, condition_type, condition_kwargs, connector_type, connector_kwargs
        As for :class:`Input`.
    """

    name: str
    tensor_names: str | tuple[str, ...] | None = ()
    size: SupportsIndex = IOSpec.SIZE_ONE
    policy: QueuePolicy | None = None
    condition_type: ConditionType | None = None
    condition_kwargs: dict[str, Any] = field(default_factory=dict)
    connector_type: IOSpec.ConnectorType | None = None
    connector_kwargs: dict[str, Any] = field(default_factory=dict)

    def create_output(self, spec: OperatorSpec) -> IOSpec:
        """Declare this port on ``spec``; returns its ``IOSpec``.

        Raises
        ------
        holoflow.errors.GraphError
            If ``size`` is not an int or ``IOSpec.IOSize``, or ``policy`` not a ``QueuePolicy``.
        """
        size, policy = _checked(self, "output")
        port = spec.output(self.name, size=size, policy=policy)
        _add_condition_and_connector(self, port)
        return port

    def names(self) -> tuple[str, ...]:
        """``tensor_names`` as a tuple (empty for ``None`` or ``()``)."""
        names = self.tensor_names
        if not names:
            return ()
        if isinstance(names, str):
            return (names,)
        if not all(isinstance(name, str) for name in names):
            raise GraphError(f"output port '{self.name}': tensor_names must be strings, got {names!r}")
        return tuple(names)


def input_arguments(port: Input, label: str) -> tuple[str, ...]:
    """The function arguments that ``port``'s messages fill (empty when it maps none); ``label``
    names the operator in errors.

    Raises
    ------
    holoflow.errors.GraphError
        If ``arg_map`` is not a str, a dict of str to str, or empty.
    """
    arg_map = port.arg_map
    if isinstance(arg_map, str):
        return (arg_map,)
    if isinstance(arg_map, Mapping):
        if all(isinstance(k, str) and isinstance(v, str) for k, v in arg_map.items()):
            return tuple(arg_map.values())
    elif not arg_map:
        return ()
    raise GraphError(
        f"{label}: input port '{port.name}': arg_map must be an argument name, a dict of tensor names to "
        f"argument names, or empty; got {arg_map!r}"
    )


def _checked(port: Input | Output, kind: str) -> tuple[int, QueuePolicy | None]:
    size = port.size
    if isinstance(size, bool) or not isinstance(size, (int, IOSpec.IOSize)):
        raise GraphError(
            f"{kind} port '{port.name}': invalid size {size!r}; use an int or IOSpec.IOSize "
            "(IOSpec.SIZE_ONE, IOSpec.ANY_SIZE, IOSpec.PRECEDING_COUNT)"
        )
    if port.policy is not None and not isinstance(port.policy, QueuePolicy):
        raise GraphError(
            f"{kind} port '{port.name}': invalid policy {port.policy!r}; use an IOSpec.QueuePolicy "
            "(POP, REJECT, FAULT) or None"
        )
    return operator.index(size), port.policy


def _add_condition_and_connector(port: Input | Output, spec: IOSpec) -> None:
    if port.condition_type is not None:
        spec.condition(port.condition_type, **port.condition_kwargs)
    if port.connector_type is not None:
        spec.connector(port.connector_type, **port.connector_kwargs)
