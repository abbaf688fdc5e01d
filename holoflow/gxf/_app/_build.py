"""Turn parsed entities into a checked plan, and the plan into a holoflow :class:`Application`
whose ``compose`` makes the operators, their queues and conditions, the resources, the
connections and the scheduler.

Every check runs while planning, so a bad file fails in ``load_app`` with a
:class:`~holoflow.errors.GXFAppError` naming the place, never at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from holoflow.core import Application, ConditionType, Fragment, IOSpec, Operator
from holoflow.errors import GXFAppError, HoloflowError
from holoflow.gxf._app import _registry as reg
from holoflow.gxf._app._codelet import CodeletOperator
from holoflow.gxf._app._yaml import ComponentDecl, EntityDecl, Where

__all__ = ["GXFApplication", "Plan", "plan"]


@dataclass
class _Made:
    """A component to construct in ``compose``: a condition, resource or clock."""

    entry: reg.TypeEntry
    name: str
    kwargs: dict[str, Any]
    where: Where
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Keyword -> (entity, component) of another made component (a clock, an allocator)."""


@dataclass
class _OpPlan:
    name: str
    entry: reg.TypeEntry
    where: Where
    values: dict[str, Any]
    """Keyword -> plain value (codelets: also the component names of their handles)."""
    keyword_refs: dict[str, tuple[str, str]]
    """Keyword -> (entity, component) of a resource or condition passed by keyword."""
    positional: list[tuple[str, str]]
    """(entity, component) of the entity's other conditions and resources."""
    queues: dict[str, tuple[str, int, int, bool]]
    """Port -> (direction, capacity, policy, has a scheduling term)."""
    multi: list[tuple[Any, list[str], dict[str, Any]]]
    """Multi-port conditions: (ConditionType, ports, keyword arguments)."""


@dataclass
class Plan:
    """What ``compose`` builds: operators, made components, connections, scheduler."""

    ops: list[_OpPlan] = field(default_factory=list)
    made: dict[tuple[str, str], _Made] = field(default_factory=dict)
    flows: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(source operator, output port, target operator, input port)."""
    scheduler: _Made | None = None


@dataclass
class _Entity:
    decl: EntityDecl
    components: dict[str, ComponentDecl]
    entries: dict[str, reg.TypeEntry]
    codelet: ComponentDecl | None = None
    ports: dict[str, str] = field(default_factory=dict)
    """Queue component name -> the port of the codelet it is bound to."""


def _short(type_name: str) -> str:
    return type_name.rsplit("::", 1)[-1]


def plan(entities: list[EntityDecl]) -> Plan:
    """Check the entities and plan the application.

    Raises
    ------
    holoflow.errors.GXFAppError
        For an unknown type (with the closest registered names), an unknown, missing or
        mistyped parameter, a reference to a missing component, a scheduling term on another
        entity's queue, a connection to a missing entity or component, two codelets in an
        entity, or two schedulers.
    """
    table: dict[str, _Entity] = {}
    for decl in entities:
        table[decl.label] = _classify(decl)
    result = Plan()
    for ent in table.values():
        _plan_made(ent, table, result)
    for ent in table.values():
        if ent.codelet is not None:
            result.ops.append(_plan_op(ent, table, result))
        else:
            _check_no_orphans(ent)
    for ent in table.values():
        for name, comp in ent.components.items():
            if ent.entries[name].role == reg.CONNECTION:
                result.flows.append(_plan_flow(comp, table))
            elif ent.entries[name].role == reg.SCHEDULER:
                if result.scheduler is not None:
                    raise comp.where.error(
                        f"a second scheduler; '{result.scheduler.name}' is already the application's"
                    )
                result.scheduler = result.made.pop((ent.decl.label, name))
    return result


def _classify(decl: EntityDecl) -> _Entity:
    components: dict[str, ComponentDecl] = {}
    entries: dict[str, reg.TypeEntry] = {}
    codelet = None
    for index, comp in enumerate(decl.components):
        entry = reg.lookup(comp.type)
        if entry is None:
            close = reg.closest(comp.type)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            extension = "" if "::" in comp.type else " (a Python codelet's module goes to --extension)"
            raise comp.where.error(f"unknown type {comp.type!r}{extension}{hint}")
        name = comp.name or f"{_short(comp.type)}_{index}"
        if name in components:
            raise comp.where.error(f"the entity has two components named '{name}'")
        components[name] = comp
        entries[name] = entry
        if entry.role in (reg.OPERATOR, reg.CODELET):
            if codelet is not None:
                raise comp.where.error(
                    f"a second codelet in the entity (after '{codelet.label}'); holoflow runs one "
                    "codelet per entity: give each its own entity"
                )
            codelet = comp
        _check_values(comp, entry)
    return _Entity(decl, components, entries, codelet)


def _check_values(comp: ComponentDecl, entry: reg.TypeEntry) -> None:
    """Unknown keys, missing required keys and plain values of the wrong type."""
    if entry.open_params:
        return
    for key, value in comp.parameters.items():
        rule = entry.rules.get(key)
        if rule is None:
            if entry.role in (reg.OPERATOR, reg.CODELET) and isinstance(value, str):
                continue  # may name a resource, condition or serializer; checked with the entity
            known = ", ".join(sorted(entry.rules)) or "none"
            raise comp.at(key).error(f"unknown parameter '{key}' of {entry.name}; its parameters: {known}")
        if rule.kind == "value" and rule.type is not None and value is not None and not _is(value, rule.type):
            raise comp.at(key).error(
                f"parameter '{key}' takes {_type_names(rule.type)}, got {type(value).__name__} {value!r}"
            )
    for key, rule in entry.rules.items():
        if rule.required and key not in comp.parameters:
            raise comp.where.error(f"{entry.name} needs the parameter '{key}'")


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def _type_names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        "a number" if k is float else f"a {k.__name__}" for k in kinds if k is not int or float not in kinds
    )


def _reference(
    comp: ComponentDecl,
    key: str,
    value: Any,
    ent: _Entity,
    table: dict[str, _Entity],
    roles: tuple[str, ...],
    local: bool,
) -> tuple[str, str]:
    """Resolve a parameter naming a component (``name`` in the entity or ``entity/name``) of
    one of ``roles``; ``local`` forbids the ``entity/name`` form."""
    where = comp.at(key)
    wanted = " or ".join(roles)
    if not isinstance(value, str) or not value:
        raise where.error(f"parameter '{key}' names a {wanted} component, got {value!r}")
    entity_name, _, name = value.rpartition("/")
    target = ent
    if entity_name:
        if local and entity_name != ent.decl.label:
            raise where.error(
                f"parameter '{key}' names '{value}', a component of another entity; a codelet's "
                f"or scheduling term's {wanted} must be a component of its own entity"
            )
        if entity_name not in table:
            raise where.error(f"parameter '{key}' names '{value}', but there is no entity '{entity_name}'")
        target = table[entity_name]
    if name not in target.components:
        raise where.error(
            f"parameter '{key}' names '{value}', but entity '{target.decl.label}' has no component "
            f"'{name}'; its components: {', '.join(target.components)}"
        )
    role = target.entries[name].role
    if role not in roles:
        raise where.error(f"parameter '{key}' names '{value}', a {role}, where a {wanted} is needed")
    return target.decl.label, name


def _plan_made(ent: _Entity, table: dict[str, _Entity], result: Plan) -> None:
    """Plan the conditions, resources, clocks and schedulers of an entity."""
    for name, comp in ent.components.items():
        entry = ent.entries[name]
        if entry.role not in (reg.CONDITION, reg.RESOURCE, reg.CLOCK, reg.SCHEDULER):
            continue
        made = _Made(entry, name, {}, comp.where)
        for key, value in comp.parameters.items():
            rule = entry.rules[key]
            if rule.kind == "value":
                made.kwargs[key] = value
            elif rule.kind in ("resource", "clock"):
                made.refs[key] = _reference(comp, key, value, ent, table, (rule.kind,), local=False)
            elif rule.kind in ("receiver", "transmitter"):
                made.kwargs[key] = _bound_port(comp, key, value, ent, table, rule.kind)
            elif rule.kind == "receivers":
                values = value if isinstance(value, list) else [value]
                made.kwargs[key] = [_bound_port(comp, key, v, ent, table, "receiver") for v in values]
        result.made[(ent.decl.label, name)] = made


def _bound_port(
    comp: ComponentDecl, key: str, value: Any, ent: _Entity, table: dict[str, _Entity], role: str
) -> str:
    """A scheduling term's queue: resolved later to the port it is bound to (``@name``)."""
    _, name = _reference(comp, key, value, ent, table, (role,), local=True)
    return name


def _plan_op(ent: _Entity, table: dict[str, _Entity], result: Plan) -> _OpPlan:
    comp = ent.codelet
    assert comp is not None
    entry = reg.lookup(comp.type)
    assert entry is not None
    label = ent.decl.label
    op = _OpPlan(label, entry, comp.where, {}, {}, [], {}, [])
    queues: dict[str, list[str]] = {}
    referenced: set[str] = {comp.name}
    for key, value in comp.parameters.items():
        rule = entry.rules.get(key)
        if rule is None or rule.kind in ("resource", "condition", "serializer", "clock", "any"):
            if rule is not None and rule.kind == "any":
                op.values[key] = value
                continue
            roles = (rule.kind,) if rule is not None else (reg.RESOURCE, reg.CONDITION, reg.SERIALIZER)
            if rule is None and not _names_component(value, ent, table):
                known = ", ".join(sorted(entry.rules)) or "none"
                raise comp.at(key).error(
                    f"unknown parameter '{key}' of {entry.name}; its parameters: {known}"
                )
            ref = _reference(comp, key, value, ent, table, roles, local=False)
            role = table[ref[0]].entries[ref[1]].role
            if ref[0] == label:
                referenced.add(ref[1])
            if role == reg.SERIALIZER:
                if entry.role == reg.CODELET:
                    op.values[key] = ref[1]
                continue  # holoflow's GXF codec is built in
            op.keyword_refs[key] = ref
        elif rule.kind == "port":
            role = reg.RECEIVER if rule.direction == "input" else reg.TRANSMITTER
            names = value if isinstance(value, list) and rule.many else [value]
            for item in names:
                _, name = _reference(comp, key, item, ent, table, (role,), local=True)
                if name in ent.ports:
                    raise comp.at(key).error(f"'{name}' is bound to two parameters of the codelet")
                ent.ports[name] = rule.target
                queues.setdefault(rule.target, []).append(name)
                referenced.add(name)
            if entry.role == reg.CODELET:
                op.values[key] = names[0]
        elif (
            rule.kind == "value"
            and entry.role == reg.OPERATOR
            and key in entry.rules
            and rule.default is None
            and _names_component(value, ent, table)
        ):
            ref = _reference(
                comp, key, value, ent, table, (reg.RESOURCE, reg.CONDITION, reg.SERIALIZER), local=False
            )
            if table[ref[0]].entries[ref[1]].role != reg.SERIALIZER:
                op.keyword_refs[key] = ref
            if ref[0] == label:
                referenced.add(ref[1])
        else:
            op.values[key] = value
    _plan_terms(ent, op, queues, result)
    for name, entry_ in ent.entries.items():
        unreferenced = name not in referenced and entry_.role in (reg.CONDITION, reg.RESOURCE)
        if unreferenced and not result.made[(label, name)].entry.multi_port:
            op.positional.append((label, name))
    return op


def _names_component(value: Any, ent: _Entity, table: dict[str, _Entity]) -> bool:
    if not isinstance(value, str):
        return False
    entity_name, _, name = value.rpartition("/")
    target = table.get(entity_name) if entity_name else ent
    return target is not None and name in target.components


def _plan_terms(ent: _Entity, op: _OpPlan, queues: dict[str, list[str]], result: Plan) -> None:
    """Bind the scheduling terms to ports and settle each port's queue."""
    label = ent.decl.label
    with_term: set[str] = set()
    for name, entry in ent.entries.items():
        if entry.role != reg.CONDITION:
            continue
        made = result.made[(label, name)]
        comp = ent.components[name]
        for key in ("receiver", "transmitter", "receivers"):
            if key not in made.kwargs:
                continue
            queue_names = made.kwargs[key] if key == "receivers" else [made.kwargs[key]]
            ports = []
            for queue in queue_names:
                if queue not in ent.ports:
                    raise comp.at(key).error(
                        f"'{queue}' is not bound to a parameter of the entity's codelet, so the "
                        "scheduling term watches nothing"
                    )
                ports.append(ent.ports[queue])
                with_term.add(queue)
            if entry.multi_port is not None:
                kwargs = {k: v for k, v in made.kwargs.items() if k != "receivers"}
                op.multi.append((entry.multi_port, ports, kwargs))
            else:
                made.kwargs[key] = ports if key == "receivers" else ports[0]
    for port, names in queues.items():
        comps = [ent.components[n] for n in names]
        capacity = max(int(c.parameters.get("capacity", 1)) for c in comps)
        policies = {int(c.parameters.get("policy", 2)) for c in comps}
        if len(policies) > 1:
            raise comps[-1].where.error(
                f"the queues of port '{port}' ({', '.join(names)}) have different policies; holoflow "
                "gives a port one policy"
            )
        for c in comps:
            if capacity < 1 or int(c.parameters.get("capacity", 1)) < 1:
                raise c.at("capacity").error(f"capacity must be >= 1, got {c.parameters.get('capacity')}")
        policy = policies.pop()
        if policy not in (0, 1, 2):
            raise (
                comps[0].at("policy").error(f"policy must be 0 (pop), 1 (reject) or 2 (fault), got {policy}")
            )
        direction = "input" if ent.entries[names[0]].role == reg.RECEIVER else "output"
        op.queues[port] = (direction, capacity, policy, any(n in with_term for n in names))


def _check_no_orphans(ent: _Entity) -> None:
    for name, entry in ent.entries.items():
        if entry.role in (reg.CONDITION, reg.RECEIVER, reg.TRANSMITTER):
            raise ent.components[name].where.error(
                f"a {entry.role} in an entity without a codelet; it would serve nothing"
            )


def _plan_flow(comp: ComponentDecl, table: dict[str, _Entity]) -> tuple[str, str, str, str]:
    ends = []
    for key, role in (("source", reg.TRANSMITTER), ("target", reg.RECEIVER)):
        value = comp.parameters[key]
        where = comp.at(key)
        entity_name, slash, name = value.partition("/")
        if not slash or not entity_name or not name:
            raise where.error(f"'{key}' must be 'entity/{role}', got {value!r}")
        if entity_name not in table:
            raise where.error(
                f"the connection's {key} '{value}' names a missing entity '{entity_name}'; entities: "
                f"{', '.join(table)}"
            )
        ent = table[entity_name]
        if name not in ent.components:
            raise where.error(
                f"the connection's {key} '{value}': entity '{entity_name}' has no component '{name}'"
            )
        actual = ent.entries[name].role
        if actual != role:
            raise where.error(f"the connection's {key} '{value}' is a {actual}, not a {role}")
        if name not in ent.ports:
            raise where.error(
                f"the connection's {key} '{value}' is not bound to a parameter of the entity's codelet"
            )
        ends.append((entity_name, ent.ports[name]))
    return ends[0][0], ends[0][1], ends[1][0], ends[1][1]


class GXFApplication(Application):
    """An application loaded from GXF application files; ``compose`` builds its plan.

    ``files`` lists the files it came from.
    """

    def __init__(self, plan: Plan, files: list[str]) -> None:
        self._plan = plan
        self.files = files
        super().__init__([files[0] if files else "gxf-app"])

    def compose(self) -> None:
        _compose(self, self._plan)


@contextmanager
def _refused(where: Where) -> Iterator[None]:
    """Turn a holoflow class refusing a value into a GXFAppError at the component."""
    try:
        yield
    except GXFAppError:
        raise
    except (HoloflowError, ValueError, TypeError) as exc:
        raise where.error(f"{type(exc).__name__}: {exc}") from exc


def _compose(app: Fragment, plan: Plan) -> None:
    made: dict[tuple[str, str], Any] = {}

    def obtain(key: tuple[str, str]) -> Any:
        if key not in made:
            item = plan.made[key]
            kwargs = dict(item.kwargs)
            for keyword, ref in item.refs.items():
                kwargs[keyword] = obtain(ref)
            assert item.entry.cls is not None
            with _refused(item.where):
                made[key] = item.entry.cls(app, name=item.name, **kwargs)
        return made[key]

    ops: dict[str, Operator] = {}
    for op_plan in plan.ops:
        with _refused(op_plan.where):
            ops[op_plan.name] = _make_op(app, op_plan, obtain)
    for source, output, target, input_ in plan.flows:
        app.add_flow(ops[source], ops[target], {(output, input_)})
    if plan.scheduler is not None:
        item = plan.scheduler
        kwargs = dict(item.kwargs)
        for keyword, ref in item.refs.items():
            kwargs[keyword] = obtain(ref)
        assert item.entry.cls is not None
        with _refused(item.where):
            app.scheduler(item.entry.cls(app, name=item.name, **kwargs))


def _make_op(app: Fragment, op_plan: _OpPlan, obtain: Callable[[tuple[str, str]], Any]) -> Operator:
    """The operator of ``op_plan``, its queues and conditions set, added to ``app``."""
    positional = [obtain(ref) for ref in op_plan.positional]
    keywords = {key: obtain(ref) for key, ref in op_plan.keyword_refs.items()}
    cls = op_plan.entry.cls
    assert cls is not None
    op: Operator
    if op_plan.entry.role == reg.CODELET:
        op = CodeletOperator(
            app, *positional, codelet=cls(), bindings=op_plan.values, name=op_plan.name, **keywords
        )
    else:
        op = cls(app, *positional, name=op_plan.name, **op_plan.values, **keywords)
    spec = op.spec
    for port, (direction, capacity, policy, has_term) in op_plan.queues.items():
        io = spec.inputs[port] if direction == "input" else spec.outputs[port]
        io.connector(IOSpec.ConnectorType.DOUBLE_BUFFER, capacity=capacity, policy=policy)
        if not has_term:
            io.condition(ConditionType.NONE)
    for kind, ports, kwargs in op_plan.multi:
        spec.multi_port_condition(kind, ports, **kwargs)
    app.add_operator(op)
    return op
