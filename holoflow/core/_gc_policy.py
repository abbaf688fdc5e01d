"""What a run does to Python's cyclic garbage collector (a scheduler's ``gc_policy``).

Design
======
A pipeline's start-up leaves tens of thousands of long-lived objects behind (modules, models,
operators, OpenGL wrappers). Python's full (generation-2) collection traverses all of them: on
the sample apps that is 11-15 ms, half a frame, paid at a moment nobody chooses. Everything a
pipeline allocates per frame dies young, so the collector's young generations keep up with it
and a full collection is the only pause that matters.

Under ``"freeze"`` the run calls ``gc.freeze()`` once every operator's ``start`` returned:
every object tracked by the collector at that point moves to the permanent generation, which no
collection traverses. Young collections keep running as usual, and a full collection only sees
what the pipeline created since. When the last freezing run ends, ``gc.unfreeze()`` puts the
objects back, so what the run leaves behind can be collected again. Freezing
and unfreezing move whole lists, whatever the heap's size; there is no collection before the
freeze (it would cost a full pass over the heap on every run), so garbage that start-up left in
reference cycles waits for the end of the run.

``"none"`` leaves the collector alone. A program that disabled the collector (``gc.disable()``)
or froze objects itself manages it itself: ``"freeze"`` then does nothing either. Python can
only unfreeze everything at once, so freezing on top of the program's freeze could never be
undone: every object alive at any run's start would stay out of the collector's reach for the
rest of the process.

"Froze objects itself" means: more objects are frozen, while no run holds a freeze, than were
when holoflow was imported. The objects frozen at import are the interpreter's own: CPython 3.12
moves the immortal objects a collection finds (a few hundred tuples of its built-in code) to the
permanent generation, from start-up on and again at the first collection after a
``gc.unfreeze()``. Counting them as the program's would turn the policy off on 3.12. A program
that froze objects before importing holoflow gets them unfrozen at the end of the first freezing
run: they are then collected as usual, as on any run with the policy off.

The collector is per process and runs can overlap (``run_async``, several applications), so the
freezes are counted: each freezing run freezes when it starts (taking in what the runs before it
created), and the unfreeze waits for the last of them.
"""

from __future__ import annotations

import gc
import threading

from holoflow.errors import ConfigError

__all__ = ["DEFAULT_GC_POLICY", "GC_POLICIES", "GCFreeze", "check_gc_policy"]

GC_POLICIES = ("freeze", "none")
"""The garbage-collection policies a scheduler takes (see the module docstring)."""

DEFAULT_GC_POLICY = "freeze"
"""The policy of every holoflow scheduler unless told otherwise."""

_lock = threading.Lock()
_holders = 0
_INTERPRETER_FROZEN = gc.get_freeze_count()


def check_gc_policy(policy: object, owner: str) -> str:
    """``policy`` if it is one of :data:`GC_POLICIES`.

    Raises
    ------
    holoflow.errors.ConfigError
        Naming ``owner`` and the policies, for anything else.
    """
    if not isinstance(policy, str) or policy not in GC_POLICIES:
        raise ConfigError(f"{owner}: gc_policy must be one of {', '.join(GC_POLICIES)}, got {policy!r}")
    return policy


class GCFreeze:
    """One run's share of the freeze: :meth:`begin` once every operator started, :meth:`end`
    after the run (also when it failed). Both do nothing unless ``policy`` is ``"freeze"``."""

    __slots__ = ("_held", "policy")

    def __init__(self, policy: str) -> None:
        self.policy = policy
        self._held = False

    def begin(self) -> None:
        """Freeze every object the collector tracks now (the start-up objects), unless the
        program manages the collector itself (see the module docstring)."""
        global _holders
        if self.policy != "freeze" or self._held or not gc.isenabled():
            return
        with _lock:
            if _holders == 0 and gc.get_freeze_count() > _INTERPRETER_FROZEN:
                return  # the program's own freeze: ours could not be undone without undoing it
            _holders += 1
            self._held = True
            gc.freeze()

    def end(self) -> None:
        """Let go of this run's share; the last run out unfreezes (see the module docstring)."""
        global _holders
        if not self._held:
            return
        self._held = False
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.unfreeze()
