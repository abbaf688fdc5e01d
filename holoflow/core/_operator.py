"""The ``Operator`` base class: ports and parameters in ``setup``, work in ``compute``."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from holoflow.core._async_condition import AsynchronousEventState
from holoflow.core._component import Component
from holoflow.core._condition import Condition
from holoflow.core._flow import FlowInfo, static_flows
from holoflow.core._metadata import MetadataDictionary, MetadataPolicy
from holoflow.core._queue import QueuePolicy
from holoflow.core._resource import Resource
from holoflow.core._spec import IOSpec, OperatorSpec
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core._async_condition import AsynchronousCondition
    from holoflow.core._context import ExecutionContext, InputContext, OutputContext
    from holoflow.core._fragment import Fragment
    from holoflow.core._queue import Receiver, Transmitter
    from holoflow.core._run import OpRun
    from holoflow.core._subgraph import Subgraph
    from holoflow.core._thread_pool import ThreadPool

__all__ = ["Operator"]

_unnamed = itertools.count()


class Operator(Component):
    """Base class of operators.

    ``Operator(fragment, *args, name=..., **kwargs)``: positional ``Condition`` and ``Resource``
    objects are attached to the operator (``Arg``/``ArgList`` set parameters); a keyword whose
    value is a condition or resource attaches it under that name; any other keyword sets the
    parameter of that name declared with ``spec.param``, which reads back as an attribute (a
    keyword naming no parameter is ignored with a warning).
    ``setup(spec)`` runs inside the constructor, so assign attributes that ``setup`` needs
    before calling ``super().__init__``.

    Lifecycle per run: ``initialize`` → ``start`` → ``compute`` (0..n times) → ``stop``; ``stop``
    is called for every started operator, even when the run fails.

    Raises
    ------
    TypeError
        If the first argument is not a fragment, or an argument has an unsupported type.
    holoflow.errors.GraphError
        If two conditions or resources of the operator share a name.

    holoflow.errors.ConfigError
        In strict mode (``Application(strict=True)`` or ``HOLOFLOW_STRICT=1``), for a keyword
        that names no declared parameter.

    Warns
    -----
    holoflow.errors.UnknownParameterWarning
        For a keyword that names no declared parameter: it is ignored, as in Holoscan (a subclass
        may take its own keywords out of ``**kwargs`` after calling this constructor).
    """

    class OperatorType(enum.Enum):
        """How an operator is implemented."""

        NATIVE = 0
        GXF = 1
        VIRTUAL = 2

    _kind = "operator"
    INPUT_EXEC_PORT_NAME = "__input_exec__"
    """The input port that control-flow signals arrive on (added by ``add_flow`` when needed)."""
    OUTPUT_EXEC_PORT_NAME = "__output_exec__"
    """The output port that control-flow signals leave from (added by ``add_flow`` when needed)."""

    def __init__(self, fragment: Fragment | Subgraph, *args: Any, **kwargs: Any) -> None:
        self._conditions: dict[str, Condition] = {}
        self._resources: dict[str, Resource] = {}
        # Set by holoflow only; the prefix keeps them clear of attributes that subclasses define.
        self._holoflow_run: OpRun | None = None
        """The operator's run-time state while a run is in progress."""
        self._holoflow_thread_pool: ThreadPool | None = None
        """The thread pool the operator was added to, if any."""
        self._holoflow_flow_callback: Callable[[Operator], Any] | None = None
        """Set by ``Fragment.set_dynamic_flows``."""
        self._holoflow_metadata = MetadataDictionary()
        self._holoflow_metadata_enabled: bool | None = None
        """``enable_metadata``'s setting; ``None`` defers to the fragment."""
        super().__init__(fragment, *args, **kwargs)

    # -- lifecycle, overridable ------------------------------------------------------------------
    def setup(self, spec: OperatorSpec) -> None:
        """Declare ports (``spec.input``/``spec.output``) and parameters. Default: none."""

    def start(self) -> None:
        """Called once per run before the first ``compute``. Default: nothing."""

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        """Do one unit of work: receive inputs, emit outputs. Default: nothing."""

    def stop(self) -> None:
        """Called once per run after the last ``compute`` if ``start`` ran. Default: nothing."""

    # -- public ---------------------------------------------------------------------------------
    @property
    def spec(self) -> OperatorSpec:
        """The spec filled in by :meth:`setup`."""
        return self._spec  # type: ignore[return-value]

    @property
    def conditions(self) -> dict[str, Condition]:
        """Conditions attached to the operator, by name."""
        return dict(self._conditions)

    @property
    def resources(self) -> dict[str, Resource]:
        """Resources attached to the operator, by name."""
        return dict(self._resources)

    def resource(self, name: str) -> Resource | None:
        """The resource called ``name``, or ``None``."""
        return self._resources.get(name)

    @property
    def operator_type(self) -> Operator.OperatorType:
        """Always ``OperatorType.NATIVE`` for Python operators."""
        return Operator.OperatorType.NATIVE

    def add_arg(self, *args: Any, **kwargs: Any) -> None:
        """Add conditions, resources or parameter arguments after construction."""
        plain = []
        for value in args:
            if isinstance(value, (Condition, Resource)):
                self._take_positional(value)
            else:
                plain.append(value)
        for key, value in list(kwargs.items()):
            if isinstance(value, (Condition, Resource)):
                self._take_keyword(key, kwargs.pop(key))
        super().add_arg(*plain, **kwargs)

    @property
    def metadata(self) -> MetadataDictionary:
        """The operator's metadata: empty when ``compute`` starts, filled by ``receive`` with what
        arrived with the messages (by :attr:`metadata_policy`), sent along by ``emit``."""
        return self._holoflow_metadata

    @property
    def is_metadata_enabled(self) -> bool:
        """Whether the operator receives and sends metadata: its own :meth:`enable_metadata`
        setting, else its fragment's (enabled unless turned off)."""
        enabled = self._holoflow_metadata_enabled
        return self._fragment.is_metadata_enabled if enabled is None else enabled

    def enable_metadata(self, enable: bool) -> None:
        """Turn metadata on or off for this operator, whatever its fragment says; a run reads it
        as it starts, after the operator's ``initialize``."""
        self._holoflow_metadata_enabled = bool(enable)

    @property
    def metadata_policy(self) -> MetadataPolicy:
        """How received metadata merges into :attr:`metadata` when a key exists already.

        ``MetadataPolicy.DEFAULT`` until set: during a run the operator then uses its fragment's
        policy (``RAISE`` unless set).
        """
        return self._holoflow_metadata.policy

    @metadata_policy.setter
    def metadata_policy(self, policy: MetadataPolicy) -> None:
        self._holoflow_metadata.policy = policy

    def queue_policy(
        self,
        port_name: str,
        port_type: IOSpec.IOType = IOSpec.IOType.INPUT,
        policy: QueuePolicy | int = QueuePolicy.FAULT,
    ) -> None:
        """Set the full-queue policy of one of the operator's ports."""
        self._port_spec(port_name, port_type).queue_policy = policy

    @property
    def async_condition(self) -> AsynchronousCondition | None:
        """The operator's internal asynchronous condition, named ``_internal_async_condition``.

        Every operator gets one when its run initializes it (it is already there inside
        ``initialize``) and loses it when the run ends; ``None`` outside a run. It starts
        ``READY``; setting its ``event_state`` gates ``compute`` like any
        ``AsynchronousCondition`` (``WAIT``: not now; ``EVENT_WAITING``: until a thread sets
        ``EVENT_DONE``; ``EVENT_NEVER``: never again), from any thread.
        """
        run = self._holoflow_run
        return None if run is None else run.async_condition

    @property
    def execution_context(self) -> ExecutionContext | None:
        """The operator's execution context, from the run's ``initialize`` until the run ends
        (the one ``compute`` receives); ``None`` outside a run."""
        run = self._holoflow_run
        return None if run is None else run.context

    def stop_execution(self) -> None:
        """Stop scheduling this operator for the rest of the run; safe from any thread.

        Sets :attr:`async_condition` to ``EVENT_NEVER`` and wakes the scheduler: a compute in
        progress finishes, none follows. ``stop`` is not called now but when the run stops every
        operator. Outside a run this does nothing.
        """
        run = self._holoflow_run
        if run is not None:
            run.async_condition.event_state = AsynchronousEventState.EVENT_NEVER

    # -- control flow ---------------------------------------------------------------------------
    @property
    def next_flows(self) -> list[FlowInfo]:
        """The flows leaving this operator in its fragment's graph, one per connected pair of
        ports, in the order the next operators were connected."""
        run = self._holoflow_run
        return list(run.routes.flows) if run is not None else static_flows(self)

    def find_flow_info(self, predicate: Callable[[FlowInfo], bool]) -> FlowInfo | None:
        """The first of :attr:`next_flows` for which ``predicate`` is true, or ``None``."""
        return next((flow for flow in self.next_flows if predicate(flow)), None)

    def find_all_flow_info(self, predicate: Callable[[FlowInfo], bool]) -> list[FlowInfo]:
        """Every one of :attr:`next_flows` for which ``predicate`` is true."""
        return [flow for flow in self.next_flows if predicate(flow)]

    def add_dynamic_flow(self, *args: Any) -> None:
        """Send this execution's output along a flow; call it from ``compute`` or the callback
        given to ``Fragment.set_dynamic_flows``.

        Forms: ``add_dynamic_flow(flow_info)``, ``add_dynamic_flow([flow_info, ...])``,
        ``add_dynamic_flow(next_op, next_input_port_name="")`` and
        ``add_dynamic_flow(output_port_name, next_op, next_input_port_name="")``; an empty port
        name means the operator's only port on that side. From the first call in a run on, each
        execution of the operator sends what it emitted (and its execution signal) along the
        flows added in that execution only, and discards the rest; an execution that adds none
        sends nothing.

        Raises
        ------
        holoflow.errors.GraphError
            If no run is in progress, a port does not exist or is ambiguous, or the flow is not
            one that ``add_flow`` created.
        TypeError
            If the arguments match none of the forms.
        """
        run = self._holoflow_run
        if run is None:
            raise GraphError(
                f"{self._label()}: add_dynamic_flow works only while the graph runs, from compute() "
                "or the callback given to Fragment.set_dynamic_flows()"
            )
        run.routes.add(args)

    def receiver(self, port_name: str) -> Receiver:
        """The queue of input ``port_name`` in the current run (a list of them, one per
        connection, for an ``IOSpec.ANY_SIZE`` port).

        Raises
        ------
        holoflow.errors.GraphError
            If there is no such port, or no run is in progress.
        """
        self._port_spec(port_name, IOSpec.IOType.INPUT)
        return self._current_run().receiver(port_name)  # type: ignore[return-value]

    def transmitter(self, port_name: str) -> Transmitter:
        """The transmitter of output ``port_name`` in the current run.

        Raises
        ------
        holoflow.errors.GraphError
            If there is no such port, or no run is in progress.
        """
        self._port_spec(port_name, IOSpec.IOType.OUTPUT)
        return self._current_run().transmitters[port_name]

    # -- internals -----------------------------------------------------------------------------
    @classmethod
    def _next_default_name(cls) -> str:
        return f"unnamed_operator_{next(_unnamed)}"

    def _make_spec(self) -> OperatorSpec:
        return OperatorSpec(self._fragment, self._label())

    def _take_positional(self, value: Any) -> None:
        if isinstance(value, Condition):
            self._add_component(self._conditions, value.name, value)
        elif isinstance(value, Resource):
            self._add_component(self._resources, value.name, value)
        else:
            super()._take_positional(value)

    def _take_keyword(self, key: str, value: Any) -> None:
        if isinstance(value, (Condition, Resource)):
            value.name = key
            self._take_positional(value)
        else:
            super()._take_keyword(key, value)

    def _add_component(self, table: dict[str, Any], name: str, value: Condition | Resource) -> None:
        if name in table and table[name] is not value:
            raise GraphError(
                f"{self._label()}: two {value._kind}s are named '{name}'; give them distinct names"
            )
        if isinstance(value, Condition):
            value._attach(self)
        table[name] = value

    def _port_spec(self, port_name: str, port_type: IOSpec.IOType) -> IOSpec:
        ports = self.spec.inputs if port_type is IOSpec.IOType.INPUT else self.spec.outputs
        if port_name not in ports:
            kind = "input" if port_type is IOSpec.IOType.INPUT else "output"
            raise GraphError(
                f"{self._label()}: no {kind} port '{port_name}'; declared {kind}s: {sorted(ports)}"
            )
        return ports[port_name]

    def _current_run(self) -> OpRun:
        if self._holoflow_run is None:
            raise GraphError(f"{self._label()}: port queues exist only while the graph runs")
        return self._holoflow_run
