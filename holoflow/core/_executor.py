"""``Executor``: what runs a fragment's graph. holoflow's runs its graph natively, in Python."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment

__all__ = ["Executor"]


class Executor:
    """The executor of a fragment (``fragment.executor``): runs its graph under its scheduler.

    Holoscan's executor builds a GXF context from the graph; holoflow's runs the graph itself,
    so there is no GXF context (:attr:`context` is ``None``, :attr:`context_uint64` is 0).

    Parameters
    ----------
    fragment : Fragment
        The fragment (or application) the executor runs.
    """

    def __init__(self, fragment: Fragment) -> None:
        from holoflow.core._fragment import Fragment

        if not isinstance(fragment, Fragment):
            raise TypeError(f"Executor() takes a Fragment or Application, not {type(fragment).__name__}")
        self._fragment = fragment

    @property
    def fragment(self) -> Fragment:
        """The fragment this executor runs."""
        return self._fragment

    def run(self) -> None:
        """Compose (once) and run the fragment's graph to the end (``fragment.run()``)."""
        self._fragment.run()

    def interrupt(self) -> None:
        """Ask the run in progress to stop soon; safe from any thread (``stop_execution()``)."""
        self._fragment.stop_execution()

    @property
    def context(self) -> None:
        """The GXF context: none, holoflow runs graphs without GXF."""
        return None

    @property
    def context_uint64(self) -> int:
        """The GXF context as an integer: 0, holoflow runs graphs without GXF."""
        return 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._fragment!r}>"
