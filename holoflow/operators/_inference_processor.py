"""``InferenceProcessorOp``: named post-processing operations on inference outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.core import IOSpec, Operator, OperatorSpec
from holoflow.errors import ConfigError, TensorError
from holoflow.tensor import as_tensor, is_tensor_like

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, InputContext, OutputContext

__all__ = ["PROCESS_OPERATIONS", "InferenceProcessorOp"]


def _max_per_channel_scaled(x: np.ndarray) -> np.ndarray:
    """For a (1, C, H, W) or (C, H, W) map: per channel (row, col, value) of the maximum, the
    coordinates scaled to [0, 1] — tool-tip locations from heat maps."""
    maps = x.reshape(-1, *x.shape[-2:])
    flat = maps.reshape(len(maps), -1)
    index = flat.argmax(axis=1)
    rows, cols = np.unravel_index(index, maps.shape[1:])
    h, w = maps.shape[1:]
    scaled: np.ndarray = np.stack(
        [rows / max(h - 1, 1), cols / max(w - 1, 1), flat[np.arange(len(maps)), index]], axis=1
    ).astype(np.float32)
    return scaled


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    result: np.ndarray = (shifted / shifted.sum(axis=-1, keepdims=True)).astype(np.float32)
    return result


PROCESS_OPERATIONS: dict[str, Any] = {
    "max_per_channel_scaled": _max_per_channel_scaled,
    "sigmoid": lambda x: (1.0 / (1.0 + np.exp(-x))).astype(np.float32),
    "softmax": _softmax,
    "argmax": lambda x: np.argmax(x, axis=-1).astype(np.int32),
    "scale_intensity": lambda x: ((x - x.min()) / max(float(x.max() - x.min()), 1e-12)).astype(np.float32),
    "print": lambda x: (print(np.array2string(np.asarray(x), precision=4)), x)[1],
}


class InferenceProcessorOp(Operator):
    """Apply ``process_operations`` (``{tensor: [operation, ...]}``) to tensors on ``receivers``
    and emit the results under the names in ``processed_map`` (``{tensor: [output, ...]}``, one
    name per operation, default the tensor's name) on ``transmitter``.

    Operations (on the host): max_per_channel_scaled, sigmoid, softmax (last axis), argmax
    (last axis), scale_intensity (to [0, 1]), print. Several operations on one tensor run in
    order, each on the previous result.
    """

    process_operations: dict[str, list[str]]
    processed_map: dict[str, Any]
    in_tensor_names: list[str]
    disable_transmitter: bool

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("receivers", size=IOSpec.ANY_SIZE)
        spec.output("transmitter")
        spec.param("process_operations", {})
        spec.param("processed_map", {})
        spec.param("in_tensor_names", [])
        spec.param("out_tensor_names", [])
        spec.param("input_on_cuda", False)
        spec.param("output_on_cuda", False)
        spec.param("transmit_on_cuda", False)
        spec.param("disable_transmitter", False)

    def initialize(self) -> None:
        for tensor, operations in self.process_operations.items():
            for operation in [operations] if isinstance(operations, str) else operations:
                if operation not in PROCESS_OPERATIONS:
                    raise ConfigError(
                        f"{self._label()}: unknown operation '{operation}' for tensor '{tensor}'; "
                        f"available: {sorted(PROCESS_OPERATIONS)}"
                    )

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        found: dict[str, Any] = {}
        for message in op_input.receive("receivers"):
            if isinstance(message, dict):
                for key, value in message.items():
                    if is_tensor_like(value):
                        found.setdefault(key, value)
        results: dict[str, Any] = {}
        for tensor, operations in self.process_operations.items():
            if tensor not in found:
                raise TensorError(
                    f"{self._label()}: no tensor '{tensor}' on 'receivers'; tensors received: {sorted(found)}"
                )
            value = as_tensor(found[tensor])
            array = np.asarray(value) if not value.is_cuda else value.owner.get()
            names = self.processed_map.get(tensor, [tensor])
            names = [names] if isinstance(names, str) else list(names)
            operations = [operations] if isinstance(operations, str) else list(operations)
            for index, operation in enumerate(operations):
                array = PROCESS_OPERATIONS[operation](array)
                results[names[min(index, len(names) - 1)]] = array
        if not self.disable_transmitter:
            op_output.emit(results, "transmitter")
