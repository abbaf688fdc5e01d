"""The models the sample apps ship, and which file each inference backend loads."""

from __future__ import annotations

from pathlib import Path

from holoflow.errors import ConfigError

__all__ = ["MODELS", "model_path"]

MODELS = Path(__file__).resolve().parent / "models"
"""The folder of the shipped models (``<name>.onnx``, ``<name>.pt`` + ``<name>.yaml``, ``scores.json``)."""

_SUFFIX = {"onnxrt": ".onnx", "trt": ".onnx", "torch": ".pt"}


def model_path(name: str, backend: str, folder: Path = MODELS) -> Path:
    """The file of model ``name`` for ``backend``: ONNX for ``onnxrt`` and ``trt`` (TensorRT builds
    and caches its engine from it), TorchScript for ``torch``.

    Raises
    ------
    holoflow.errors.ConfigError
        For an unknown backend or a missing model file.
    """
    if backend not in _SUFFIX:
        raise ConfigError(f"unknown inference backend {backend!r}; use one of {sorted(_SUFFIX)}")
    path = folder / f"{name}{_SUFFIX[backend]}"
    if not path.is_file():
        raise ConfigError(f"model file not found: {path}")
    return path
