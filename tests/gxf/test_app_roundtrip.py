"""Property: a random valid graph written by ``to_yaml`` and read by ``load_app`` is the same
graph: operators, connections, queue capacities and policies, port and operator conditions,
scheduler and clock."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holoflow.conditions import (
    BooleanCondition,
    CountCondition,
    DownstreamMessageAffordableCondition,
    MessageAvailableCondition,
    PeriodicCondition,
)
from holoflow.core import Application, ConditionType, IOSpec, Operator, QueuePolicy
from holoflow.gxf import load_app, register_type, to_yaml
from holoflow.operators import PingRxOp, PingTxOp
from holoflow.resources import ManualClock, RealtimeClock
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler


class Relay(Operator):
    """Passes messages on (only its ports matter here)."""

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(op_input.receive("in"), "out")


register_type("test::Relay", Relay)

_PORT_CONDITION = st.one_of(
    st.just(("default",)),
    st.just(("none",)),
    st.tuples(st.just("declared"), st.integers(1, 3), st.integers(1, 3)),
    st.tuples(st.just("object"), st.integers(1, 3), st.integers(1, 3)),
)
_QUEUE = st.tuples(st.integers(1, 4), st.sampled_from([None, 0, 1, 2]), _PORT_CONDITION)
_OP_CONDITIONS = st.fixed_dictionaries(
    {},
    optional={
        "count": st.integers(0, 20),
        "period": st.integers(1, 10**9),
        "switch": st.booleans(),
    },
)


@st.composite
def graphs(draw):
    kinds = (
        ["tx"] * draw(st.integers(1, 2))
        + ["relay"] * draw(st.integers(0, 2))
        + ["rx"] * draw(st.integers(1, 2))
    )
    ops = []
    for index, kind in enumerate(kinds):
        senders = [i for i, k in enumerate(kinds[:index]) if k != "rx"]
        ops.append(
            {
                "kind": kind,
                "name": f"{kind}{index}",
                "source": draw(st.sampled_from(senders)) if kind != "tx" else None,
                "in": draw(_QUEUE),
                "out": draw(_QUEUE),
                "conditions": draw(_OP_CONDITIONS),
            }
        )
    scheduler = {
        "kind": draw(st.sampled_from(["greedy", "multi", "event"])),
        "stop_on_deadlock": draw(st.booleans()),
        "max_duration_ms": draw(st.sampled_from([-1, 1, 250, 10_000])),
        "workers": draw(st.integers(1, 4)),
        "clock": draw(st.sampled_from([None, "realtime", "manual"])),
    }
    return ops, scheduler


def _port(app, op, spec, direction, queue):
    capacity, policy, condition = queue
    spec.connector(IOSpec.ConnectorType.DOUBLE_BUFFER, capacity=capacity)
    if policy is not None:
        spec.queue_policy = policy
    if condition[0] == "none":
        spec.condition(ConditionType.NONE)
    elif condition[0] == "declared" and direction == "input":
        spec.condition(
            ConditionType.MESSAGE_AVAILABLE, min_size=condition[1], front_stage_max_size=condition[2]
        )
    elif condition[0] == "declared":
        spec.condition(ConditionType.DOWNSTREAM_MESSAGE_AFFORDABLE, min_size=condition[1])
    elif condition[0] == "object" and direction == "input":
        op.add_arg(
            MessageAvailableCondition(app, condition[1], condition[2], receiver=spec.name, name="watch_in")
        )
    elif condition[0] == "object":
        op.add_arg(
            DownstreamMessageAffordableCondition(app, condition[1], transmitter=spec.name, name="watch_out")
        )


def _build(drawn):
    op_plans, sched = drawn

    class Drawn(Application):
        def compose(self):
            made = []
            for plan in op_plans:
                cls = {"tx": PingTxOp, "relay": Relay, "rx": PingRxOp}[plan["kind"]]
                extra = plan["conditions"]
                conditions = []
                if "count" in extra:
                    conditions.append(CountCondition(self, extra["count"], name="count"))
                if "period" in extra:
                    conditions.append(PeriodicCondition(self, extra["period"], name="period"))
                if "switch" in extra:
                    conditions.append(BooleanCondition(self, extra["switch"], name="switch"))
                op = cls(self, *conditions, name=plan["name"])
                for spec in op.spec.inputs.values():
                    _port(self, op, spec, "input", plan["in"])
                for spec in op.spec.outputs.values():
                    _port(self, op, spec, "output", plan["out"])
                self.add_operator(op)
                made.append(op)
            for plan, op in zip(op_plans, made, strict=True):
                if plan["source"] is not None:
                    self.add_flow(made[plan["source"]], op, {("out", "in")})
            clock = {None: None, "realtime": RealtimeClock, "manual": ManualClock}[sched["clock"]]
            kwargs = {
                "stop_on_deadlock": sched["stop_on_deadlock"],
                "max_duration_ms": sched["max_duration_ms"],
            }
            if clock is not None:
                kwargs["clock"] = clock(self, name="clock")
            if sched["kind"] == "greedy":
                self.scheduler(GreedyScheduler(self, **kwargs))
            else:
                cls = MultiThreadScheduler if sched["kind"] == "multi" else EventBasedScheduler
                self.scheduler(cls(self, worker_thread_number=sched["workers"], **kwargs))

    return Drawn([])


def _port_conditions(op, name, spec, direction):
    declared = spec.conditions
    if any(kind is ConditionType.NONE for kind, _ in declared):
        return []
    found = []
    for kind, kwargs in declared:
        if kind is ConditionType.MESSAGE_AVAILABLE:
            found.append(("available", kwargs.get("min_size", 1), kwargs.get("front_stage_max_size", 1)))
        else:
            found.append(("affordable", kwargs.get("min_size", 1)))
    if found:
        return found
    for condition in op.conditions.values():
        if isinstance(condition, MessageAvailableCondition) and condition.receiver_name == name:
            found.append(("available", condition.min_size, condition.front_stage_max_size))
        elif (
            isinstance(condition, DownstreamMessageAffordableCondition) and condition.transmitter_name == name
        ):
            found.append(("affordable", condition.min_size))
    if found:
        return found
    return [("available", 1, 1)] if direction == "input" else [("affordable", 1)]


def _describe(app):
    app.compose_graph()
    connections = app.graph.connections
    ops = {}
    for op in app.graph.get_nodes():
        ports = {}
        for direction, table in (("input", op.spec.inputs), ("output", op.spec.outputs)):
            for name, spec in table.items():
                links = len([c for c in connections if c.target is op and c.input == name])
                ports[name] = (
                    spec._capacity(links),
                    int(spec._policy(QueuePolicy.FAULT)),
                    _port_conditions(op, name, spec, direction),
                )
        others = []
        for condition in op.conditions.values():
            if isinstance(condition, CountCondition):
                others.append(("count", condition.count))
            elif isinstance(condition, PeriodicCondition):
                others.append(("period", condition.recess_period_ns()))
            elif isinstance(condition, BooleanCondition):
                others.append(("switch", condition.check_tick_enabled()))
        ops[op.name] = (type(op).__name__, ports, sorted(others))
    scheduler = app.scheduler()
    clock = getattr(scheduler, "clock", None)
    return {
        "ops": ops,
        "connections": sorted((c.source.name, c.output, c.target.name, c.input) for c in connections),
        "scheduler": (
            type(scheduler).__name__,
            scheduler.stop_on_deadlock,
            scheduler.max_duration_ms,
            getattr(scheduler, "worker_thread_number", None),
            type(clock).__name__ if clock is not None else None,
        ),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_a_graph_written_as_yaml_loads_back_the_same(drawn):
    original = _build(drawn)
    text = to_yaml(original)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "graph.yaml"
        path.write_text(text)
        loaded = load_app(path)
        assert _describe(loaded) == _describe(original), text
        assert to_yaml(loaded) == to_yaml(load_app(path))  # writing is deterministic
