"""Ending a run of several fragments: every fragment passive and nothing in flight, seen twice.

A fragment whose own stop rule would end it (nothing ready, running, timed or awaiting an event)
only becomes *passive* while it has edges: a message may still come. It reports its state —
passive or not, with an epoch that grows each time it becomes passive, and its per-edge counts
of messages sent and received — to a :class:`Coordinator`. A fragment whose run ended counts as
passive for good. The coordinator declares the run over when every fragment is passive and
every edge has ``sent == received`` in two consecutive looks with the same epochs (the second
look is the probe of Mattern's four-counter method: a fragment that woke in between has a new
epoch or is active, so the decision is never taken on a stale picture).

This module is pure: no threads, no clocks. The caller serialises calls and decides how a
report travels (a direct call in one process, a control message between processes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Coordinator", "FragmentState"]


@dataclass(frozen=True)
class FragmentState:
    """What one fragment last reported."""

    passive: bool = False
    epoch: int = 0
    finished: bool = False
    sent: Mapping[int, int] = field(default_factory=dict)
    """Messages sent, by edge id (only edges this fragment sends on)."""
    received: Mapping[int, int] = field(default_factory=dict)
    """Messages received, by edge id (only edges this fragment receives on)."""

    @property
    def quiet(self) -> bool:
        """Passive, or finished."""
        return self.passive or self.finished


class Coordinator:
    """Decides, from the fragments' reports, when a run of several fragments is over.

    Parameters
    ----------
    fragments : iterable of str
        Every fragment of the run; each starts active.
    """

    def __init__(self, fragments: list[str]) -> None:
        self._states = {name: FragmentState() for name in fragments}
        self._candidate: dict[str, FragmentState] | None = None

    def report(self, fragment: str, state: FragmentState) -> None:
        """Record ``fragment``'s new state (a finished fragment stays finished).

        Raises
        ------
        KeyError
            If ``fragment`` is not part of the run.
        """
        old = self._states[fragment]
        if old.finished and not state.finished:
            state = FragmentState(True, old.epoch, True, state.sent, state.received)
        self._states[fragment] = state

    def state(self, fragment: str) -> FragmentState:
        """``fragment``'s last reported state."""
        return self._states[fragment]

    def balanced(self) -> bool:
        """Whether every edge's sent count equals its received count in the reports, leaving
        out the edges into finished fragments (what still travels to them wakes nothing)."""
        sent: dict[int, int] = {}
        received: dict[int, int] = {}
        into_finished: set[int] = set()
        for state in self._states.values():
            for edge, count in state.sent.items():
                sent[edge] = sent.get(edge, 0) + count
            for edge, count in state.received.items():
                received[edge] = received.get(edge, 0) + count
            if state.finished:
                into_finished.update(state.received)
        return all(
            sent.get(edge, 0) == received.get(edge, 0) for edge in (set(sent) | set(received)) - into_finished
        )

    def first_wave(self) -> bool:
        """Look once: whether every fragment is quiet and every edge balanced. When so, the
        picture is kept for :meth:`second_wave` (the probe); otherwise it is dropped."""
        if all(s.quiet for s in self._states.values()) and self.balanced():
            self._candidate = dict(self._states)
            return True
        self._candidate = None
        return False

    def second_wave(self) -> bool:
        """Look again: whether the run is over — the reports now equal the kept picture (same
        epochs and counts, all still quiet). Drops the picture either way."""
        candidate, self._candidate = self._candidate, None
        return candidate is not None and candidate == self._states

    def all_finished(self) -> bool:
        """Whether every fragment's run has ended."""
        return all(s.finished for s in self._states.values())
