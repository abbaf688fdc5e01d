"""Ultrasound bone segmentation sample app: ``python -m holoflow.apps.ultrasound_segmentation``."""

from holoflow.apps.ultrasound_segmentation._app import UltrasoundSegmentationApp, main

__all__ = ["UltrasoundSegmentationApp", "main"]
