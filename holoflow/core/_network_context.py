"""``NetworkContext``: the base class of what connects the fragments of a distributed application.

holoflow chooses the links between fragments itself, so a run does not use one;
``fragment.network_context(...)`` keeps the one given for code that sets or reads it.
"""

from __future__ import annotations

from holoflow.core._component import Component

__all__ = ["NetworkContext"]


class NetworkContext(Component):
    """Base class of network contexts (Holoscan's ``UcxContext`` derives from it)."""

    _kind = "network_context"
    _default_name = "network_context"
