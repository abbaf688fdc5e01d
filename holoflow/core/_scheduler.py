"""The ``Scheduler`` base class: a component that runs a fragment's graph."""

from __future__ import annotations

from typing import TYPE_CHECKING

from holoflow.core._component import Component
from holoflow.core._gc_policy import DEFAULT_GC_POLICY

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment

__all__ = ["Scheduler"]


class Scheduler(Component):
    """Base class of schedulers; pass one to ``fragment.scheduler(...)``.

    A scheduler runs the graph until no operator can run again, a stop is requested, the
    maximum duration passes or an operator raises. Subclasses implement :meth:`run_graph`.
    """

    _kind = "scheduler"
    _default_name = "scheduler"
    gc_policy: str = DEFAULT_GC_POLICY
    """What the run does to Python's garbage collector (holoflow's; Holoscan has no such
    setting): ``"freeze"`` freezes the objects alive once every operator has started, so that
    no collection traverses them while the graph runs; ``"none"`` leaves the collector alone.
    A subclass passes it to ``GraphRun.execute``."""

    def run_graph(self, fragment: Fragment) -> None:
        """Run ``fragment``'s composed graph to the end; raise what an operator raised."""
        raise NotImplementedError(f"{type(self).__name__} must implement run_graph(fragment)")

    def request_stop(self) -> None:
        """Ask the run in progress to stop soon (safe from any thread). Default: nothing."""
