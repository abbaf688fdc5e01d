"""``OperatorStatus``: where an operator is in its run's lifecycle.

A run moves every operator through these states, and ``ExecutionContext.get_operator_status``
reads them from any thread:

* ``NOT_STARTED`` until the run calls ``start`` (``initialize`` runs in this state), and again
  once ``stop`` has returned; an operator outside a run is ``NOT_STARTED`` too;
* ``START_PENDING`` while ``start`` runs, then ``STARTED`` until the first ``compute``;
* each execution: ``TICK_PENDING`` (picked by a scheduler thread, ``compute`` not yet entered),
  ``TICKING`` while ``compute`` runs, ``IDLE`` once what it emitted is delivered;
* ``STOP_PENDING`` while ``stop`` runs.

``GreedyScheduler`` runs what it picks on its own thread at once, so its operators go from
``IDLE`` (or ``STARTED``) straight to ``TICKING``. An operator that is finished for the run (a
condition said NEVER, or ``stop_execution`` was called) keeps the status it had, ``IDLE`` once
it has computed, until the run stops every operator.
"""

from __future__ import annotations

import enum

__all__ = ["OperatorStatus"]


class OperatorStatus(enum.Enum):
    """The lifecycle state of an operator (GXF's entity status, as Holoscan names it)."""

    NOT_STARTED = 0
    """Not in a run, or its run has not called ``start`` yet (or has called ``stop``)."""
    START_PENDING = 1
    """Its ``start`` is running."""
    STARTED = 2
    """Started; ``compute`` has not run yet."""
    TICK_PENDING = 3
    """Chosen to run; ``compute`` is about to be called."""
    TICKING = 4
    """Its ``compute`` is running."""
    IDLE = 5
    """Between two ``compute`` calls (or after its last one)."""
    STOP_PENDING = 6
    """Its ``stop`` is running."""

    def __int__(self) -> int:
        return self.value
