"""Receiving arrays on their device: the scope behind ``InputContext.receive_array``.

A GPU operator must get one sequence right on every frame: take the tensor it was sent, make its
own CUDA stream wait (on the device) for the work the producer queued, run its kernels on that
stream, and let the outputs carry that stream. :class:`ArrayScope` does the first three steps
and hands back the array namespace to compute with; the outputs are stamped with the operator's
stream when they are emitted. On the host the scope is plain numpy and touches no CUDA library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.errors import TensorError
from holoflow.tensor import Tensor, as_tensor, cupy_module, device_view, external_stream, is_tensor_like

if TYPE_CHECKING:
    from holoflow.core._streams import OperatorStreams

__all__ = ["ArrayScope", "select_tensor"]


def select_tensor(label: str, port: str, message: Any, name: str) -> Tensor:
    """The tensor called ``name`` in ``message`` (a dict/TensorMap, or a bare array for ``""``).

    Raises
    ------
    holoflow.errors.TensorError
        If nothing arrived, the name is missing (listing the names present), or the value is
        not an array.
    """
    if message is None:
        raise TensorError(f"{label}: no message on port '{port}'")
    if isinstance(message, dict):
        if name not in message:
            present = sorted(k for k, v in message.items() if is_tensor_like(v))
            raise TensorError(f"{label}: port '{port}' has no tensor '{name}'; tensors received: {present}")
        value = message[name]
    elif name == "" and is_tensor_like(message):
        value = message
    else:
        raise TensorError(f"{label}: port '{port}' expected a dict of tensors, got {type(message).__name__}")
    if not is_tensor_like(value):
        raise TensorError(f"{label}: '{name}' on port '{port}' is a {type(value).__name__}, not an array")
    return as_tensor(value)


class ArrayScope:
    """Tensors received on one port, opened as arrays of their device for a ``with`` block.

    ``with scope as (xp, array)`` yields ``numpy`` and a numpy view for host tensors. For CUDA
    tensors it makes the operator's stream wait for the producers' events, makes that stream
    CuPy's current stream for the block, and yields ``cupy`` and a CuPy view that does not
    synchronize the host. ``array`` is one array, or a tuple when several names were asked for.
    :attr:`message` is what the port delivered (for metadata and other entries).
    """

    __slots__ = ("_port", "_single", "_stream", "_streams", "_tensors", "message")

    def __init__(
        self,
        streams: OperatorStreams,
        label: str,
        port: str,
        message: Any,
        names: Sequence[str],
        single: bool,
    ) -> None:
        self.message = message
        self._streams = streams
        self._port = port
        self._single = single
        self._tensors = [select_tensor(label, port, message, name) for name in names]
        self._stream: Any = None
        on_cuda = [t.is_cuda for t in self._tensors]
        if any(on_cuda) and not all(on_cuda):
            where = {name: "CUDA" if cuda else "host" for name, cuda in zip(names, on_cuda, strict=True)}
            raise TensorError(
                f"{label}: port '{port}' delivered tensors in both host and CUDA memory {where}; "
                "send them all on one device"
            )

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The selected tensors, in the order asked for: their shape, dtype and device can be
        checked before the block opens them (no device work happens until then)."""
        return tuple(self._tensors)

    @property
    def is_cuda(self) -> bool:
        """Whether the tensors are in CUDA memory."""
        return bool(self._tensors) and self._tensors[0].is_cuda

    def __enter__(self) -> tuple[Any, Any]:
        tensors = self._tensors
        if self.is_cuda:
            xp = cupy_module()
            arrays = [device_view(t) for t in tensors]  # views only: no work on any stream
            stream = external_stream(self._streams.synchronize(self._port, True))
            stream.__enter__()
            self._stream = stream
        else:
            xp = np
            arrays = [np.asarray(t) for t in tensors]
        return xp, arrays[0] if self._single else tuple(arrays)

    def __exit__(self, *exc_info: object) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.__exit__(*exc_info)
