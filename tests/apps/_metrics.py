"""Quality measures the app tests assert on."""

from __future__ import annotations

import numpy as np


def dice(predicted, truth) -> float:
    """Dice coefficient of two boolean masks (1.0 when both are empty)."""
    predicted, truth = np.asarray(predicted, bool), np.asarray(truth, bool)
    total = predicted.sum() + truth.sum()
    return 1.0 if total == 0 else float(2.0 * (predicted & truth).sum() / total)
