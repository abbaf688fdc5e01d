"""The core API, under Holoscan's names: operators, specs, contexts, fragments, applications.

A Holoscan Python application ports by replacing ``holoscan.core`` with ``holoflow.core``.
"""

from holoflow.core._application import Application
from holoflow.core._arg import Arg, ArgList
from holoflow.core._component import Component, ComponentSpec, ParameterFlag
from holoflow.core._condition import Condition, ConditionType, SchedulingStatusType
from holoflow.core._config import Config
from holoflow.core._context import ExecutionContext, InputContext, OutputContext
from holoflow.core._fragment import Fragment
from holoflow.core._graph import Connection, OperatorGraph
from holoflow.core._operator import Operator
from holoflow.core._queue import QueuePolicy, QueueStatistics, Receiver, Transmitter
from holoflow.core._resource import Resource
from holoflow.core._scheduler import Scheduler
from holoflow.core._spec import IOSpec, OperatorSpec
from holoflow.core._thread_pool import ThreadPool
from holoflow.tensor import Tensor, TensorMap, as_tensor

Graph = OperatorGraph

__all__ = [
    "Application",
    "Arg",
    "ArgList",
    "Component",
    "ComponentSpec",
    "Condition",
    "ConditionType",
    "Config",
    "Connection",
    "ExecutionContext",
    "Fragment",
    "Graph",
    "IOSpec",
    "InputContext",
    "Operator",
    "OperatorGraph",
    "OperatorSpec",
    "OutputContext",
    "ParameterFlag",
    "QueuePolicy",
    "QueueStatistics",
    "Receiver",
    "Resource",
    "Scheduler",
    "SchedulingStatusType",
    "Tensor",
    "TensorMap",
    "ThreadPool",
    "Transmitter",
    "as_tensor",
]
