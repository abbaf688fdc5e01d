"""Picking a named tensor out of a received message, with errors that say what arrived."""

from __future__ import annotations

from typing import Any

from holoflow.errors import TensorError
from holoflow.tensor import Tensor, as_tensor, is_tensor_like

__all__ = ["select_tensor"]


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
