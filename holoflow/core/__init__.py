"""The core API, under Holoscan's names: operators, specs, contexts, fragments, applications.

A Holoscan Python application ports by replacing ``holoscan.core`` with ``holoflow.core``.
``Subgraph`` groups operators into reusable pieces with interface ports, and the operator graph
answers to Holoscan 4.6's names (``OperatorFlowGraph``, ``FlowGraph``) as well as 3.x's.
Fragments hold services that components look up by type (``register_service`` / ``service``),
and ports connect through queues or, with ``IOSpec.ConnectorType.ASYNC_BUFFER``, through async
buffers that let producer and consumer run at their own rates. The core also owns what every
run needs: the port conditions each port gets, the clocks, the sequential ``GreedyScheduler`` a
fragment runs under by default, and the run kernel that every scheduler drives
(:mod:`holoflow.core.run`). ``holoflow.conditions``, ``holoflow.resources`` and
``holoflow.schedulers`` re-export these under Holoscan's import paths.
"""

from holoflow.core._application import Application
from holoflow.core._arg import (
    Arg,
    ArgList,
    arg_to_py_object,
    arglist_to_kwargs,
    kwargs_to_arglist,
    py_object_to_arg,
)
from holoflow.core._arg_type import ArgContainerType, ArgElementType, ArgType
from holoflow.core._arrays import ArrayScope
from holoflow.core._async_buffer import AsyncBufferReceiver, AsyncBufferTransmitter
from holoflow.core._async_condition import AsynchronousCondition, AsynchronousEventState
from holoflow.core._async_data_logger import AsyncDataLoggerResource, AsyncLoggerStatistics, DataEntry
from holoflow.core._cli_options import CLIOptions
from holoflow.core._clock import Clock, ManualClock, RealtimeClock
from holoflow.core._component import Component, ComponentSpec, ParameterFlag
from holoflow.core._condition import Condition, ConditionType, SchedulingStatusType
from holoflow.core._config import Config
from holoflow.core._context import ExecutionContext, InputContext, OutputContext
from holoflow.core._count import CountCondition
from holoflow.core._data_logger import AsyncQueuePolicy, DataLogger, DataLoggerQueueType, DataLoggerResource
from holoflow.core._executor import Executor
from holoflow.core._flow import START_OPERATOR_NAME, FlowInfo
from holoflow.core._fragment import Fragment
from holoflow.core._fragment_graph import FragmentFlowGraph
from holoflow.core._graph import Connection, OperatorGraph
from holoflow.core._greedy import GreedyScheduler
from holoflow.core._interface_port import InterfacePort, InterfacePortMapping, InterfacePortType
from holoflow.core._message import Message, io_type_registry
from holoflow.core._metadata import Envelope, MetadataDictionary, MetadataPolicy
from holoflow.core._multi_message import MultiMessageAvailableCondition, MultiMessageAvailableTimeoutCondition
from holoflow.core._network_context import NetworkContext
from holoflow.core._operator import Operator
from holoflow.core._operator_status import OperatorStatus
from holoflow.core._or_combiner import OrConditionCombiner
from holoflow.core._port_conditions import (
    DownstreamMessageAffordableCondition,
    ExpiringMessageAvailableCondition,
    MessageAvailableCondition,
    PortCondition,
)
from holoflow.core._queue import QueuePolicy, QueueStatistics, Receiver, Transmitter
from holoflow.core._resource import Resource, StreamPool
from holoflow.core._scheduler import Scheduler
from holoflow.core._service import (
    DefaultFragmentService,
    DistributedAppService,
    FragmentService,
    ServiceDriverEndpoint,
    ServiceWorkerEndpoint,
)
from holoflow.core._spec import IOSpec, MultiMessageConditionInfo, OperatorSpec
from holoflow.core._subgraph import Subgraph
from holoflow.core._thread_pool import RealtimeRequest, SchedulingPolicy, ThreadPool
from holoflow.core._tracker import Tracker
from holoflow.core._tracking import DataFlowMetric, DataFlowTracker
from holoflow.tensor import DLDevice, DLDeviceType, Tensor, TensorMap, as_tensor

FlowGraph = OperatorGraph
OperatorFlowGraph = OperatorGraph
"""Holoscan 4.6's names of the operator graph (``Fragment.graph``)."""
Graph = OperatorGraph
FragmentGraph = FragmentFlowGraph
"""Holoscan 3.x's names, kept for code written against it."""
OperatorBase = Operator
ConditionBase = Condition
ResourceBase = Resource
ClockInterface = Clock
"""Holoscan's base classes behind wrapped C++ and native Python components. holoflow has one class
for both, so each name is that class and ``isinstance`` checks against either hold."""

__all__ = [
    "START_OPERATOR_NAME",
    "Application",
    "Arg",
    "ArgContainerType",
    "ArgElementType",
    "ArgList",
    "ArgType",
    "ArrayScope",
    "AsyncBufferReceiver",
    "AsyncBufferTransmitter",
    "AsyncDataLoggerResource",
    "AsyncLoggerStatistics",
    "AsyncQueuePolicy",
    "AsynchronousCondition",
    "AsynchronousEventState",
    "CLIOptions",
    "Clock",
    "ClockInterface",
    "Component",
    "ComponentSpec",
    "Condition",
    "ConditionBase",
    "ConditionType",
    "Config",
    "Connection",
    "CountCondition",
    "DLDevice",
    "DLDeviceType",
    "DataEntry",
    "DataFlowMetric",
    "DataFlowTracker",
    "DataLogger",
    "DataLoggerQueueType",
    "DataLoggerResource",
    "DefaultFragmentService",
    "DistributedAppService",
    "DownstreamMessageAffordableCondition",
    "Envelope",
    "ExecutionContext",
    "Executor",
    "ExpiringMessageAvailableCondition",
    "FlowGraph",
    "FlowInfo",
    "Fragment",
    "FragmentFlowGraph",
    "FragmentGraph",
    "FragmentService",
    "Graph",
    "GreedyScheduler",
    "IOSpec",
    "InputContext",
    "InterfacePort",
    "InterfacePortMapping",
    "InterfacePortType",
    "ManualClock",
    "Message",
    "MessageAvailableCondition",
    "MetadataDictionary",
    "MetadataPolicy",
    "MultiMessageAvailableCondition",
    "MultiMessageAvailableTimeoutCondition",
    "MultiMessageConditionInfo",
    "NetworkContext",
    "Operator",
    "OperatorBase",
    "OperatorFlowGraph",
    "OperatorGraph",
    "OperatorSpec",
    "OperatorStatus",
    "OrConditionCombiner",
    "OutputContext",
    "ParameterFlag",
    "PortCondition",
    "QueuePolicy",
    "QueueStatistics",
    "RealtimeClock",
    "RealtimeRequest",
    "Receiver",
    "Resource",
    "ResourceBase",
    "Scheduler",
    "SchedulingPolicy",
    "SchedulingStatusType",
    "ServiceDriverEndpoint",
    "ServiceWorkerEndpoint",
    "StreamPool",
    "Subgraph",
    "Tensor",
    "TensorMap",
    "ThreadPool",
    "Tracker",
    "Transmitter",
    "arg_to_py_object",
    "arglist_to_kwargs",
    "as_tensor",
    "io_type_registry",
    "kwargs_to_arglist",
    "py_object_to_arg",
]
