"""Holoscan's ``holoscan.executors``: the executor that turns a graph into a GXF application.

holoflow runs graphs natively in Python, so there is no GXF executor to make: every fragment
has its :class:`~holoflow.core.Executor` (``fragment.executor``), and ``fragment.run()`` runs
the graph. ``GXFExecutor`` imports so that code naming it loads, and explains this when
constructed.
"""

from holoflow.executors._gxf_executor import GXFExecutor

__all__ = ["GXFExecutor"]
