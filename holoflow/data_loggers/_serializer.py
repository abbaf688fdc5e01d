"""``SimpleTextSerializer``: short, readable text for messages, tensors and metadata."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.core import Resource
from holoflow.errors import TensorError
from holoflow.tensor import DLDeviceType, Tensor, TensorMap, as_tensor, is_tensor_like

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from holoflow.core import Fragment, Subgraph

__all__ = ["SimpleTextSerializer"]


class SimpleTextSerializer(Resource):
    """Turns what a data logger sees into one line of text.

    Tensors (and bare arrays) are summarised as shape, dtype, device, size and bytes; their
    values are added only when asked (``log_data_content``), at most ``max_elements`` of them,
    and never for device memory (no copy to the host is made). Other objects are written as
    ``Python(<type>): <repr>``, sequences cut after ``max_elements`` items.

    Parameters
    ----------
    fragment : Fragment or Subgraph
        Owner.
    max_elements : int
        Most sequence items or tensor values written (default 10).
    max_metadata_items : int
        Most metadata entries written (default 10).
    log_video_buffer_content : bool
        Accepted for Holoscan compatibility (holoflow has no video buffer type).
    log_python_object_contents : bool
        Write each object's ``repr`` (default ``True``); else only its type.
    name : str
        The serializer's name.
    """

    _default_name = "simple_text_serializer"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        max_elements: int = 10,
        max_metadata_items: int = 10,
        log_video_buffer_content: bool = False,
        log_python_object_contents: bool = True,
        name: str = "simple_text_serializer",
    ) -> None:
        super().__init__(
            fragment,
            max_elements=max_elements,
            max_metadata_items=max_metadata_items,
            log_video_buffer_content=log_video_buffer_content,
            log_python_object_contents=log_python_object_contents,
            name=name,
        )

    def setup(self, spec: Any) -> None:
        spec.param("max_elements", 10)
        spec.param("max_metadata_items", 10)
        spec.param("log_video_buffer_content", False)
        spec.param("log_python_object_contents", True)

    def serialize_to_string(self, data: Any) -> str:
        """Text for any message: a TensorMap, a tensor or array (summarised), or an object."""
        if type(data) is TensorMap:
            return self.serialize_tensormap_to_string(data, False)
        if isinstance(data, Tensor):
            return self.serialize_tensor_to_string(data, False)
        return self._value(data, False)

    def serialize_tensor_to_string(self, tensor: Any, log_data_content: bool = False) -> str:
        """``Tensor(shape=[...], dtype=..., device=kDLCPU:0, size=..., nbytes=...)``, plus
        ``data=[...]`` with ``log_data_content`` for host memory."""
        if not isinstance(tensor, Tensor):
            tensor = as_tensor(tensor)
        device = tensor.device
        try:
            device_name = "k" + DLDeviceType(device.device_type).name
        except ValueError:
            device_name = str(device.device_type)
        text = (
            f"Tensor(shape={list(tensor.shape)}, dtype={tensor.dtype}, "
            f"device={device_name}:{device.device_id}, size={tensor.size}, nbytes={tensor.nbytes}, "
            f"C-contiguous={str(tensor.is_contiguous()).lower()}"
        )
        if log_data_content:
            if tensor.is_cuda:
                text += ", data=<device memory, not copied>"
            else:
                flat = np.asarray(tensor).reshape(-1)
                text += ", data=" + self._items(flat[: self._max() + 1].tolist(), tensor.size)
        return text + ")"

    def serialize_tensormap_to_string(
        self, tensor_map: Mapping[str, Any], log_data_content: bool = False
    ) -> str:
        """``TensorMap(size=N) {'name': Tensor(...), ...}`` (non-tensor entries as objects)."""
        parts = [f"{key!r}: {self._value(value, log_data_content)}" for key, value in tensor_map.items()]
        return f"TensorMap(size={len(tensor_map)}) {{{', '.join(parts)}}}"

    def serialize_metadata_to_string(self, metadata: Mapping[str, Any]) -> str:
        """``MetadataDictionary(size=N) {'key': Python(int): 3, ...}``, cut after
        ``max_metadata_items`` entries."""
        limit = int(self.max_metadata_items)  # type: ignore[attr-defined]
        items = list(metadata.items())
        parts = [f"{key!r}: {self._value(value, False)}" for key, value in items[:limit]]
        if len(items) > limit:
            parts.append(f"... ({len(items) - limit} more)")
        return f"MetadataDictionary(size={len(items)}) {{{', '.join(parts)}}}"

    def _value(self, value: Any, log_data_content: bool) -> str:
        if isinstance(value, Tensor) or is_tensor_like(value):
            try:
                return self.serialize_tensor_to_string(value, log_data_content)
            except (TypeError, TensorError):  # an array no Tensor can describe (object dtype)
                pass
        name = type(value).__name__
        if not self.log_python_object_contents:  # type: ignore[attr-defined]
            return f"Python({name})"
        if isinstance(value, (list, tuple)):
            return f"Python({name}): " + self._items(value, len(value))
        return f"Python({name}): {value!r}"

    def _items(self, values: Iterable[Any], total: int) -> str:
        limit = self._max()
        shown = [repr(v) for _, v in zip(range(limit), values, strict=False)]
        if total > limit:
            shown.append(f"... ({total - limit} more)")
        return "[" + ", ".join(shown) + "]"

    def _max(self) -> int:
        return max(0, int(self.max_elements))  # type: ignore[attr-defined]
