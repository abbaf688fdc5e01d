"""Contexts for an operator of a tracked run whose ports a data logger wants: the general
tracked contexts with the logging mixins on top, so loggers see every message (unwrapped) and
the tracker its labels."""

from __future__ import annotations

from holoflow.core._logging_context import LoggedInputs, LoggedOutputs
from holoflow.core._tracked_contexts import TrackedInputContext, TrackedOutputContext

__all__ = ["TrackedLoggingInputContext", "TrackedLoggingOutputContext"]


class TrackedLoggingInputContext(LoggedInputs, TrackedInputContext):
    """A :class:`TrackedInputContext` whose ``receive`` also logs what it returns."""

    __slots__ = ("_by_port", "_logged", "_op_name", "_per_connection")
    _base_receive = TrackedInputContext.receive


class TrackedLoggingOutputContext(LoggedOutputs, TrackedOutputContext):
    """A :class:`TrackedOutputContext` whose ``emit`` also logs what it sends."""

    __slots__ = ("_by_port", "_op_name")
    _base_emit = TrackedOutputContext.emit
