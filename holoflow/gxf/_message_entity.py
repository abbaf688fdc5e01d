"""``Entity``: a message of named tensors built inside ``compute``, as ``holoscan.gxf.Entity``.

Holoscan code builds a GXF entity, adds tensors to it and emits it::

    entity = Entity(context)
    entity.add(as_tensor(image), "image")
    op_output.emit(entity, "out")

Receivers then get a dict of tensors by name. Here the entity is a small builder: ``emit``
turns it into a :class:`~holoflow.tensor.TensorMap` of the added tensors (registered in
:data:`~holoflow.tensor.EMITTED_AS_TENSOR_MAP`), so receivers read it exactly as a dict
emitted in its place.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, TypeVar

from holoflow.errors import TensorError
from holoflow.tensor import EMITTED_AS_TENSOR_MAP, Tensor, TensorMap, as_tensor, is_tensor_like

__all__ = ["Entity"]

logger = logging.getLogger("holoflow")

_T = TypeVar("_T")


class Entity:
    """Named tensors to emit as one message.

    Parameters
    ----------
    context : ExecutionContext
        The ``context`` argument of ``compute`` (Holoscan needs it for the GXF context; it is
        only checked here).

    Raises
    ------
    TypeError
        If ``context`` is not an execution context.
    """

    __slots__ = ("_tensors",)

    def __init__(self, context: Any) -> None:
        if not (hasattr(context, "input") and hasattr(context, "output")):
            raise TypeError(
                f"Entity() takes the ExecutionContext passed to compute, not {type(context).__name__}"
            )
        self._tensors: dict[str, Tensor] = {}

    def add(self, obj: _T, name: str = "") -> _T:
        """Add ``obj`` (a Tensor or any array numpy, CuPy, PyTorch or JAX makes) as the tensor
        ``name``, replacing one added under that name before; returns ``obj``.

        Raises
        ------
        holoflow.errors.TensorError
            If ``obj`` is not an array (Holoscan silently drops it; the receiver would then
            miss the key).
        TypeError
            If ``name`` is not a str.
        """
        if not isinstance(name, str):
            raise TypeError(f"Entity.add: name must be a str, not {type(name).__name__}")
        if not is_tensor_like(obj):
            raise TensorError(
                f"Entity.add({name!r}): an entity holds tensors, not {type(obj).__name__} "
                f"(emit a dict to send other values)"
            )
        self._tensors[name] = as_tensor(obj)
        return obj

    def get(self, name: str = "", log_errors: bool = True) -> Tensor | None:
        """The tensor added as ``name``, or ``None`` (logged as an error when ``log_errors``)."""
        tensor = self._tensors.get(name)
        if tensor is None and log_errors:
            logger.error("Entity.get: no tensor named %r; tensors: %s", name, sorted(self._tensors))
        return tensor

    def __contains__(self, name: object) -> bool:
        return name in self._tensors

    def __iter__(self) -> Iterator[str]:
        return iter(self._tensors)

    def __len__(self) -> int:
        return len(self._tensors)

    def __repr__(self) -> str:
        return f"<Entity with tensors {sorted(self._tensors)}>"

    def _tensor_map(self) -> TensorMap:
        return TensorMap(self._tensors)


EMITTED_AS_TENSOR_MAP[Entity] = Entity._tensor_map
