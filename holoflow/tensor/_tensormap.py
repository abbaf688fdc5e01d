"""``TensorMap``: what a dict of arrays becomes when it is emitted on a port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from holoflow.tensor._tensor import Tensor, as_tensor, is_tensor_like

__all__ = ["EMITTED_AS_TENSOR_MAP", "TensorMap"]


class TensorMap(dict[str, Any]):
    """A dict whose array values are :class:`~holoflow.Tensor` views of the emitted arrays.

    Emitting ``{"image": frame, "label": "left"}`` delivers a ``TensorMap`` in which
    ``"image"`` is a Tensor sharing ``frame``'s memory and ``"label"`` is the same string.
    ``np.asarray``, ``cupy.asarray``, ``torch.from_dlpack`` and ``jax.dlpack`` read the tensors
    without copying.
    """

    __slots__ = ()

    @classmethod
    def from_dict(cls, values: dict[Any, Any]) -> TensorMap:
        """Wrap every array value with ``as_tensor``; keep other values as they are."""
        return cls(
            {key: as_tensor(value) if is_tensor_like(value) else value for key, value in values.items()}
        )

    def tensors(self) -> dict[str, Tensor]:
        """Only the tensor entries."""
        return {key: value for key, value in self.items() if isinstance(value, Tensor)}

    def __repr__(self) -> str:
        return f"TensorMap({dict.__repr__(self)})"


EMITTED_AS_TENSOR_MAP: dict[type, Callable[[Any], TensorMap]] = {
    dict: TensorMap.from_dict,
    TensorMap: TensorMap.from_dict,
}
"""The message types ``emit`` delivers as a :class:`TensorMap`, by exact type (subclasses are
sent as they are), each with the function that builds the TensorMap from a message: ``dict``
and ``TensorMap``, and what another subsystem registers (``holoflow.gxf.Entity``)."""
