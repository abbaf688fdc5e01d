"""The inference backend contract and the loader that finds backends by file name.

A backend wraps one model: :attr:`Backend.inputs` / :attr:`Backend.outputs` describe its tensors
in the model's order, and :meth:`Backend.infer` runs it on arrays (host or CUDA, as the backend
supports) and returns the outputs in that order. Backends live in ``backends/<name>.py`` and
are imported only when a model asks for them, so an unused framework is never imported.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from holoflow.errors import ConfigError

__all__ = ["Backend", "TensorSpec", "load_backend"]

BACKENDS = ("onnxrt", "torch", "trt")


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output."""

    name: str
    """Name in the model."""
    shape: tuple[int, ...]
    """Dimensions; -1 marks a dynamic one."""
    dtype: np.dtype
    """Element type."""


class Backend:
    """Base class of inference backends.

    Parameters
    ----------
    model_path : str
        The model file.
    device : {"cpu", "cuda"}
        Where the model runs; ``"cuda"`` accepts CUDA arrays as inputs and returns CUDA arrays.
    enable_fp16 : bool
        Allow half precision where the backend supports it.
    """

    name = "backend"

    def __init__(self, model_path: str, *, device: str = "cpu", enable_fp16: bool = False) -> None:
        self.model_path = model_path
        self.device = device
        self.enable_fp16 = enable_fp16
        self.inputs: list[TensorSpec] = []
        self.outputs: list[TensorSpec] = []

    def infer(self, inputs: list[Any], stream: int | None = None) -> list[Any]:
        """Run the model on ``inputs`` (model order); return the outputs (model order).

        ``stream`` is the CUDA stream the work is ordered on (inputs are ready on it, and the
        outputs must be ready on it); ``None`` for host-only runs.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement infer(inputs)")


def load_backend(name: str, model_path: str, **options: Any) -> Backend:
    """Import ``holoflow.inference.backends.<name>`` and build its backend for ``model_path``.

    Raises
    ------
    holoflow.errors.ConfigError
        For an unknown backend name or an unreadable model.
    ImportError
        If the backend's framework is not installed (the message names the extra).
    """
    if name not in BACKENDS:
        raise ConfigError(f"unknown inference backend {name!r}; use one of {list(BACKENDS)}")
    module = importlib.import_module(f"holoflow.inference.backends.{name}")
    backend: Backend = module.create(model_path, **options)
    return backend
