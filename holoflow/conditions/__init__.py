"""Conditions that decide when an operator may run (Holoscan's ``holoscan.conditions``).

The conditions every run builds from port declarations (the three port conditions and the
multi-message conditions of ``spec.multi_port_condition``), ``CountCondition`` (which the start
operator of a control flow uses) and the asynchronous condition every operator owns during a run
live in the core; they are re-exported here under Holoscan's path.

The CUDA conditions hold an operator until the GPU work on what it received is done (nothing
to wait for on a machine without CUDA); ``MemoryAvailableCondition`` waits for an allocator's
memory; the pub/sub conditions exist for Holoscan 4.6 code (holoflow has no pub/sub connector).
"""

from holoflow.conditions._boolean import BooleanCondition
from holoflow.conditions._cuda import CudaBufferAvailableCondition, CudaEventCondition, CudaStreamCondition
from holoflow.conditions._memory_available import MemoryAvailableCondition
from holoflow.conditions._periodic import PeriodicCondition, PeriodicConditionPolicy
from holoflow.conditions._pubsub import PublisherAvailableCondition, SubscriberAvailableCondition
from holoflow.core import (
    AsynchronousCondition,
    AsynchronousEventState,
    CountCondition,
    DownstreamMessageAffordableCondition,
    ExpiringMessageAvailableCondition,
    MessageAvailableCondition,
    MultiMessageAvailableCondition,
    MultiMessageAvailableTimeoutCondition,
)

__all__ = [
    "AsynchronousCondition",
    "AsynchronousEventState",
    "BooleanCondition",
    "CountCondition",
    "CudaBufferAvailableCondition",
    "CudaEventCondition",
    "CudaStreamCondition",
    "DownstreamMessageAffordableCondition",
    "ExpiringMessageAvailableCondition",
    "MemoryAvailableCondition",
    "MessageAvailableCondition",
    "MultiMessageAvailableCondition",
    "MultiMessageAvailableTimeoutCondition",
    "PeriodicCondition",
    "PeriodicConditionPolicy",
    "PublisherAvailableCondition",
    "SubscriberAvailableCondition",
]
