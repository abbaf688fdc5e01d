"""Where fragments run and under which scheduler: Holoscan's rules as pure functions.

:func:`allocate` is Holoscan's greedy fragment allocation (``greedy_fragment_allocation.cpp``)
for the resources holoflow knows (none: every worker fits every fragment). Workers naming
fragments go first, those naming more before those naming fewer, and get all of theirs or none;
each worker naming none gets the alphabetically first fragment still open.

:func:`scheduler_settings` reads the environment variables Holoscan applies to every fragment
of a distributed application (``application.cpp``), and :func:`apply_scheduler_environment`
installs the scheduler they describe.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from holoflow import _env
from holoflow.errors import ConfigError
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler

if TYPE_CHECKING:
    from holoflow.core import Fragment

__all__ = ["Allocation", "SchedulerSettings", "allocate", "apply_scheduler_environment", "scheduler_settings"]

_KINDS = {
    "greedy": GreedyScheduler,
    "multithread": MultiThreadScheduler,
    "multi_thread": MultiThreadScheduler,
    "event_based": EventBasedScheduler,
}


@dataclass(frozen=True)
class Allocation:
    """The result of :func:`allocate`."""

    assigned: Mapping[str, str]
    """Fragment name → worker id."""
    unplaced: Sequence[str]
    """Fragments no worker took yet."""
    spare: Sequence[str] = field(default_factory=tuple)
    """Workers that got nothing (Holoscan: 'does not participate in the schedule')."""
    rejected: Mapping[str, str] = field(default_factory=dict)
    """Worker id → why its targets could not be honoured (an unknown or taken fragment)."""


def allocate(fragments: Sequence[str], workers: Sequence[tuple[str, Sequence[str]]]) -> Allocation:
    """Assign fragments to workers.

    Parameters
    ----------
    fragments : sequence of str
        Every fragment of the application.
    workers : sequence of (worker id, target fragment names)
        In joining order; targets ``["all"]`` ask for every fragment.

    Returns
    -------
    Allocation
    """
    open_ = set(fragments)
    assigned: dict[str, str] = {}
    rejected: dict[str, str] = {}
    spare: list[str] = []
    named = [
        (wid, list(fragments) if list(targets) == ["all"] else list(targets)) for wid, targets in workers
    ]
    order = sorted(
        (w for w in named if w[1]), key=lambda w: -len(set(w[1]))
    )  # stable: joining order among equals
    for wid, targets in order:
        unknown = sorted(set(targets) - set(fragments))
        taken = sorted(set(targets) & set(assigned))
        if unknown:
            rejected[wid] = f"Cannot find fragment: {', '.join(unknown)}"
        elif taken:
            rejected[wid] = f"fragment(s) {', '.join(taken)} already assigned"
        else:
            for name in targets:
                assigned[name] = wid
                open_.discard(name)
    for wid, targets in named:
        if targets:
            continue
        if open_:
            name = min(open_)
            assigned[name] = wid
            open_.discard(name)
        else:
            spare.append(wid)
    unplaced = [name for name in fragments if name in open_]
    return Allocation(assigned, unplaced, tuple(spare), rejected)


@dataclass(frozen=True)
class SchedulerSettings:
    """What the environment says about a distributed application's schedulers."""

    kind: str | None = None
    """``greedy``, ``multi_thread`` or ``event_based``; ``None``: keep the fragment's own."""
    arguments: Mapping[str, Any] = field(default_factory=dict)
    """Scheduler arguments the environment sets."""


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r}: expected an integer") from None


def _bool(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "on"):
        return True
    if lowered in ("0", "false", "off"):
        return False
    raise ConfigError(f"{name}={value!r}: expected true/1/on or false/0/off")


def scheduler_settings() -> SchedulerSettings:
    """Read ``HOLO{FLOW,SCAN}_DISTRIBUTED_APP_SCHEDULER``, ``_STOP_ON_DEADLOCK``,
    ``_STOP_ON_DEADLOCK_TIMEOUT``, ``_MAX_DURATION_MS`` and ``_CHECK_RECESSION_PERIOD_MS``.

    Raises
    ------
    holoflow.errors.ConfigError
        For a scheduler name or value that does not parse (naming the variable).
    """
    kind = _env.distributed_setting("DISTRIBUTED_APP_SCHEDULER")
    if kind is not None and kind.lower() not in _KINDS:
        raise ConfigError(
            f"DISTRIBUTED_APP_SCHEDULER={kind!r}: use one of greedy, multi_thread (multithread) "
            "or event_based"
        )
    arguments: dict[str, Any] = {}
    for variable, argument, parse in (
        ("STOP_ON_DEADLOCK", "stop_on_deadlock", _bool),
        ("STOP_ON_DEADLOCK_TIMEOUT", "stop_on_deadlock_timeout", _int),
        ("MAX_DURATION_MS", "max_duration_ms", _int),
        ("CHECK_RECESSION_PERIOD_MS", "check_recession_period_ms", _int),
    ):
        value = _env.distributed_setting(variable)
        if value is not None:
            arguments[argument] = parse(variable, value)
    return SchedulerSettings(kind.lower() if kind else None, arguments)


def apply_scheduler_environment(fragment: Fragment, cores: int | None = None) -> None:
    """Give ``fragment`` the scheduler the environment names, with the arguments it sets.

    Without ``DISTRIBUTED_APP_SCHEDULER`` the fragment keeps the scheduler it set (else the
    greedy one: in one process the fragments share one interpreter, so more threads per
    fragment buy nothing, unlike Holoscan's event-based default); the other variables then
    override that scheduler's arguments. An event-based or multi-thread scheduler made here
    gets ``min(operators, cores)`` worker threads, as in Holoscan.
    """
    settings = scheduler_settings()
    if settings.kind is None and not settings.arguments:
        return
    current = fragment.scheduler()
    cls = _KINDS[settings.kind] if settings.kind else type(current)
    arguments = dict(settings.arguments)
    if settings.kind is None:
        for name, value in arguments.items():
            setattr(current, name, value)
        return
    if cls is not GreedyScheduler:
        operators = max(len(fragment.graph.get_nodes()), 1)
        arguments.setdefault("worker_thread_number", min(operators, cores or os.cpu_count() or 1))
    if cls is EventBasedScheduler and "check_recession_period_ms" in arguments:
        del arguments["check_recession_period_ms"]
    fragment.scheduler(cls(fragment, **arguments))
