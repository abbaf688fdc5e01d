"""The latency tool: run an app under data-flow tracking and write a report (``holoflow latency``).

::

    from holoflow.latency import run_latency

    run = run_latency("ultrasound_segmentation", frames=300, fps=30, warmup=30, end_to_end=True)
    report = run.report("latency-report")  # summary.txt, report.html, PNGs, records.csv/json
    print(report.summary)

:func:`run_latency` runs the app headless and returns its records, one per message and path
(:data:`RECORD_KEYS`); :func:`write_report` turns any such list into the report folder, so a
report can be redrawn from a saved ``records.json``. End-to-end mode stamps a frame id into
each source image (:func:`stamp_frame`) and reads it back from the rendered frames
(:func:`read_stamp`). The plots need matplotlib (``pip install 'holoflow[report]'``), imported
only when a report draws them. See ``docs/latency_tool.md``.
"""

from holoflow.latency._endtoend import FrameStamper, RenderReader
from holoflow.latency._gcwatch import GCWatch
from holoflow.latency._records import END_TO_END, RECORD_KEYS
from holoflow.latency._report import FORMATS, Report, write_report
from holoflow.latency._runner import SCHEDULERS, LatencyRun, run_latency
from holoflow.latency._stamp import MAX_FRAME_ID, read_stamp, stamp_frame
from holoflow.latency._stats import PathStats
from holoflow.latency._target import AppTarget, resolve_app

__all__ = [
    "END_TO_END",
    "FORMATS",
    "MAX_FRAME_ID",
    "RECORD_KEYS",
    "SCHEDULERS",
    "AppTarget",
    "FrameStamper",
    "GCWatch",
    "LatencyRun",
    "PathStats",
    "RenderReader",
    "Report",
    "read_stamp",
    "resolve_app",
    "run_latency",
    "stamp_frame",
    "write_report",
]
