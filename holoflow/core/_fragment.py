"""``Fragment``: a graph of operators, its configuration, its scheduler and its runs."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from holoflow import _env
from holoflow.core._async_buffer import claim_async_ports
from holoflow.core._config import Config
from holoflow.core._count import CountCondition
from holoflow.core._data_logger import DataLogger
from holoflow.core._executor import Executor
from holoflow.core._flow import EXEC_PORTS, INPUT_EXEC, OUTPUT_EXEC, START_OPERATOR_NAME, data_ports
from holoflow.core._graph import Connection, OperatorGraph
from holoflow.core._greedy import GreedyScheduler
from holoflow.core._metadata import MetadataPolicy
from holoflow.core._network_context import NetworkContext
from holoflow.core._operator import Operator
from holoflow.core._scheduler import Scheduler
from holoflow.core._service import ServiceRegistry
from holoflow.core._spec import IOSpec
from holoflow.core._subgraph import Subgraph
from holoflow.core._subgraph_flow import resolve_links
from holoflow.core._thread_pool import ThreadPool
from holoflow.core._tracking import DataFlowTracker
from holoflow.errors import ConfigError, GraphError, SchedulingError

if TYPE_CHECKING:
    from holoflow.core._application import Application
    from holoflow.core._arg import Arg, ArgList

__all__ = ["Fragment"]

PortPairs = Iterable[tuple[str, str]]
_S = TypeVar("_S")


class Fragment:
    """A graph of operators with its configuration and scheduler.

    Subclass it (or :class:`~holoflow.core.Application`) and build the graph in
    :meth:`compose` with :meth:`add_operator` and :meth:`add_flow`. :meth:`run` composes once,
    then runs the graph; it may be called again, and operator objects keep their attributes
    between runs.
    """

    def __init__(self, app: Application | None = None, name: str = "", *args: Any, **kwargs: Any) -> None:
        from holoflow.core._application import Application

        if app is not None and not isinstance(app, Application):
            raise TypeError(f"Fragment() takes an Application as 'app', not {type(app).__name__}")
        if args or kwargs:
            raise TypeError(f"Fragment() got unexpected arguments {args!r} {sorted(kwargs)!r}")
        self._app = app
        self._name = name
        self._graph = OperatorGraph()
        self._config: Config | None = app._config if app is not None else None
        self._scheduler: Scheduler | None = None
        self._composed = False
        self._run_lock = threading.Lock()
        self._active_scheduler: Scheduler | None = None
        self._thread_pools: list[ThreadPool] = []
        self._start_op: Operator | None = None
        self._subgraphs: list[Subgraph] = []
        self._subgraph_names: dict[str, Subgraph] = {}
        self._metadata_enabled: bool | None = None
        self._metadata_policy: MetadataPolicy | None = None
        self._services = ServiceRegistry()
        self._executor: Executor | None = None
        self._network_context: NetworkContext | None = None
        self._data_flow_tracker: DataFlowTracker | None = None
        self._data_loggers: list[DataLogger] = []

    # -- graph -----------------------------------------------------------------------------------
    def compose(self) -> None:
        """Build the graph. Override it; the default builds nothing."""

    def compose_graph(self) -> None:
        """Call :meth:`compose` once; later calls do nothing."""
        if not self._composed:
            self._composed = True
            self.compose()

    @property
    def name(self) -> str:
        """The fragment's name."""
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        self._name = value

    @property
    def application(self) -> Application | None:
        """The application this fragment belongs to (itself for an application)."""
        return self._app

    @property
    def graph(self) -> OperatorGraph:
        """The operator graph (empty until composed)."""
        return self._graph

    def add_operator(self, op: Operator) -> None:
        """Add an operator that has no connections.

        Raises
        ------
        GraphError
            If it belongs to another fragment or its name is taken.
        """
        self._check_owned(op)
        self._graph.add_node(op)

    def add_flow(
        self,
        upstream_op: Operator | Subgraph,
        downstream_op: Operator | Subgraph,
        port_pairs: PortPairs | IOSpec.ConnectorType | None = None,
        connector_type: IOSpec.ConnectorType | None = None,
    ) -> None:
        """Connect output ports of ``upstream_op`` to input ports of ``downstream_op``.

        Parameters
        ----------
        upstream_op, downstream_op : Operator or Subgraph
            The ends to connect. A subgraph end is named by its interface ports, which stand for
            ports of operators inside it (a data input may stand for several).
        port_pairs : set of (str, str), optional
            ``{("out", "in"), ...}``; an empty name (``("", "in")``, ``("out", "")``) stands for
            the operator's only data port on that side, as in Holoscan. When omitted each
            operator must have exactly one data port on that side (or a control flow is made,
            see below); with a subgraph end the choice
            follows Holoscan: a single data port on each side, else a single execution port on
            each side. Pairs are connected in sorted order, which fixes the order of items an
            ``ANY_SIZE`` input receives.

        Notes
        -----
        Without port pairs, when ``downstream_op`` has no data inputs (or already has an input
        execution port), the two are joined by a *control flow*: ``upstream_op``'s output
        execution port to ``downstream_op``'s input execution port, both declared on demand.
        The pair ``(Operator.OUTPUT_EXEC_PORT_NAME, Operator.INPUT_EXEC_PORT_NAME)`` asks for
        one explicitly. An operator with an input execution port runs once per signal from
        each of its control flows (from any one of them when it sits on a cycle).

        ``connector_type=IOSpec.ConnectorType.ASYNC_BUFFER`` joins each pair with an async buffer:
        the two operators run at their own rates, the consumer reading the latest message (see
        ``holoflow.core.AsyncBufferReceiver``); each port may then be in no other connection.

        Raises
        ------
        GraphError
            If a port or interface port does not exist, the mapping is ambiguous, a name is
            taken, or the connector cannot join these ports (UCX; an async buffer on a port
            that has other connections).
        """
        if isinstance(port_pairs, IOSpec.ConnectorType):
            port_pairs, connector_type = None, port_pairs
        _check_connector(connector_type)
        for end in (upstream_op, downstream_op):
            if isinstance(end, Subgraph):
                self._check_subgraph_owned(end)
            elif isinstance(end, Operator):
                self._check_owned(end)
            else:
                raise TypeError(f"add_flow connects Operators and Subgraphs, not {type(end).__name__}")
        where = f"add_flow({upstream_op.name!r}, {downstream_op.name!r})"
        if isinstance(upstream_op, Subgraph) or isinstance(downstream_op, Subgraph):
            pairs = [_as_pair(where, pair) for pair in port_pairs or ()]
            for source, output, target, input_ in resolve_links(upstream_op, downstream_op, pairs):
                self.add_flow(source, target, {(output, input_)}, connector_type)
            return
        outputs = data_ports(upstream_op.spec.outputs)
        inputs = data_ports(downstream_op.spec.inputs)
        control = False
        if not port_pairs:
            control = not inputs or INPUT_EXEC in downstream_op.spec.inputs
            pairs = (
                []
                if control
                else [
                    (
                        _only_port(where, upstream_op, "output", outputs),
                        _only_port(where, downstream_op, "input", inputs),
                    )
                ]
            )
        else:
            pairs = sorted(set(_as_pair(where, pair) for pair in port_pairs))
            control = (OUTPUT_EXEC, INPUT_EXEC) in pairs
            if control:
                pairs.remove((OUTPUT_EXEC, INPUT_EXEC))
            if any(not out_name or not in_name for out_name, in_name in pairs):
                pairs = sorted(
                    {
                        (
                            out_name or _only_port(where, upstream_op, "output", outputs),
                            in_name or _only_port(where, downstream_op, "input", inputs),
                        )
                        for out_name, in_name in pairs
                    }
                )
            for out_name, in_name in pairs:
                if out_name in EXEC_PORTS or in_name in EXEC_PORTS:
                    raise GraphError(
                        f"{where}: ({out_name!r}, {in_name!r}) joins an execution port to a data port; "
                        f"execution ports connect only as ({OUTPUT_EXEC!r}, {INPUT_EXEC!r})"
                    )
        for out_name, in_name in pairs:
            if out_name not in outputs:
                raise GraphError(
                    f"{where}: operator '{upstream_op.name}' has no output port '{out_name}'; "
                    f"declared outputs: {sorted(outputs)}"
                )
            if in_name not in inputs:
                raise GraphError(
                    f"{where}: operator '{downstream_op.name}' has no input port '{in_name}'; "
                    f"declared inputs: {sorted(inputs)}"
                )
        if connector_type is IOSpec.ConnectorType.ASYNC_BUFFER and pairs:
            claim_async_ports(where, self._graph.connections, upstream_op, downstream_op, pairs)
        self._graph.add_node(upstream_op)
        self._graph.add_node(downstream_op)
        if control:
            self._add_control_flow(where, upstream_op, downstream_op, connector_type)
        for out_name, in_name in pairs:
            self._graph.add_connection(Connection(upstream_op, out_name, downstream_op, in_name))

    def _add_control_flow(
        self,
        where: str,
        upstream_op: Operator,
        downstream_op: Operator,
        connector_type: IOSpec.ConnectorType | None,
    ) -> None:
        """Connect the execution ports of two operators, declaring them when missing."""
        if connector_type not in (None, IOSpec.ConnectorType.DEFAULT):
            raise GraphError(f"{where}: a control flow takes the default connector, not {connector_type}")
        if OUTPUT_EXEC not in upstream_op.spec.outputs:
            upstream_op.spec.output(OUTPUT_EXEC)
        if INPUT_EXEC not in downstream_op.spec.inputs:
            downstream_op.spec.input(INPUT_EXEC, size=IOSpec.PRECEDING_COUNT)
        self._graph.add_connection(Connection(upstream_op, OUTPUT_EXEC, downstream_op, INPUT_EXEC))

    def start_op(self) -> Operator:
        """The operator that starts a control flow: it has no ports, runs once, and is named
        ``START_OPERATOR_NAME``. Created and added on the first call; ``add_flow`` it to the
        first operator of the flow."""
        if self._start_op is None:
            op = Operator(self, CountCondition(self, 1), name=START_OPERATOR_NAME)
            self.add_operator(op)
            self._start_op = op
        return self._start_op

    def set_dynamic_flows(self, op: Operator, dynamic_flow_func: Callable[[Operator], Any]) -> None:
        """Call ``dynamic_flow_func(op)`` after every ``compute`` of ``op``; what ``op`` emitted
        then goes only along the flows the callback adds with ``op.add_dynamic_flow(...)``.

        Raises
        ------
        holoflow.errors.GraphError
            If ``op`` belongs to another fragment.
        TypeError
            If ``dynamic_flow_func`` is not callable.
        """
        if not isinstance(op, Operator):
            raise TypeError(f"set_dynamic_flows takes an Operator, not {type(op).__name__}")
        self._check_owned(op)
        if not callable(dynamic_flow_func):
            raise TypeError(f"set_dynamic_flows: the callback for operator '{op.name}' is not callable")
        op._holoflow_flow_callback = dynamic_flow_func

    # -- pictures --------------------------------------------------------------------------------
    def to_dot(self) -> str:
        """The graph as Graphviz DOT text (holoflow's; Holoscan has none), composing it first
        (once, as :meth:`run` would): operators with their ports, conditions and resources;
        edges from port to port labelled with the receiving queue's capacity and policy and the
        ports' conditions; an application's fragments as clusters. Draw it with
        :func:`holoflow.core.graph_picture.render`; ``docs/graph_pictures.md`` explains it.

        Raises
        ------
        holoflow.errors.GraphError
            If a fragment connection names an operator or port that does not exist.
        Exception
            Whatever ``compose`` raises.
        """
        from holoflow.core._graph_dot import graph_dot

        return graph_dot(self)

    def _repr_svg_(self) -> str | None:
        """Jupyter's picture of the graph: SVG where Graphviz is installed, else ``None``."""
        from holoflow.core._graph_render import dot_to_bytes, graphviz_available

        if not graphviz_available():
            return None
        return dot_to_bytes(self.to_dot(), "svg").decode()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str] | None:
        """Jupyter's rich display: ``image/svg+xml`` where Graphviz is installed (and the
        frontend takes it), else ``None`` (Jupyter then shows the plain ``repr``)."""
        mime = "image/svg+xml"
        if (include is not None and mime not in include) or (exclude is not None and mime in exclude):
            return None
        svg = self._repr_svg_()
        return None if svg is None else {mime: svg}

    # -- subgraphs -------------------------------------------------------------------------------
    def add_subgraph(self, subgraph: Subgraph) -> None:
        """Confirm that ``subgraph`` belongs to this fragment (it does from its construction).

        Raises
        ------
        GraphError
            If it was created for another fragment.
        """
        if not isinstance(subgraph, Subgraph):
            raise TypeError(f"add_subgraph takes a Subgraph, not {type(subgraph).__name__}")
        self._check_subgraph_owned(subgraph)

    @property
    def subgraphs(self) -> list[Subgraph]:
        """The top-level subgraphs, in creation order (nested ones: ``Subgraph.nested_subgraphs``)."""
        return list(self._subgraphs)

    def _register_subgraph(self, subgraph: Subgraph) -> None:
        """Called by the Subgraph constructor: claim its qualified name."""
        if subgraph.name in self._subgraph_names:
            raise GraphError(
                f"duplicate subgraph name '{subgraph.name}': each subgraph of a fragment needs a "
                f"unique (qualified) name"
            )
        self._subgraph_names[subgraph.name] = subgraph
        if subgraph._parent is None:
            self._subgraphs.append(subgraph)

    def _check_subgraph_owned(self, subgraph: Subgraph) -> None:
        if subgraph.fragment is not self:
            raise GraphError(
                f"subgraph '{subgraph.name}' was created for another fragment; "
                f"create it with this fragment as its first argument"
            )

    def _check_owned(self, op: Operator) -> None:
        if op.fragment is not self:
            raise GraphError(
                f"operator '{op.name}' was created for another fragment; "
                f"create it with this fragment as its first argument"
            )

    # -- configuration ---------------------------------------------------------------------------
    def config(
        self, config_file: str | os.PathLike[str] | Config | None = None, prefix: str = ""
    ) -> Config | None:
        """Load a YAML configuration file (or set a ``Config``); with no argument, return it.

        ``--config PATH`` on the application's command line and the environment variable
        ``HOLOFLOW_CONFIG_PATH`` (or ``HOLOSCAN_CONFIG_PATH``) take precedence over the path
        given here. ``config("")`` loads no file: as in Holoscan it sets an empty configuration
        (replacing a loaded one), so on a fresh fragment it changes nothing that reads it.
        """
        if config_file is None:
            return self._config
        if isinstance(config_file, Config):
            self._config = config_file
            return self._config
        override = self._config_override()
        self._config = Config(override or config_file, prefix)
        return self._config

    def _config_override(self) -> str | None:
        return _env.config_path()

    def _require_config(self, key: str) -> Config:
        if self._config is None:
            raise ConfigError(f"no config file loaded; call config(path) before looking up '{key}'")
        return self._config

    def config_keys(self) -> set[str]:
        """Every dotted key of the loaded configuration (empty without one)."""
        return self._config.keys() if self._config is not None else set()

    def kwargs(self, key: str) -> dict[str, Any]:
        """The mapping at ``key`` of the configuration as keyword arguments.

        Raises
        ------
        ConfigError
            If no config is loaded, or the key is missing or not a mapping (naming file and key).
        """
        return self._require_config(key).kwargs(key)

    def from_config(self, key: str) -> ArgList | Arg:
        """The configuration at ``key`` as an ``ArgList`` (mapping) or ``Arg`` (leaf)."""
        return self._require_config(key).args(key)

    # -- data loggers ----------------------------------------------------------------------------
    def add_data_logger(self, logger: DataLogger) -> None:
        """Have ``logger`` called for every message the operators of this fragment emit and
        receive, from the next run on (see :mod:`holoflow.data_loggers`).

        Raises
        ------
        TypeError
            If ``logger`` is not a :class:`~holoflow.core.DataLogger`.
        """
        if not isinstance(logger, DataLogger):
            raise TypeError(f"add_data_logger() takes a DataLogger, not {type(logger).__name__}")
        self._data_loggers.append(logger)

    @property
    def data_loggers(self) -> list[DataLogger]:
        """The data loggers added with :meth:`add_data_logger`, in order."""
        return list(self._data_loggers)

    # -- metadata --------------------------------------------------------------------------------
    def enable_metadata(self, enabled: bool) -> None:
        """Turn operator metadata on or off for the operators of this fragment (each may override
        it with ``Operator.enable_metadata``); a run reads it as it starts."""
        self._metadata_enabled = bool(enabled)

    @property
    def is_metadata_enabled(self) -> bool:
        """Whether operators of this fragment use metadata by default: the fragment's setting,
        else its application's, else ``True``.

        Assigning to it is Holoscan's deprecated spelling of :meth:`enable_metadata`.
        """
        if self._metadata_enabled is not None:
            return self._metadata_enabled
        app = self._app
        return app.is_metadata_enabled if app is not None and app is not self else True

    @is_metadata_enabled.setter
    def is_metadata_enabled(self, enabled: bool) -> None:
        warnings.warn(
            "assigning is_metadata_enabled is deprecated (as in Holoscan); call enable_metadata(enabled)",
            DeprecationWarning,
            stacklevel=2,
        )
        self.enable_metadata(enabled)

    @property
    def metadata_policy(self) -> MetadataPolicy:
        """The policy of operators of this fragment whose own policy is ``DEFAULT``: the fragment's
        setting, else its application's, else ``MetadataPolicy.RAISE``."""
        if self._metadata_policy is not None:
            return self._metadata_policy
        app = self._app
        return app.metadata_policy if app is not None and app is not self else MetadataPolicy.RAISE

    @metadata_policy.setter
    def metadata_policy(self, policy: MetadataPolicy) -> None:
        if not isinstance(policy, MetadataPolicy):
            raise TypeError(f"metadata_policy must be a MetadataPolicy, not {type(policy).__name__}")
        self._metadata_policy = policy

    # -- services --------------------------------------------------------------------------------
    def register_service(self, service: Any, id: str = "") -> None:
        """Register a :class:`~holoflow.core.FragmentService` or :class:`~holoflow.core.Resource`
        that components of this fragment look up with :meth:`service`.

        A resource (or a service standing for one) is registered under the resource's name and
        ``id`` is ignored; any other service under ``id``, or under its type when ``id`` is empty.
        Registering a service again under the same key replaces it.

        Raises
        ------
        TypeError
            If ``service`` is neither a FragmentService nor a Resource.
        holoflow.errors.GraphError
            If a resource of the same name is registered already.
        """
        self._services.register(service, id, f"fragment '{self._name}': register_service")

    def service(self, service_type: type[_S], id: str = "") -> _S | None:
        """The service registered under ``id`` (or under ``service_type`` when ``id`` is empty)
        if it is a ``service_type``; asking for a resource type returns the resource a service
        stands for. Falls back to the application's services; ``None`` when none matches."""
        found = self._services.find(service_type, id)
        app = self._app
        if found is None and app is not None and app is not self:
            found = app._services.find(service_type, id)
        return found

    # -- execution -------------------------------------------------------------------------------
    @property
    def executor(self) -> Executor:
        """The :class:`~holoflow.core.Executor` that runs this fragment's graph."""
        if self._executor is None:
            self._executor = Executor(self)
        return self._executor

    def network_context(self, network_context: NetworkContext | None = None) -> NetworkContext | None:
        """Set the network context; with no argument, return it (``None`` unless one was set).

        holoflow chooses the links between fragments itself, so a run does not use it.
        """
        if network_context is None:
            return self._network_context
        if not isinstance(network_context, NetworkContext):
            raise TypeError(f"network_context() takes a NetworkContext, not {type(network_context).__name__}")
        self._network_context = network_context
        return network_context

    def shutdown_async_executor(self, wait: bool = True) -> None:
        """Holoscan shuts down the thread pool behind ``run_async``; holoflow's ``run_async``
        starts one thread per run that ends with it, so there is nothing to shut down."""

    # -- running ---------------------------------------------------------------------------------
    def scheduler(self, scheduler: Scheduler | None = None) -> Scheduler:
        """Set the scheduler used by :meth:`run`; with no argument, return it (a
        ``GreedyScheduler`` unless one was set)."""
        if scheduler is None:
            if self._scheduler is None:  # as in Holoscan, a default one exists before run()
                self._scheduler = GreedyScheduler(self, name="greedy_scheduler")
            return self._scheduler
        if not isinstance(scheduler, Scheduler):
            raise TypeError(f"scheduler() takes a Scheduler, not {type(scheduler).__name__}")
        self._scheduler = scheduler
        return scheduler

    def track(
        self,
        num_start_messages_to_skip: int = 10,
        num_last_messages_to_discard: int = 10,
        latency_threshold: int = 0,
        is_limited_tracking: bool = False,
        *,
        sample_every: int = 1,
        operator_timing: bool = False,
    ) -> DataFlowTracker:
        """Turn on data-flow tracking for the fragment's next runs and return its tracker.

        Each path from a root operator to a leaf gets its end-to-end latency measured for every
        message; see :class:`~holoflow.core.DataFlowTracker` for the numbers. Calling it again
        returns the same tracker with the new settings. Call it before :meth:`run`.

        Parameters
        ----------
        num_start_messages_to_skip : int
            Messages left out at the start of each path (warm-up).
        num_last_messages_to_discard : int
            Messages left out at the end of each path.
        latency_threshold : int
            Latencies below this many milliseconds are left out.
        is_limited_tracking : bool
            Timestamp only roots and leaves (operators between them add no hop).
        sample_every : int
            holoflow's: track only every ``sample_every``-th compute of each root; the other
            messages travel untracked (see :meth:`DataFlowTracker.set_sampling`).
        operator_timing : bool
            holoflow's: keep hop times, compute and queue times (see
            :meth:`DataFlowTracker.set_operator_timing`).

        Raises
        ------
        ValueError
            If a message count is negative or not an int, or ``sample_every`` is below 1.
        """
        tracker = self._data_flow_tracker or DataFlowTracker()
        tracker.set_skip_starting_messages(num_start_messages_to_skip)
        tracker.set_discard_last_messages(num_last_messages_to_discard)
        tracker.set_skip_latencies(latency_threshold)
        tracker.set_limited_tracking(is_limited_tracking)
        tracker.set_sampling(sample_every)
        tracker.set_operator_timing(operator_timing)
        self._data_flow_tracker = tracker
        return tracker

    @property
    def data_flow_tracker(self) -> DataFlowTracker | None:
        """The tracker :meth:`track` turned on, or ``None`` when the fragment is not tracked."""
        return self._data_flow_tracker

    def run(self) -> None:
        """Compose (once) and run the graph until it finishes.

        Raises
        ------
        Exception
            Whatever an operator raised, with a note naming the operator and method.
        holoflow.errors.GraphError
            If the graph is invalid (raised before any operator starts).
        holoflow.errors.SchedulingError
            If the fragment is already running.
        """
        if not self._run_lock.acquire(blocking=False):
            raise SchedulingError(f"fragment '{self._name}' is already running")
        try:
            self.compose_graph()
            if self._scheduler is None:
                self._scheduler = GreedyScheduler(self, name="greedy_scheduler")
            self._active_scheduler = self._scheduler
            self._scheduler.run_graph(self)
        finally:
            self._active_scheduler = None
            self._run_lock.release()

    def run_async(self) -> Future[None]:
        """Start :meth:`run` on a new thread; the future holds its result or exception."""
        future: Future[None] = Future()
        future.set_running_or_notify_cancel()

        def target() -> None:
            try:
                self.run()
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(None)

        threading.Thread(target=target, name=f"holoflow-run-{self._name or 'app'}").start()
        return future

    def make_thread_pool(self, name: str, initialize_size: int = 1) -> ThreadPool:
        """Create a :class:`~holoflow.core.ThreadPool` of this fragment."""
        pool = ThreadPool(self, initialize_size, name=name)
        self._thread_pools.append(pool)
        return pool

    @property
    def thread_pools(self) -> list[ThreadPool]:
        """Thread pools made with :meth:`make_thread_pool`."""
        return list(self._thread_pools)

    def stop_execution(self, op_name: str = "") -> None:
        """Stop the whole run, or only operator ``op_name``; safe from any thread.

        Raises
        ------
        GraphError
            If no operator is called ``op_name``.
        """
        if op_name:
            op = self._graph.find_node(op_name)
            if op is None:
                raise GraphError(
                    f"stop_execution: no operator '{op_name}'; operators: "
                    f"{sorted(o.name for o in self._graph.get_nodes())}"
                )
            op.stop_execution()
            return
        scheduler = self._active_scheduler
        if scheduler is not None:
            scheduler.request_stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r} with {len(self._graph)} operator(s)>"


def _check_connector(connector_type: IOSpec.ConnectorType | None) -> None:
    """Raise GraphError for a connector type ``add_flow`` cannot make."""
    if connector_type is IOSpec.ConnectorType.UCX:
        raise GraphError(
            "add_flow: UCX connectors join the fragments of a distributed application (connect "
            "fragments with Application.add_flow); within one fragment DEFAULT, DOUBLE_BUFFER and "
            "ASYNC_BUFFER connect ports"
        )
    if connector_type is not None and not isinstance(connector_type, IOSpec.ConnectorType):
        raise GraphError(f"add_flow: connector type must be an IOSpec.ConnectorType, not {connector_type!r}")


def _only_port(where: str, op: Operator, kind: str, ports: dict[str, IOSpec]) -> str:
    """The name of the one data port in ``ports``; raises GraphError when there is not exactly one."""
    if len(ports) != 1:
        detail = f"it declares {sorted(ports)}" if ports else "it declares none"
        raise GraphError(
            f"{where}: cannot choose the {kind} port of operator '{op.name}' ({detail}); "
            f"name it in the port pairs, such as {{('out', 'in')}}"
        )
    return next(iter(ports))


def _as_pair(where: str, pair: Any) -> tuple[str, str]:
    if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
        raise GraphError(f"{where}: port pairs must be (output, input) tuples of str, got {pair!r}")
    return pair
