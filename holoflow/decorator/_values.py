"""Messages to arguments and return values to messages, for operators made by ``create_op``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from holoflow.core import OutputContext, Tensor
from holoflow.errors import GraphError
from holoflow.tensor import cupy_module, is_tensor_like

__all__ = ["as_array", "emit_result", "pick_tensor", "tensor_named"]


def as_array(value: Any) -> Any:
    """A holoflow ``Tensor`` as a numpy array (host memory) or CuPy array (CUDA memory), sharing
    its memory; anything else as it is.

    Raises
    ------
    ImportError
        If the tensor lives in CUDA memory and CuPy is not installed.
    """
    if isinstance(value, Tensor):
        return cupy_module().asarray(value) if value.is_cuda else np.asarray(value)
    return value


def pick_tensor(message: Any, name: str, label: str) -> Any:
    """What an input port mapped to the argument ``name`` passes: for a dict message, its item
    ``name``, else its only tensor, else the dict itself; any other message as it is.

    Raises
    ------
    holoflow.errors.GraphError
        If the dict has no item ``name`` and more than one tensor.
    """
    if not isinstance(message, dict):
        return message
    if name in message:
        return message[name]
    tensors = [value for value in message.values() if isinstance(value, Tensor)]
    if len(tensors) == 1:
        return tensors[0]
    if tensors:
        raise GraphError(
            f"{label}: More than one tensor found in port, but none has name {name} "
            f"(tensors: {sorted(k for k, v in message.items() if isinstance(v, Tensor))})"
        )
    return message


class _MissingTensorError(GraphError, KeyError):
    """A tensor named in an ``Input``'s ``arg_map`` is not in the received dict (a ``KeyError``,
    as in Holoscan, and a ``GraphError``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def tensor_named(message: Any, name: str, label: str) -> Any:
    """Item ``name`` of a dict message (an ``Input`` whose ``arg_map`` is a dict).

    Raises
    ------
    GraphError, KeyError
        If the message is not a dict or has no item ``name`` (one exception, both types).
    """
    if isinstance(message, Mapping) and name in message:
        return message[name]
    held = sorted(message) if isinstance(message, Mapping) else f"a {type(message).__name__}, not a dict"
    raise _MissingTensorError(f"{label}: key with name '{name}' not found in input dict (received: {held})")


def emit_result(result: Any, ports: dict[str, tuple[str, ...]], op_output: OutputContext, label: str) -> None:
    """Emit a function's return value on the operator's output ports, as Holoscan's decorator
    does.

    ``ports`` maps each output port to its tensor names. A tuple returned to several ports is
    spread over them, one element per port in declaration order. Otherwise each port emits: with
    no tensor names, the value (an array wrapped as ``{"": array}``); with one name and an array,
    ``{name: array}``; with names and a dict, the dict of those names.

    Raises
    ------
    holoflow.errors.GraphError
        If a tuple's length differs from the number of ports, a tuple meets a port with several
        tensor names, or a named tensor is missing from the returned dict.
    """
    if isinstance(result, tuple) and len(ports) > 1:
        if any(len(names) > 1 for names in ports.values()):
            raise GraphError(
                f"{label}: the function returned a tuple, which goes one element per output port, "
                "but an output port names several tensors; give each tuple element its own port"
            )
        if len(result) != len(ports):
            raise GraphError(
                f"{label}: The number of output tuple elements and number of tensors must match.\n"
                f"Output tuple length = {len(result)}\n"
                f"Number of output tensors = {len(ports)}"
            )
        for (port, names), element in zip(ports.items(), result, strict=True):
            if is_tensor_like(element):
                element = {names[0] if names else "": element}
            op_output.emit(element, port)
        return
    for port, names in ports.items():
        if not names:
            op_output.emit({"": result} if is_tensor_like(result) else result, port)
        elif len(names) == 1 and is_tensor_like(result):
            op_output.emit({names[0]: result}, port)
        else:
            op_output.emit({name: _returned_tensor(result, name, label) for name in names}, port)


def _returned_tensor(result: Any, name: str, label: str) -> Any:
    if isinstance(result, Mapping) and name in result:
        return result[name]
    returned = f"a dict with keys {sorted(result)}" if isinstance(result, Mapping) else type(result).__name__
    raise GraphError(
        f"{label}: tensor with name '{name}' not found in function output (it returned {returned})"
    )
