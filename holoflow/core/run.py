"""The run kernel, for scheduler implementations: one run of a graph, its readiness and commit.

A scheduler builds a :class:`GraphRun` from a composed fragment, calls
:meth:`GraphRun.execute` with its loop, and in the loop evaluates operators
(:meth:`GraphRun.evaluate`), runs the ready ones (``op_run.compute``) and commits them
(:meth:`GraphRun.commit`); a :class:`StopRule` says how long an idle loop may sleep and when
the run is over. ``GreedyScheduler`` (``holoflow/core/_greedy.py``) is the shortest complete
example; the design and its invariants are written at the head of ``holoflow/core/_run.py``.
A loop that waits on the caller's thread waits with :func:`wait_interruptibly` (or in slices
of :data:`SIGNAL_CHECK_S`), so Ctrl-C ends it. A scheduler passes its ``gc_policy`` (one of
:data:`GC_POLICIES`, checked by :func:`check_gc_policy`) to :meth:`GraphRun.execute`.
"""

from holoflow.core._application import set_fragment_graph_runner
from holoflow.core._gc_policy import DEFAULT_GC_POLICY, GC_POLICIES, check_gc_policy
from holoflow.core._interruptible import SIGNAL_CHECK_S, wait_interruptibly
from holoflow.core._or_combiner import leaf_conditions
from holoflow.core._queue import QueuePolicy, Receiver, Transmitter
from holoflow.core._run import (
    NEVER,
    READY,
    WAIT,
    WAIT_EVENT,
    WAIT_TIME,
    GraphRun,
    OpRun,
    StopRule,
    annotate,
    earliest,
)

__all__ = [
    "DEFAULT_GC_POLICY",
    "GC_POLICIES",
    "NEVER",
    "READY",
    "SIGNAL_CHECK_S",
    "WAIT",
    "WAIT_EVENT",
    "WAIT_TIME",
    "GraphRun",
    "OpRun",
    "QueuePolicy",
    "Receiver",
    "StopRule",
    "Transmitter",
    "annotate",
    "check_gc_policy",
    "earliest",
    "leaf_conditions",
    "set_fragment_graph_runner",
    "wait_interruptibly",
]
