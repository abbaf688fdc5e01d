"""OR-combined conditions: ``OrConditionCombiner`` and the group the run evaluates for it.

An operator's conditions are ANDed. Two ways make some of them ORed instead, the result being
ANDed with the rest:

* ``spec.or_combine_port_conditions(["in1", "in2"])`` ORs the conditions of those input ports
  (their default ``MessageAvailableCondition`` included), so the operator runs when a message
  waits on any of them;
* an ``OrConditionCombiner(fragment, terms=[...])`` passed to the operator ORs the conditions
  listed in ``terms``.

The run turns each into an :class:`OrGroup`, one condition whose status combines its terms:
NEVER if any term says NEVER (as in Holoscan, where an OR of two ``CountCondition`` objects
ends with the smaller count); else READY if any term is READY; else the least restrictive
wait (WAIT_TIME, then WAIT_EVENT, then WAIT) with the earliest time any term gave.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from holoflow.core._condition import Condition, SchedulingStatusType
from holoflow.core._resource import Resource

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment

__all__ = ["OrConditionCombiner", "OrGroup", "leaf_conditions"]

_READY = SchedulingStatusType.READY
_NEVER = SchedulingStatusType.NEVER
_WAIT_TIME = SchedulingStatusType.WAIT_TIME
_WAIT = SchedulingStatusType.WAIT
# Under OR a term that may turn ready by itself (time, an outside event) makes the group less
# restrictive than one that waits for other operators.
_OR_ORDER = {_WAIT_TIME: 0, SchedulingStatusType.WAIT_EVENT: 1, _WAIT: 2}
_BY_ORDER = [_WAIT_TIME, SchedulingStatusType.WAIT_EVENT, _WAIT]


class OrConditionCombiner(Resource):
    """Combine the conditions in ``terms`` with OR; pass it to the operator they should gate.

    The terms need not be passed to the operator themselves; a term that is, is ORed and not
    also ANDed. Each term belongs to one combiner. Port conditions among the terms watch the
    port they name (``MessageAvailableCondition(app, receiver="in1")``), which then gets no
    default condition.

    Parameters
    ----------
    fragment : Fragment
        Owner fragment.
    terms : list of Condition
        The conditions to OR.
    name : str
        Resource name.

    Raises
    ------
    TypeError
        If a term is not a :class:`~holoflow.core.Condition`.
    """

    _default_name = "or_condition_combiner"

    def __init__(
        self, fragment: Fragment, terms: Iterable[Condition] = (), name: str = "or_condition_combiner"
    ) -> None:
        super().__init__(fragment, name=name)
        self._terms = list(terms)
        for term in self._terms:
            if not isinstance(term, Condition):
                raise TypeError(f"{self._label()}: terms must be conditions, not {type(term).__name__}")

    @property
    def terms(self) -> list[Condition]:
        """The conditions this combiner ORs."""
        return list(self._terms)

    def initialize(self) -> None:
        """Reset and initialize the terms for a new run, like an operator's own conditions
        (those the operator also holds directly are reset by the run already)."""
        for term in self._terms:
            operator = term.operator
            if operator is None or term not in operator.conditions.values():
                term.reset()
                term.initialize()


class OrGroup(Condition):
    """The condition a run evaluates for one OR combination (built by the run, not by users).

    Every term's ``update_state`` and ``check`` are called at each evaluation, and every
    term's ``on_execute`` after each run of the operator.
    """

    _wait_deadline = True  # its WAIT carries a time only when a term gave a deadline

    def __init__(self, fragment: Fragment, terms: Iterable[Condition], name: str) -> None:
        super().__init__(fragment, name=name)
        self.terms = list(terms)
        """The ORed conditions."""
        self._updating = [term for term in self.terms if _overrides(term, "update_state")]
        self._executing = [term for term in self.terms if _overrides(term, "on_execute")]

    def update_state(self, timestamp: int) -> None:
        for term in self._updating:
            term.update_state(timestamp)

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        never = ready = False
        order = len(_BY_ORDER)
        when: int | None = None
        for term in self.terms:
            status, target = term.check(timestamp)
            if status is _READY:
                ready = True
            elif status is _NEVER:
                never = True
            else:
                rank = _OR_ORDER[status]
                if rank < order:
                    order = rank
                timed = status is _WAIT_TIME or (status is _WAIT and term._wait_deadline)
                if timed and target is not None and (when is None or target < when):
                    when = target
        if never:
            return _NEVER, None
        if ready:
            return _READY, None
        return _BY_ORDER[order], when

    def on_execute(self, timestamp: int) -> None:
        for term in self._executing:
            term.on_execute(timestamp)

    def _set_notify(self, callback: Callable[[], None]) -> None:
        super()._set_notify(callback)
        for term in self.terms:
            term._set_notify(callback)


def _overrides(condition: Condition, method: str) -> bool:
    return getattr(type(condition), method) is not getattr(Condition, method)


def leaf_conditions(conditions: Iterable[Condition]) -> list[Condition]:
    """The conditions an operator's readiness depends on, with OR groups replaced by their
    terms (for schedulers that decide by a condition's type how it changes)."""
    leaves: list[Condition] = []
    for condition in conditions:
        if isinstance(condition, OrGroup):
            leaves.extend(leaf_conditions(condition.terms))
        else:
            leaves.append(condition)
    return leaves
