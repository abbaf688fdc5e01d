"""Control flow: execution ports, the start operator, and dynamic flows chosen after ``compute``.

An operator without data ports is wired with ``add_flow`` through its *execution ports*
(``Operator.INPUT_EXEC_PORT_NAME`` / ``OUTPUT_EXEC_PORT_NAME``): ordinary queues that carry an
execution signal instead of data. An operator with an input execution port runs once a signal
arrived from every control-flow connection (from one of them when the operator sits on a cycle),
consumes the signals before its ``compute``, and sends one on its output execution port after it.

A *dynamic flow* narrows where that happens. When ``Fragment.set_dynamic_flows`` gave the operator
a callback, and from the first ``add_dynamic_flow`` its ``compute`` made in a run on, what it
emitted (and its signal) goes only along the flows added in each execution; every other output
is discarded. A dynamic flow is
always one of the operator's static flows (:attr:`Operator.next_flows`), so back-pressure and the
schedulers' bookkeeping hold unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from holoflow.core._metadata import stamp, unstamp
from holoflow.errors import GraphError, SchedulingError

if TYPE_CHECKING:
    from holoflow.core._context import ExecutionContext, InputContext, OutputContext
    from holoflow.core._operator import Operator
    from holoflow.core._queue import Receiver
    from holoflow.core._run import OpRun
    from holoflow.core._spec import IOSpec

__all__ = ["START_OPERATOR_NAME", "Compute", "FlowInfo", "FlowRoutes", "wrap_compute"]

START_OPERATOR_NAME = "<|start|>"
"""The name of the operator that ``Fragment.start_op()`` creates."""

INPUT_EXEC = "__input_exec__"
OUTPUT_EXEC = "__output_exec__"
EXEC_PORTS = frozenset((INPUT_EXEC, OUTPUT_EXEC))

_Port = TypeVar("_Port")


def data_ports(ports: Mapping[str, _Port]) -> dict[str, _Port]:
    """``ports`` (specs, queues or transmitters by port name) without the execution ports."""
    return {name: port for name, port in ports.items() if name not in EXEC_PORTS}


class ExecutionSignal:
    """What travels on execution ports: no data, only the fact that the sender ran."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<execution signal>"


SIGNAL = ExecutionSignal()


class FlowInfo:
    """One static flow: an output port of an operator connected to an input port of another.

    Holoscan's ``FlowInfo``; ``Operator.next_flows`` lists an operator's flows and
    ``add_dynamic_flow`` accepts them.
    """

    __slots__ = (
        "curr_operator",
        "input_port_name",
        "input_port_spec",
        "next_operator",
        "output_port_name",
        "output_port_spec",
    )

    def __init__(
        self, curr_operator: Operator, output_port_name: str, next_operator: Operator, input_port_name: str
    ):
        self.curr_operator = curr_operator
        self.output_port_name = output_port_name
        self.output_port_spec: IOSpec | None = curr_operator.spec.outputs.get(output_port_name)
        self.next_operator = next_operator
        self.input_port_name = input_port_name
        self.input_port_spec: IOSpec | None = next_operator.spec.inputs.get(input_port_name)

    def key(self) -> tuple[str, int, str]:
        """What identifies the flow within its operator: output port, next operator, input port."""
        return (self.output_port_name, id(self.next_operator), self.input_port_name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FlowInfo):
            return NotImplemented
        return other.curr_operator is self.curr_operator and other.key() == self.key()

    def __hash__(self) -> int:
        return hash((id(self.curr_operator), *self.key()))

    def __repr__(self) -> str:
        return (
            f"FlowInfo({self.curr_operator.name}.{self.output_port_name} -> "
            f"{self.next_operator.name}.{self.input_port_name})"
        )


def static_flows(op: Operator) -> list[FlowInfo]:
    """The flows leaving ``op`` in its fragment's graph: next operators in the order their first
    connection was added, then output port, then input port, as Holoscan lists them."""
    graph = op.fragment.graph
    flows: list[FlowInfo] = []
    for next_op in graph.get_next_nodes(op):
        for output, inputs in sorted(graph.get_port_map(op, next_op).items()):
            flows.extend(FlowInfo(op, output, next_op, name) for name in sorted(inputs))
    return flows


class FlowRoutes:
    """An operator's dynamic flows during one run: which static flows exist, which were chosen.

    ``chosen`` lists the flows added in the current execution. The operator delivers along every
    static flow until its first ``add_dynamic_flow`` of the run, which sets ``OpRun.routing``:
    from then on (and always, for an operator with a dynamic-flow callback) each execution goes
    only along the flows added in it, as in Holoscan.
    """

    __slots__ = ("_flows_cache", "_resolved", "callback", "chosen", "label", "op", "op_run", "receivers")

    def __init__(self, op_run: OpRun):
        self.op_run = op_run
        self.op = op_run.op
        self.label = op_run.label
        self.receivers = op_run.flow_receivers
        """The receiver each static flow delivers to, by :meth:`FlowInfo.key`."""
        self.callback: Callable[[Operator], Any] | None = self.op._holoflow_flow_callback
        self.chosen: list[tuple[str, Receiver]] = []
        self._flows_cache: list[FlowInfo] | None = None
        self._resolved: dict[Any, list[tuple[str, Receiver]]] = {}
        """``add_dynamic_flow`` arguments seen in this run → the flows they name."""
        op_run.routing = self.callback is not None

    @property
    def flows(self) -> list[FlowInfo]:
        """The operator's static flows (computed once per run)."""
        if self._flows_cache is None:
            self._flows_cache = static_flows(self.op)
        return self._flows_cache

    def add(self, args: tuple[Any, ...]) -> None:
        """``add_dynamic_flow(*args)`` in any of Holoscan's forms.

        Raises
        ------
        GraphError
            If a port does not exist, a port name is ambiguous, or the flow is not one of the
            operator's static flows.
        TypeError
            If the arguments match none of the forms.
        """
        key = (tuple(args[0]),) if args and type(args[0]) is list else args
        try:
            picked = self._resolved[key]
        except KeyError:
            picked = [(flow.output_port_name, self._route(flow)) for flow in self._flows(args)]
            self._resolved[key] = picked
        except TypeError:  # unhashable arguments: resolve them every time
            picked = [(flow.output_port_name, self._route(flow)) for flow in self._flows(args)]
        self.chosen.extend(picked)
        self.op_run.routing = True

    def _flows(self, args: tuple[Any, ...]) -> Iterable[FlowInfo]:
        from holoflow.core._operator import Operator

        if len(args) == 1 and isinstance(args[0], FlowInfo):
            return [self._own(args[0])]
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            if not all(isinstance(flow, FlowInfo) for flow in args[0]):
                raise TypeError(f"{self.label}: add_dynamic_flow takes a list of FlowInfo")
            return [self._own(flow) for flow in args[0]]
        output = ""
        if args and isinstance(args[0], str):
            output, args = args[0], args[1:]
        if not 1 <= len(args) <= 2 or not isinstance(args[0], Operator):
            raise TypeError(
                f"{self.label}: add_dynamic_flow takes (FlowInfo), (list of FlowInfo), "
                "(next_op, input_port='') or (output_port, next_op, input_port='')"
            )
        next_op = args[0]
        input_name = args[1] if len(args) == 2 else ""
        if not isinstance(input_name, str):
            raise TypeError(
                f"{self.label}: add_dynamic_flow: input port name must be a str, got {input_name!r}"
            )
        output = output or _only(self.label, "output", self.op.spec.outputs)
        input_name = input_name or _only(f"operator '{next_op.name}'", "input", next_op.spec.inputs)
        return [FlowInfo(self.op, output, next_op, input_name)]

    def _own(self, flow: FlowInfo) -> FlowInfo:
        if flow.curr_operator is not self.op:
            raise GraphError(
                f"{self.label}: add_dynamic_flow got {flow!r}, a flow of operator '{flow.curr_operator.name}'"
            )
        return flow

    def _route(self, flow: FlowInfo) -> Receiver:
        receiver = self.receivers.get(flow.key())
        if receiver is not None:
            return receiver
        if flow.output_port_name not in self.op.spec.outputs:
            raise GraphError(
                f"{self.label}: add_dynamic_flow: no output port '{flow.output_port_name}'; "
                f"declared outputs: {sorted(self.op.spec.outputs)}"
            )
        known = ", ".join(repr(f) for f in self.flows) or "none"
        raise GraphError(
            f"{self.label}: add_dynamic_flow from output port '{flow.output_port_name}' to operator "
            f"'{flow.next_operator.name}' (input port '{flow.input_port_name}') is not a flow of the "
            f"graph; connect them with add_flow in compose(). Its flows: {known}"
        )

    def route(self, now: int) -> None:
        """Commit an execution that chose flows: deliver what the operator emitted on each chosen
        flow's port to that flow's receiver, and discard the rest. A flow from the output
        execution port carries a new signal when nothing was emitted on it.

        Raises
        ------
        SchedulingError
            If a flow leaves a data port the operator emitted nothing on.
        """
        op_run = self.op_run
        transmitters = op_run.transmitters
        sent: dict[str, list[Any]] = {}
        for output, receiver in self.chosen:
            messages = sent.get(output)
            if messages is None:
                messages = sent[output] = transmitters[output].pending
                if not messages:
                    if output != OUTPUT_EXEC:
                        raise SchedulingError(
                            f"{self.label}: a dynamic flow leaves output port '{output}', but compute "
                            "emitted nothing on it"
                        )
                    messages.append(stamp(self.op, SIGNAL))
            for message in messages:
                receiver.push(message, now)
        for transmitter in transmitters.values():
            if transmitter.pending:
                transmitter.pending.clear()
        self.chosen = []


def _only(owner: str, kind: str, ports: dict[str, IOSpec]) -> str:
    if not ports:
        raise GraphError(f"{owner}: add_dynamic_flow: it has no {kind} ports, so no flow can reach it")
    if len(ports) != 1:
        raise GraphError(
            f"{owner}: add_dynamic_flow cannot choose among {kind} ports {sorted(ports)}; name the port"
        )
    return next(iter(ports))


Compute = Callable[["InputContext", "OutputContext", "ExecutionContext"], None]


def wrap_compute(op_run: OpRun) -> Compute:
    """``compute`` with the control-flow steps around it, for an operator that has execution
    ports or a dynamic-flow callback: consume the signals that started it, run ``compute`` and
    the callback, then queue its signal for the commit (which routes instead when flows were
    chosen: :meth:`FlowRoutes.route`)."""
    op = op_run.op
    compute = op.compute
    exec_in = op_run.input_ports.get(INPUT_EXEC)
    signals = exec_in.receivers[0] if exec_in is not None and exec_in.receivers else None
    exec_out = op_run.transmitters.get(OUTPUT_EXEC)
    routes = op_run.routes

    def run_compute(op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        if signals is not None:
            for _ in range(len(signals.queue)):
                unstamp(op, signals.take())
        compute(op_input, op_output, context)
        if routes.callback is not None:
            routes.callback(op)
        if exec_out is not None and not op_run.routing:
            exec_out.pending.append(stamp(op, SIGNAL))

    return run_compute
