"""Synthetic, deterministic scenes with ground truth: the sample apps' data and training data."""

from holoflow.apps.synthetic._endoscopy import TOOL_NAMES, EndoscopyFrame, EndoscopyScene
from holoflow.apps.synthetic._ultrasound import UltrasoundFrame, UltrasoundScene

__all__ = [
    "TOOL_NAMES",
    "EndoscopyFrame",
    "EndoscopyScene",
    "UltrasoundFrame",
    "UltrasoundScene",
]
