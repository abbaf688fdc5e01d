"""Synthetic, deterministic scenes with ground truth: the sample apps' data and training data."""

from holoflow.apps._synthetic._endoscopy import TOOL_NAMES, EndoscopyFrame, EndoscopyScene
from holoflow.apps._synthetic._ultrasound import UltrasoundFrame, UltrasoundScene

__all__ = ["TOOL_NAMES", "EndoscopyFrame", "EndoscopyScene", "UltrasoundFrame", "UltrasoundScene"]
