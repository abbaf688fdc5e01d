"""``Message`` and ``io_type_registry``: Holoscan's message wrapper and its table of the C++ types
a port can carry. holoflow passes Python objects between operators as they are, so neither has
work to do; both exist so code that names them ports.
"""

from __future__ import annotations

from typing import Any

__all__ = ["IOTypeRegistry", "Message", "io_type_registry"]


class Message:
    """What Holoscan wraps a value in inside GXF. holoflow sends the emitted object itself, so no
    ``Message`` is ever made, and constructing one raises ``TypeError`` (as in Holoscan, which
    defines no constructor)."""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        raise TypeError(
            "holoflow.core.Message cannot be constructed: a message is the Python object an "
            "operator emits, delivered as it is"
        )


class IOTypeRegistry:
    """The types ports carry. Holoscan registers a codec per C++ type; holoflow ports carry any
    Python object unchanged (a ``dict`` of arrays becomes a ``TensorMap``)."""

    def registered_types(self) -> list[str]:
        """The kinds of value ports carry, by name."""
        return ["object", "holoflow.tensor.Tensor", "holoflow.tensor.TensorMap"]

    def __repr__(self) -> str:
        return "<holoflow io_type_registry: ports carry any Python object>"


io_type_registry = IOTypeRegistry()
"""The registry instance (Holoscan's ``holoscan.core.io_type_registry``)."""
