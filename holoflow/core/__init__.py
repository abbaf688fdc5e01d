"""The core API, under Holoscan's names: operators, specs, contexts, fragments, applications.

A Holoscan Python application ports by replacing ``holoscan.core`` with ``holoflow.core``.
The core also owns what every run needs: the port conditions each port gets, the clocks, the
sequential ``GreedyScheduler`` a fragment runs under by default, and the run kernel that every
scheduler drives (:mod:`holoflow.core.run`). ``holoflow.conditions``, ``holoflow.resources`` and
``holoflow.schedulers`` re-export these under Holoscan's import paths.
"""

from holoflow.core._application import Application
from holoflow.core._arg import Arg, ArgList
from holoflow.core._arrays import ArrayScope
from holoflow.core._clock import Clock, ManualClock, RealtimeClock
from holoflow.core._component import Component, ComponentSpec, ParameterFlag
from holoflow.core._condition import Condition, ConditionType, SchedulingStatusType
from holoflow.core._config import Config
from holoflow.core._context import ExecutionContext, InputContext, OutputContext
from holoflow.core._fragment import Fragment
from holoflow.core._graph import Connection, OperatorGraph
from holoflow.core._greedy import GreedyScheduler
from holoflow.core._multi_message import MultiMessageAvailableCondition, MultiMessageAvailableTimeoutCondition
from holoflow.core._operator import Operator
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
from holoflow.core._spec import IOSpec, MultiMessageConditionInfo, OperatorSpec
from holoflow.core._thread_pool import ThreadPool
from holoflow.tensor import Tensor, TensorMap, as_tensor

Graph = OperatorGraph

__all__ = [
    "Application",
    "Arg",
    "ArgList",
    "ArrayScope",
    "Clock",
    "Component",
    "ComponentSpec",
    "Condition",
    "ConditionType",
    "Config",
    "Connection",
    "DownstreamMessageAffordableCondition",
    "ExecutionContext",
    "ExpiringMessageAvailableCondition",
    "Fragment",
    "Graph",
    "GreedyScheduler",
    "IOSpec",
    "InputContext",
    "ManualClock",
    "MessageAvailableCondition",
    "MultiMessageAvailableCondition",
    "MultiMessageAvailableTimeoutCondition",
    "MultiMessageConditionInfo",
    "Operator",
    "OperatorGraph",
    "OperatorSpec",
    "OrConditionCombiner",
    "OutputContext",
    "ParameterFlag",
    "PortCondition",
    "QueuePolicy",
    "QueueStatistics",
    "RealtimeClock",
    "Receiver",
    "Resource",
    "Scheduler",
    "SchedulingStatusType",
    "StreamPool",
    "Tensor",
    "TensorMap",
    "ThreadPool",
    "Transmitter",
    "as_tensor",
]
