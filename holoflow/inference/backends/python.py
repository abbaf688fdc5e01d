"""Plain-Python models: :class:`FunctionBackend` runs a Python callable as a model.

Like httpx's ``MockTransport``, it stands in for a real framework wherever the model itself is not
the point (tests, examples, a rule-based "model"), and it lets a graph run where no inference
framework is installed. It is built in code and handed to ``InferenceOp`` as a ``backend`` value;
``load_backend`` never finds it by name, so a configuration file cannot name code to import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from holoflow.errors import ConfigError, TensorError
from holoflow.inference._backend import Backend, TensorSpec
from holoflow.tensor import as_tensor, cupy_module, device_view, external_stream, require_cuda, to_host

__all__ = ["FunctionBackend"]


class FunctionBackend(Backend):
    """A model that is a Python callable.

    Parameters
    ----------
    fn : callable
        Called as ``fn(*inputs)`` with the input arrays in model order (numpy arrays for
        ``device="cpu"``, CuPy arrays for ``device="cuda"``); returns one array, or a tuple or
        list of arrays in model order.
    inputs, outputs : sequence of TensorSpec
        The model's inputs and outputs, in order. With ``inputs``, ``InferenceOp`` checks each
        tensor's dtype and shape against them and adds a missing leading batch dimension of 1;
        without, it feeds tensors as they arrive. With ``outputs``, the number of arrays ``fn``
        returns is checked. ``shape`` and ``dtype`` are normalized (a list and ``"float32"`` do).
    device : {"cpu", "cuda"}
        ``"cpu"``: CUDA inputs are copied to the host first (on the operator's stream).
        ``"cuda"``: host inputs are copied to the device, and ``fn`` runs with the operator's
        stream as CuPy's current stream, so its CuPy work is ordered after the producers'.
    name : str, optional
        How errors name the model; default ``fn``'s qualified name.

    Raises
    ------
    holoflow.errors.ConfigError
        If ``fn`` is not callable or ``device`` is neither ``"cpu"`` nor ``"cuda"``.
    """

    name = "python"

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        inputs: Sequence[TensorSpec] = (),
        outputs: Sequence[TensorSpec] = (),
        device: str = "cpu",
        name: str | None = None,
    ) -> None:
        if not callable(fn):
            raise ConfigError(f"FunctionBackend needs a callable, got {type(fn).__name__}")
        if device not in ("cpu", "cuda"):
            raise ConfigError(f"FunctionBackend device must be 'cpu' or 'cuda', got {device!r}")
        label = name or getattr(fn, "__qualname__", None) or type(fn).__name__
        super().__init__(f"<function {label}>", device=device)
        self.fn = fn
        self.inputs = [_normalized(spec) for spec in inputs]
        self.outputs = [_normalized(spec) for spec in outputs]

    def infer(self, inputs: list[Any], stream: int | None = None) -> list[Any]:
        """``fn(*inputs)`` on the backend's device, as a list of outputs.

        Raises
        ------
        holoflow.errors.TensorError
            If ``fn`` returns a different number of arrays than ``outputs`` describes.
        """
        if self.device == "cuda":
            require_cuda("FunctionBackend on CUDA")
            with external_stream(stream or 0):
                result = self.fn(*[_on_device(array) for array in inputs])
        else:
            result = self.fn(*[_on_host(array, stream) for array in inputs])
        outputs = list(result) if isinstance(result, (tuple, list)) else [result]
        if self.outputs and len(outputs) != len(self.outputs):
            raise TensorError(
                f"{self.model_path} returned {len(outputs)} outputs; "
                f"its outputs are {[spec.name for spec in self.outputs]}"
            )
        return outputs


def _normalized(spec: TensorSpec) -> TensorSpec:
    return TensorSpec(str(spec.name), tuple(int(d) for d in spec.shape), np.dtype(spec.dtype))


def _on_host(array: Any, stream: int | None) -> np.ndarray:
    tensor = as_tensor(array)
    if tensor.is_cuda:
        copied: np.ndarray = to_host(tensor, stream or 0)
        return copied
    return np.asarray(tensor)


def _on_device(array: Any) -> Any:
    """A CuPy array of ``array``: a view of CUDA memory, or a copy of host memory queued on the
    current stream."""
    tensor = as_tensor(array)
    if tensor.is_cuda:
        return device_view(tensor)
    return cupy_module().asarray(np.asarray(tensor))
