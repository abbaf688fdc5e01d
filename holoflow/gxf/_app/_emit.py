"""``to_yaml``: write a holoflow application as a GXF application file that ``load_app`` reads
back into the same graph."""

from __future__ import annotations

from typing import Any

import yaml

from holoflow.conditions import (
    AsynchronousCondition,
    BooleanCondition,
    CountCondition,
    DownstreamMessageAffordableCondition,
    MessageAvailableCondition,
    PeriodicCondition,
)
from holoflow.core import ConditionType, Fragment, IOSpec, Operator
from holoflow.errors import ConfigError
from holoflow.gxf._app import _registry as reg
from holoflow.gxf._app._codelet import CodeletOperator
from holoflow.resources import BlockMemoryPool, ManualClock, RealtimeClock, UnboundedAllocator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler

__all__ = ["to_yaml"]

_GXF = "nvidia::gxf::"
_PLAIN = (bool, int, float, str)


def to_yaml(app: Fragment) -> str:
    """The GXF application file of ``app`` (composed first if it has no operators yet).

    Each operator becomes an entity named like it, holding a ``DoubleBufferReceiver`` /
    ``DoubleBufferTransmitter`` per port (named like the port; capacity and policy from the
    port), the port's scheduling terms (its declared or default conditions, written out), the
    operator's other conditions and resources, and the codelet (its type name from the
    registry; parameters that differ from their defaults). Connections go into one entity;
    the scheduler and its clock into a last entity named ``scheduler``.

    Raises
    ------
    holoflow.errors.ConfigError
        For what a GXF file cannot say: an operator, condition, resource or scheduler the
        registry has no type name for, a port whose queue size is not 1, a parameter value that
        is not plain data.
    """
    if not app.graph.get_nodes():
        app.compose_graph()
    documents: list[dict[str, Any]] = [_entity(app, op) for op in app.graph.get_nodes()]
    flows = [
        {
            "name": f"connection_{i}",
            "type": f"{_GXF}Connection",
            "parameters": {"source": f"{c.source.name}/{c.output}", "target": f"{c.target.name}/{c.input}"},
        }
        for i, c in enumerate(app.graph.connections)
    ]
    if flows:
        documents.append({"components": flows})
    documents.append({"name": "scheduler", "components": _scheduler(app)})
    text = yaml.safe_dump_all(documents, sort_keys=False, default_flow_style=None, explicit_start=True)
    return "%YAML 1.2\n" + text


def _type_name(op: Operator) -> tuple[str, dict[str, str]]:
    """The registry's type name for ``op`` and its port -> GXF parameter key map."""
    wanted: type = type(op.codelet) if isinstance(op, CodeletOperator) else type(op)
    entries = [*reg.user_entries(), *reg.operator_entries()]
    for entry in entries:
        if entry.cls is wanted:
            keys = {}
            for key, rule in entry.rules.items():
                if rule.kind == "port" and (rule.target not in keys or key != rule.target):
                    keys[rule.target] = key
            return entry.name, keys
    raise ConfigError(
        f"to_yaml: operator '{op.name}': {wanted.__name__} has no registered type name; register it "
        "with holoflow.gxf.register_type"
    )


def _entity(app: Fragment, op: Operator) -> dict[str, Any]:
    type_name, keys = _type_name(op)
    components: list[dict[str, Any]] = []
    bound = {c.receiver_name or c.transmitter_name for c in op.conditions.values()} - {None}
    links = [c for c in app.graph.connections if c.target is op]
    parameters: dict[str, Any] = {}
    for direction, ports in (("input", op.spec.inputs), ("output", op.spec.outputs)):
        for port, spec in ports.items():
            if port.startswith("__"):
                continue
            if spec.queue_size != 1:
                raise ConfigError(
                    f"to_yaml: {spec.label}: queue size {spec.queue_size}; GXF files express ports of "
                    "size 1 only"
                )
            capacity = spec._capacity(len([c for c in links if c.input == port]))
            policy = spec._policy(spec.queue_policy or IOSpec.QueuePolicy.FAULT)
            queue = "DoubleBufferReceiver" if direction == "input" else "DoubleBufferTransmitter"
            components.append(
                {
                    "name": port,
                    "type": _GXF + queue,
                    "parameters": {"capacity": capacity, "policy": int(policy)},
                }
            )
            if port not in bound:
                components.extend(_port_terms(port, spec, direction))
            parameters[keys.get(port, port)] = port
    own = set() if isinstance(op, CodeletOperator) else reg.own_components(type(op))
    for name, condition in op.conditions.items():
        if name not in own:
            components.append(_condition(op, name, condition))
    for name, resource in op.resources.items():
        if name not in own:
            components.append(_resource(op, name, resource))
    parameters.update(_values(op))
    if isinstance(op, CodeletOperator):
        for key, info in type(op.codelet).interface().items():
            if info.kind == "serializer" and getattr(op.codelet, key, None) is not None:
                components.append({"name": key, "type": f"{_GXF}StdEntitySerializer"})
                parameters[key] = key
    codelet: dict[str, Any] = {"name": "codelet", "type": type_name}
    if parameters:
        codelet["parameters"] = parameters
    components.append(codelet)
    return {"name": op.name, "components": components}


def _port_terms(port: str, spec: IOSpec, direction: str) -> list[dict[str, Any]]:
    declared = spec.conditions
    if any(kind is ConditionType.NONE for kind, _ in declared):
        return []
    if not declared:
        declared = [
            (ConditionType.MESSAGE_AVAILABLE, {"min_size": 1})
            if direction == "input"
            else (ConditionType.DOWNSTREAM_MESSAGE_AFFORDABLE, {"min_size": 1})
        ]
    terms = []
    for kind, kwargs in declared:
        if kind is ConditionType.MESSAGE_AVAILABLE:
            terms.append(
                {"type": f"{_GXF}MessageAvailableSchedulingTerm", "parameters": {"receiver": port, **kwargs}}
            )
        elif kind is ConditionType.DOWNSTREAM_MESSAGE_AFFORDABLE:
            terms.append(
                {
                    "type": f"{_GXF}DownstreamReceptiveSchedulingTerm",
                    "parameters": {"transmitter": port, **kwargs},
                }
            )
        else:
            raise ConfigError(f"to_yaml: {spec.label}: condition {kind.name} has no GXF scheduling term here")
    return terms


def _condition(op: Operator, name: str, condition: Any) -> dict[str, Any]:
    params: dict[str, Any]
    if isinstance(condition, MessageAvailableCondition):
        kind = "MessageAvailableSchedulingTerm"
        params = {
            "receiver": condition.receiver_name,
            "min_size": condition.min_size,
            "front_stage_max_size": condition.front_stage_max_size,
        }
    elif isinstance(condition, DownstreamMessageAffordableCondition):
        kind = "DownstreamReceptiveSchedulingTerm"
        params = {"transmitter": condition.transmitter_name, "min_size": condition.min_size}
    elif isinstance(condition, CountCondition):
        kind, params = "CountSchedulingTerm", {"count": condition.count}
    elif isinstance(condition, PeriodicCondition):
        kind, params = "PeriodicSchedulingTerm", {"recess_period": condition.recess_period_ns()}
    elif isinstance(condition, BooleanCondition):
        kind, params = "BooleanSchedulingTerm", {"enable_tick": condition.check_tick_enabled()}
    elif isinstance(condition, AsynchronousCondition):
        kind, params = "AsynchronousSchedulingTerm", {}
    else:
        raise ConfigError(
            f"to_yaml: operator '{op.name}': condition '{name}' ({type(condition).__name__}) has no GXF "
            "scheduling term here"
        )
    return {"name": name, "type": _GXF + kind, "parameters": params}


def _resource(op: Operator, name: str, resource: Any) -> dict[str, Any]:
    if isinstance(resource, BlockMemoryPool):
        params = {
            "storage_type": int(resource.requested_storage_type),
            "block_size": resource.block_size,
            "num_blocks": resource.num_blocks,
        }
        return {"name": name, "type": f"{_GXF}BlockMemoryPool", "parameters": params}
    if isinstance(resource, UnboundedAllocator):
        return {"name": name, "type": f"{_GXF}UnboundedAllocator"}
    raise ConfigError(
        f"to_yaml: operator '{op.name}': resource '{name}' ({type(resource).__name__}) has no GXF type here"
    )


def _values(op: Operator) -> dict[str, Any]:
    """The operator's (or codelet's) parameters that differ from their defaults."""
    found: dict[str, Any] = {}
    if isinstance(op, CodeletOperator):
        for key, info in type(op.codelet).interface().items():
            value = getattr(op.codelet, key, None)
            if info.kind == "value" and value is not None and value != info.default:
                found[key] = _plain(op, key, value)
        return found
    for key, param in op.spec.params.items():
        value = getattr(op, key, param.default)
        if value is not None and value is not param.default and value != param.default:
            found[key] = _plain(op, key, value)
    return found


def _plain(op: Operator, key: str, value: Any) -> Any:
    if isinstance(value, _PLAIN) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(op, key, v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(op, key, v) for k, v in value.items()}
    raise ConfigError(f"to_yaml: operator '{op.name}': parameter '{key}' holds a {type(value).__name__}")


def _scheduler(app: Fragment) -> list[dict[str, Any]]:
    scheduler = app.scheduler()
    components: list[dict[str, Any]] = []
    params: dict[str, Any] = {
        key: getattr(scheduler, key)
        for key in ("stop_on_deadlock", "max_duration_ms", "stop_on_deadlock_timeout")
    }
    if isinstance(scheduler, (MultiThreadScheduler, EventBasedScheduler)):
        params["worker_thread_number"] = scheduler.worker_thread_number
    if isinstance(scheduler, (MultiThreadScheduler, GreedyScheduler)):
        params["check_recession_period_ms"] = scheduler.check_recession_period_ms
    clock = getattr(scheduler, "clock", None)
    if clock is not None:
        if isinstance(clock, ManualClock):
            components.append({"name": "clock", "type": f"{_GXF}ManualClock"})
        elif isinstance(clock, RealtimeClock):
            components.append({"name": "clock", "type": f"{_GXF}RealtimeClock"})
        else:
            raise ConfigError(f"to_yaml: the scheduler's clock {type(clock).__name__} has no GXF type here")
        params["clock"] = "clock"
    for entry in reg.scheduler_entries():
        if entry.cls is type(scheduler):
            components.append({"name": "scheduler", "type": entry.name, "parameters": params})
            return components
    raise ConfigError(f"to_yaml: scheduler {type(scheduler).__name__} has no GXF type")
