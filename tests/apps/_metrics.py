"""Quality measures the app tests assert on, and the host view of what the apps emit."""

from __future__ import annotations

from typing import Any

import numpy as np

from holoflow.tensor import to_host


def host(value: Any) -> np.ndarray:
    """``value`` as a numpy array: a copy of a CUDA array (the apps keep tensors on the GPU where
    there is one), else a view of it."""
    if hasattr(value, "__cuda_array_interface__"):
        return to_host(value)
    return np.asarray(value)


def dice(predicted, truth) -> float:
    """Dice coefficient of two boolean masks (1.0 when both are empty)."""
    predicted, truth = np.asarray(predicted, bool), np.asarray(truth, bool)
    total = predicted.sum() + truth.sum()
    return 1.0 if total == 0 else float(2.0 * (predicted & truth).sum() / total)
