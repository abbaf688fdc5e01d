"""The sample apps: ultrasound bone segmentation and endoscopy tool tracking.

Each runs with one command, on CPU or GPU, from the models shipped in ``holoflow/apps/models``
and a sample recording generated on first use (:mod:`holoflow.apps.sample_data`)::

    python -m holoflow.apps.ultrasound_segmentation --headless --output ultrasound.mp4
    holoflow run endoscopy_tool_tracking --headless --count 100

Apps are imported only when run (or asked for by :func:`app_class`); :class:`SampleApp` is
their base, with the hooks tools use (:meth:`SampleApp.tap_frames`).
"""

from holoflow.apps._base import SampleApp
from holoflow.apps._options import RunOptions
from holoflow.apps._registry import APPS, app_class, run

__all__ = ["APPS", "RunOptions", "SampleApp", "app_class", "run"]
