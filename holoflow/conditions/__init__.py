"""Conditions that decide when an operator may run (Holoscan's ``holoscan.conditions``).

The conditions every run builds from port declarations (the three port conditions and the
multi-message conditions of ``spec.multi_port_condition``), ``CountCondition`` (which the start
operator of a control flow uses) and the asynchronous condition every operator owns during a run
live in the core; they are re-exported here under Holoscan's path.
"""

from holoflow.conditions._boolean import BooleanCondition
from holoflow.conditions._periodic import PeriodicCondition, PeriodicConditionPolicy
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
    "DownstreamMessageAffordableCondition",
    "ExpiringMessageAvailableCondition",
    "MessageAvailableCondition",
    "MultiMessageAvailableCondition",
    "MultiMessageAvailableTimeoutCondition",
    "PeriodicCondition",
    "PeriodicConditionPolicy",
]
