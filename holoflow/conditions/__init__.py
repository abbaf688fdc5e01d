"""Conditions that decide when an operator may run (Holoscan's ``holoscan.conditions``)."""

from holoflow.conditions._asynchronous import AsynchronousCondition, AsynchronousEventState
from holoflow.conditions._boolean import BooleanCondition
from holoflow.conditions._count import CountCondition
from holoflow.conditions._downstream_affordable import DownstreamMessageAffordableCondition
from holoflow.conditions._expiring_message import ExpiringMessageAvailableCondition
from holoflow.conditions._message_available import MessageAvailableCondition
from holoflow.conditions._periodic import PeriodicCondition, PeriodicConditionPolicy

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
