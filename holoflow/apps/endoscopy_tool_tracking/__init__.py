"""Endoscopy tool tracking sample app: ``python -m holoflow.apps.endoscopy_tool_tracking``."""

from holoflow.apps.endoscopy_tool_tracking._app import EndoscopyToolTrackingApp, main

__all__ = ["EndoscopyToolTrackingApp", "main"]
