"""Conditions that decide when an operator may run (Holoscan's ``holoscan.conditions``).

The conditions every run builds from port declarations (the three port conditions and the
multi-message conditions of ``spec.multi_port_condition``) live in the core; they are
re-exported here under Holoscan's path.
"""

from holoflow.conditions._asynchronous import AsynchronousCondition, AsynchronousEventState
from holoflow.conditions._boolean import BooleanCondition
from holoflow.conditions._count import CountCondition
from holoflow.conditions._periodic import PeriodicCondition, PeriodicConditionPolicy
from holoflow.core import (
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
    "DownstreamMessageAffordableCondition",
    "ExpiringMessageAvailableCondition",
    "MessageAvailableCondition",
    "MultiMessageAvailableCondition",
    "MultiMessageAvailableTimeoutCondition",
    "PeriodicCondition",
    "PeriodicConditionPolicy",
]
