"""Conditions that decide when an operator may run (Holoscan's ``holoscan.conditions``).

The three port conditions every run binds to ports, and ``CountCondition`` (which the start
operator of a control flow uses), live in the core; they are re-exported here
under Holoscan's path.
"""

from holoflow.conditions._asynchronous import AsynchronousCondition, AsynchronousEventState
from holoflow.conditions._boolean import BooleanCondition
from holoflow.conditions._periodic import PeriodicCondition, PeriodicConditionPolicy
from holoflow.core import (
    CountCondition,
    DownstreamMessageAffordableCondition,
    ExpiringMessageAvailableCondition,
    MessageAvailableCondition,
)

__all__ = [
    "AsynchronousCondition",
    "AsynchronousEventState",
    "BooleanCondition",
    "CountCondition",
    "DownstreamMessageAffordableCondition",
    "ExpiringMessageAvailableCondition",
    "MessageAvailableCondition",
    "PeriodicCondition",
    "PeriodicConditionPolicy",
]
