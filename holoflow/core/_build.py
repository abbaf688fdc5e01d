"""Building a run: every port's queue, every port's conditions, each operator's contexts.

:func:`build_ports` is called once per run by :class:`~holoflow.core._run.GraphRun`, before any
operator starts, so every mistake it finds (a required input connected to nothing, a condition
a port cannot take, a multi-port condition or OR combination naming a port that does not exist,
a queue policy the environment names wrongly) is raised before ``start``.

Conditions spanning several ports come from the spec too: ``spec.multi_port_condition``
declarations become multi-message conditions bound to the named ports' receivers (those ports
get no default condition), and the conditions of the ports named in
``spec.or_combine_port_conditions`` are ORed into one :class:`~holoflow.core._or_combiner.OrGroup`
instead of being ANDed, as are the terms of an ``OrConditionCombiner`` given to the operator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from holoflow import _env
from holoflow.core._async_buffer import AsyncBufferReceiver, AsyncBufferTransmitter
from holoflow.core._condition import Condition, ConditionType
from holoflow.core._context import InputPort, PortMode
from holoflow.core._flow import INPUT_EXEC, OUTPUT_EXEC
from holoflow.core._multi_message import MultiMessageAvailableCondition, MultiMessageAvailableTimeoutCondition
from holoflow.core._or_combiner import OrConditionCombiner, OrGroup
from holoflow.core._port_conditions import (
    DownstreamMessageAffordableCondition,
    ExpiringMessageAvailableCondition,
    MessageAvailableCondition,
    PortCondition,
)
from holoflow.core._queue import QueuePolicy, Receiver, Transmitter
from holoflow.core._spec import IOSpec
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core._graph import Connection
    from holoflow.core._operator import Operator
    from holoflow.core._run import GraphRun, OpRun

__all__ = ["build_ports"]

_INPUT_CONDITIONS: dict[ConditionType, type[PortCondition]] = {
    ConditionType.MESSAGE_AVAILABLE: MessageAvailableCondition,
    ConditionType.EXPIRING_MESSAGE_AVAILABLE: ExpiringMessageAvailableCondition,
    ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT: MultiMessageAvailableTimeoutCondition,
}
_MULTI_PORT_CONDITIONS: dict[ConditionType, tuple[type[MultiMessageAvailableCondition], str]] = {
    ConditionType.MULTI_MESSAGE_AVAILABLE: (MultiMessageAvailableCondition, "multi_message"),
    ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT: (
        MultiMessageAvailableTimeoutCondition,
        "multi_message_timeout",
    ),
}
_OUTPUT_CONDITIONS: dict[ConditionType, type[PortCondition]] = {
    ConditionType.DOWNSTREAM_MESSAGE_AFFORDABLE: DownstreamMessageAffordableCondition,
}
_POLICY_NAMES = {
    "pop": QueuePolicy.POP,
    "reject": QueuePolicy.REJECT,
    "fail": QueuePolicy.FAULT,
    "fault": QueuePolicy.FAULT,
}

_PortConditions = list[tuple[type[PortCondition], dict[str, Any]]]


def default_policy() -> QueuePolicy:
    """The full-queue policy of ports that set none (``HOLOFLOW_QUEUE_POLICY``, default FAULT).

    Raises
    ------
    GraphError
        If the environment names an unknown policy.
    """
    name = _env.queue_policy_name() or "fail"
    try:
        return _POLICY_NAMES[name.lower()]
    except KeyError:
        raise GraphError(
            f"queue policy {name!r} from the environment is not one of {sorted(_POLICY_NAMES)}"
        ) from None


def build_ports(run: GraphRun) -> None:
    """Give every operator of ``run`` its receivers, transmitters and port conditions, and link
    producers to consumers.

    When the fragment has edges to other fragments (``fragment._holoflow_edges``, set by
    ``holoflow.distributed``), ``edges.inbound[(op, port)]`` lists ends feeding that input: each
    gets a receiver of its own (after the local ones of an ``ANY_SIZE`` port; on any other port it
    must be the only connection), handed to it with ``end.bind(receiver)``;
    ``edges.outbound[(op, port)]`` lists ends appended to that output's transmitter receivers
    (each quacks like a receiver: ``queue``, ``capacity``, ``reserved``, ``push``, and
    ``tracks_arrivals`` true, so messages reach it one ``push`` at a time); and ``edges.bind(run)``
    is called once everything is wired.

    Raises
    ------
    GraphError
        If a port is left unconnected while a condition waits on it, a port declares a
        condition it cannot take, or a multi-port condition or OR combination names an unknown
        port or has invalid arguments.
    """
    policy = default_policy()
    connections = run.fragment.graph.connections
    by_op = {id(op_run.op): op_run for op_run in run.ops}
    for op_run in run.ops:
        ored = _build_inputs(run, op_run, [c for c in connections if c.target is op_run.op], policy)
        _build_or_groups(run, op_run, ored)
        _build_multi_port_conditions(run, op_run)
    for op_run in run.ops:
        outgoing = [c for c in connections if c.source is op_run.op]
        _build_outputs(run, op_run, outgoing, by_op, connections, policy)
    for c in connections:
        source, target = by_op[id(c.source)], by_op[id(c.target)]
        if target not in source.consumers:
            source.consumers.append(target)
        if source not in target.producers:
            target.producers.append(source)
    for op_run in run.ops:
        _bind_user_conditions(run, op_run)
    if run.edges is not None:
        run.edges.bind(run)


def _port_conditions(
    spec: IOSpec,
    user_bound: bool,
    table: dict[ConditionType, type[PortCondition]],
    default: _PortConditions,
) -> _PortConditions:
    """A port's conditions: none (``ConditionType.NONE``), the declared ones, none when the
    user bound a condition object to the port, else the default."""
    declared = spec.conditions
    if any(kind is ConditionType.NONE for kind, _ in declared):
        return []
    if declared:
        return [(_condition_class(spec, kind, table), kwargs) for kind, kwargs in declared]
    return [] if user_bound else default


def _condition_class(
    spec: IOSpec, kind: ConditionType, table: dict[ConditionType, type[PortCondition]]
) -> type[PortCondition]:
    if kind not in table:
        raise GraphError(
            f"{spec.label}: condition {kind.name} is not supported on this port; "
            f"supported: {sorted(k.name for k in table)} or NONE"
        )
    return table[kind]


def _build_inputs(
    run: GraphRun, op_run: OpRun, incoming: list[Connection], policy: QueuePolicy
) -> dict[str, list[Condition]]:
    """Build the input ports and their conditions; return the conditions of the ports that
    ``or_combine_port_conditions`` names (kept out of the operator's AND) by port."""
    op_spec = op_run.op.spec
    # A port watched by a condition object, or named in a multi-port condition, gets no default.
    no_default = {c.receiver_name for c in _user_conditions(op_run.op) if c.receiver_name}
    no_default.update(name for info in op_spec.multi_port_conditions() for name in info.port_names)
    or_ports = {name for group in op_spec._or_groups() for name in group}
    ored: dict[str, list[Condition]] = {}
    edges = run.edges
    fed: dict[str, list[Any]] = {}
    if edges is not None:  # inputs fed from other fragments (a distributed application)
        op_name = op_run.op.name
        fed = {port: ends for (op, port), ends in edges.inbound.items() if op == op_name}
    for name, spec in op_spec.inputs.items():
        links = [c for c in incoming if c.input == name]
        if name == INPUT_EXEC and _on_cycle(run, op_run, incoming):
            # On a cycle the signals of one round never all arrive before it runs: one suffices.
            spec = _single_signal_port(spec)
            op_run.on_cycle = True
        min_size = len(links) if spec.queue_size == 0 else max(spec.queue_size, 1)
        default: _PortConditions = [(MessageAvailableCondition, {"min_size": max(min_size, 1)})]
        is_async = spec.connector_type is IOSpec.ConnectorType.ASYNC_BUFFER
        if is_async:
            default = []  # the consumer runs at its own rate
        conds = _port_conditions(spec, name in no_default, _INPUT_CONDITIONS, default)
        tracks = any(cls.tracks_arrivals for cls, _ in conds)
        queue_policy = spec._policy(policy)
        if is_async:
            mode = PortMode.SINGLE
            receivers = _async_receivers(run, op_run, spec, links, tracks)
        elif spec.queue_size == IOSpec.ANY_SIZE:
            mode = PortMode.PER_CONNECTION
            receivers = [
                Receiver(f"{op_run.label}: input port '{name}:{k}'", spec._capacity(1), queue_policy, tracks)
                for k in range(len(links) + len(fed.get(name, ())))
            ]
            for end, receiver in zip(fed.get(name, ()), receivers[len(links) :], strict=True):
                end.bind(receiver)
        else:
            mode = PortMode.SINGLE if spec.queue_size == 1 else PortMode.BATCH
            ends = fed.get(name, [])
            if ends and (links or len(ends) > 1):
                raise GraphError(
                    f"{op_run.label}: input port '{name}' is fed by {len(links) + len(ends)} connections, "
                    f"{len(ends)} of them from other fragments; a port fed from another fragment takes "
                    "only that connection unless it is declared with IOSpec.ANY_SIZE"
                )
            if ends:
                receivers = [Receiver(spec.label, spec._capacity(1), queue_policy, tracks)]
                ends[0].bind(receivers[0])
            elif links:
                receivers = [Receiver(spec.label, spec._capacity(len(links)), queue_policy, tracks)]
            elif conds:
                raise GraphError(
                    f"{op_run.label}: input port '{name}' is connected to nothing, so it can never "
                    "receive the message its condition waits for; connect it with add_flow or "
                    "declare it with .condition(ConditionType.NONE)"
                )
            else:
                receivers = []
        built = ored.setdefault(name, []) if name in or_ports else None
        for receiver in receivers:
            for cls, kwargs in conds:
                condition = _make(run, cls, kwargs, spec.label)
                condition.bind(receiver)
                if built is None:
                    run.add_condition(op_run, condition)
                else:
                    built.append(condition)
        op_run.input_ports[name] = InputPort(spec.label, mode, receivers)
    return ored


def _async_receivers(
    run: GraphRun, op_run: OpRun, spec: IOSpec, links: list[Connection], tracks: bool
) -> list[Receiver]:
    """The async buffer of an ``ASYNC_BUFFER`` input port (none when it is unconnected)."""
    where = f"{op_run.label}: input port '{spec.name}' (ASYNC_BUFFER)"
    if spec.queue_size != 1:
        raise GraphError(f"{where}: an async buffer holds one message; declare the port with size 1")
    if tracks:
        raise GraphError(
            f"{where}: an async buffer keeps no arrival times; it cannot take an expiring condition"
        )
    if len(links) > 1:
        raise GraphError(
            f"{where}: connected to {len(links)} outputs; an async buffer joins one output to one input"
        )
    for link in links:
        source = link.source.spec.outputs[link.output]
        if source.connector_type is not IOSpec.ConnectorType.ASYNC_BUFFER:
            raise GraphError(
                f"{where}: its producer's {source.label} is not an async buffer; connect them with "
                "add_flow(..., IOSpec.ConnectorType.ASYNC_BUFFER) or declare both ends ASYNC_BUFFER"
            )
    return [AsyncBufferReceiver(run.fragment, spec.label)] if links else []


def _build_or_groups(run: GraphRun, op_run: OpRun, ored: dict[str, list[Condition]]) -> None:
    """One OR group per ``or_combine_port_conditions`` call, over its ports' conditions."""
    grouped: set[str] = set()
    for index, group in enumerate(op_run.op.spec._or_groups()):
        for name in group:
            _declared_input(op_run, name, "or_combine_port_conditions")
            if name in grouped:
                raise GraphError(
                    f"{op_run.label}: input port '{name}' is named by two or_combine_port_conditions "
                    "calls; a port's conditions can be ORed in one group only"
                )
            grouped.add(name)
        terms = [condition for name in group for condition in ored.get(name, [])]
        if not terms:
            raise GraphError(
                f"{op_run.label}: or_combine_port_conditions({group}): none of these ports has a "
                "condition to combine"
            )
        run.add_condition(op_run, OrGroup(run.fragment, terms, f"or_condition_combiner{index + 1}"))


def _build_multi_port_conditions(run: GraphRun, op_run: OpRun) -> None:
    """Build each ``multi_port_condition`` declaration, bound to its ports' receivers."""
    for index, info in enumerate(op_run.op.spec.multi_port_conditions()):
        where = f"{op_run.label}: multi-port condition {info.kind.name} on ports {info.port_names}"
        if info.kind not in _MULTI_PORT_CONDITIONS:
            raise GraphError(
                f"{where}: the kind must be MULTI_MESSAGE_AVAILABLE or MULTI_MESSAGE_AVAILABLE_TIMEOUT"
            )
        cls, suffix = _MULTI_PORT_CONDITIONS[info.kind]
        receivers = [_sole_receiver(op_run, name, "multi_port_condition") for name in info.port_names]
        kwargs = {arg.name: arg.value for arg in info.args}
        kwargs.setdefault("name", f"__{op_run.op.name}_{suffix}{index}")
        try:
            condition = cls(run.fragment, **kwargs)
            condition.bind_receivers(receivers)
        except (TypeError, ValueError) as exc:
            raise GraphError(f"{where}: {exc}") from exc
        run.add_condition(op_run, condition)


def _declared_input(op_run: OpRun, name: str | None, what: str) -> InputPort:
    port = op_run.input_ports.get(name or "")
    if port is None:
        raise GraphError(
            f"{op_run.label}: {what} names input port {name!r}; declared inputs: {sorted(op_run.input_ports)}"
        )
    return port


def _sole_receiver(op_run: OpRun, name: str | None, what: str) -> Receiver:
    """The one receiver of input ``name``, which ``what`` watches."""
    port = _declared_input(op_run, name, what)
    if not port.receivers:
        raise GraphError(f"{op_run.label}: input port '{name}' is connected to nothing")
    if port.mode is PortMode.PER_CONNECTION or len(port.receivers) != 1:
        raise GraphError(
            f"{op_run.label}: {what} cannot watch input port '{name}': it must have exactly one "
            "queue (an IOSpec.ANY_SIZE port has one per connection)"
        )
    return port.receivers[0]


def _on_cycle(run: GraphRun, op_run: OpRun, incoming: list[Connection]) -> bool:
    """Whether an operator is fed by itself or by one that comes after it in the run's order."""
    order = {id(other.op): other.index for other in run.ops}
    return any(order[id(c.source)] >= op_run.index for c in incoming)


def _single_signal_port(spec: IOSpec) -> IOSpec:
    single = IOSpec(spec._owner_label, spec.name, spec.io_type, IOSpec.SIZE_ONE, spec.queue_policy)
    for kind, kwargs in spec.conditions:
        single.condition(kind, **kwargs)
    return single


def _build_outputs(
    run: GraphRun,
    op_run: OpRun,
    outgoing: list[Connection],
    by_op: dict[int, OpRun],
    connections: list[Connection],
    policy: QueuePolicy,
) -> None:
    user_bound = {c.transmitter_name for c in op_run.op.conditions.values() if c.transmitter_name}
    for name, spec in op_run.op.spec.outputs.items():
        is_async = spec.connector_type is IOSpec.ConnectorType.ASYNC_BUFFER
        transmitter: Transmitter
        if is_async:
            _check_async_output(op_run, spec, [c for c in outgoing if c.output == name], by_op)
            transmitter = AsyncBufferTransmitter(run.fragment, spec.label)
        else:
            transmitter = Transmitter(spec.label, spec._capacity(1), spec._policy(policy))
        for link in (c for c in outgoing if c.output == name):
            port = by_op[id(link.target)].input_ports[link.input]
            index = 0
            if port.mode is PortMode.PER_CONNECTION:
                same_port = [c for c in connections if c.target is link.target and c.input == link.input]
                index = same_port.index(link)
            transmitter.receivers.append(port.receivers[index])
            op_run.flow_receivers[(name, id(link.target), link.input)] = port.receivers[index]
        if run.edges is not None:  # ends of connections to other fragments take every message
            transmitter.receivers.extend(run.edges.outbound.get((op_run.op.name, name), ()))
        op_run.transmitters[name] = transmitter
        default: _PortConditions = [(DownstreamMessageAffordableCondition, {"min_size": 1})]
        if is_async:
            default = []  # the producer runs at its own rate: the buffer is never full
        if name == OUTPUT_EXEC and any(link.target is op_run.op for link in outgoing):
            # A self-loop: waiting for room in its own signal queue would deadlock the operator.
            default = []
        for cls, kwargs in _port_conditions(spec, name in user_bound, _OUTPUT_CONDITIONS, default):
            condition = _make(run, cls, kwargs, spec.label)
            condition.bind(transmitter)
            run.add_condition(op_run, condition)


def _check_async_output(
    op_run: OpRun, spec: IOSpec, links: list[Connection], by_op: dict[int, OpRun]
) -> None:
    """An ``ASYNC_BUFFER`` output feeds at most one input, itself an async buffer."""
    where = f"{op_run.label}: output port '{spec.name}' (ASYNC_BUFFER)"
    if len(links) > 1:
        raise GraphError(
            f"{where}: connected to {len(links)} inputs; an async buffer joins one output to one input"
        )
    for link in links:
        target = by_op[id(link.target)].op.spec.inputs[link.input]
        if target.connector_type is not IOSpec.ConnectorType.ASYNC_BUFFER:
            raise GraphError(
                f"{where}: its consumer's {target.label} is not an async buffer; connect them with "
                "add_flow(..., IOSpec.ConnectorType.ASYNC_BUFFER) or declare both ends ASYNC_BUFFER"
            )


def _make(run: GraphRun, cls: type[PortCondition], kwargs: dict[str, Any], label: str) -> PortCondition:
    try:
        return cls(run.fragment, **kwargs)
    except (TypeError, ValueError) as exc:
        raise GraphError(f"{label}: invalid arguments for {cls.__name__}: {exc}") from exc


def _combiners(op: Operator) -> list[OrConditionCombiner]:
    return [r for r in op.resources.values() if isinstance(r, OrConditionCombiner)]


def _user_conditions(op: Operator) -> list[Condition]:
    """The condition objects given to the operator: its own, and its combiners' terms."""
    conditions = list(op.conditions.values())
    for combiner in _combiners(op):
        conditions.extend(term for term in combiner.terms if term not in conditions)
    return conditions


def _bind_user_conditions(run: GraphRun, op_run: OpRun) -> None:
    """The conditions passed to the operator, ANDed, and its combiners' terms, ORed per
    combiner; port conditions among them watch the port they name."""
    op = op_run.op
    ored: dict[int, OrConditionCombiner] = {}
    for combiner in _combiners(op):
        for term in combiner.terms:
            if id(term) in ored:
                raise GraphError(
                    f"{op_run.label}: {term._label()} is a term of both {ored[id(term)]._label()} and "
                    f"{combiner._label()}; give each combiner its own conditions"
                )
            ored[id(term)] = combiner
    for condition in _user_conditions(op):
        condition._attach(op)
        if isinstance(condition, PortCondition):
            _bind_named_port(op_run, condition)
        else:
            _check_named_port(op_run, condition)
        if id(condition) not in ored:
            run.add_condition(op_run, condition)
    for combiner in _combiners(op):
        run.add_condition(op_run, OrGroup(run.fragment, combiner.terms, combiner.name))


def _check_named_port(op_run: OpRun, condition: Condition) -> None:
    """A condition that is not a port condition may name a port (``receiver_name`` /
    ``transmitter_name``: the port then gets no default condition); the port must exist."""
    for name, ports, kind in (
        (condition.receiver_name, op_run.input_ports, "input"),
        (condition.transmitter_name, op_run.transmitters, "output"),
    ):
        if name and name not in ports:
            raise GraphError(
                f"{op_run.label}: {condition._label()} names {kind} port '{name}'; "
                f"declared {kind}s: {sorted(ports)}"
            )
    if callable(getattr(condition, "bind", None)):
        raise GraphError(
            f"{op_run.label}: {condition._label()} defines bind() but is not a PortCondition; "
            "derive it from holoflow.core.PortCondition to have the run bind it to its port"
        )


def _bind_named_port(op_run: OpRun, condition: PortCondition) -> None:
    input_name, output_name = condition.receiver_name, condition.transmitter_name
    if condition.port_kind == "output":
        if not output_name or output_name not in op_run.transmitters:
            raise GraphError(
                f"{op_run.label}: {condition._label()} names output port {output_name!r}; "
                f"declared outputs: {sorted(op_run.transmitters)}"
            )
        condition.bind(op_run.transmitters[output_name])
        return
    if isinstance(condition, MultiMessageAvailableCondition):
        raise GraphError(
            f"{op_run.label}: {condition._label()} is given to the operator directly; declare it in "
            "setup with spec.multi_port_condition(kind, port_names, ...) so the run binds it to "
            "those ports"
        )
    condition.bind(_sole_receiver(op_run, input_name, condition._label()))
