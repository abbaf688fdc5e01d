"""The sample apps' recordings: generated from the synthetic scenes on first use, then cached.

Each app replays a GXF recording (``.gxf_index`` + ``.gxf_entities``: one unnamed uint8 HxWx3
tensor per frame at 30 fps, stored as a device tensor, as in Holoscan's sample data) made by a
seeded synthetic scene (:mod:`holoflow.apps.synthetic`), with its ground truth in
``<basename>_truth.npz``. Generating both takes a few seconds, so the recordings are not shipped:
:func:`ensure` writes them into the data folder on first use, with a progress bar, and reuses
them afterwards (a ``<basename>.json`` stamp records the seed, frame count and generator
version; a stale or partial copy is regenerated).

The data folder is, in order: the ``directory`` argument, ``$HOLOFLOW_DATA``, or
``$XDG_CACHE_HOME/holoflow/sample_data`` (``~/.cache/holoflow/sample_data``).
"""

from holoflow.apps._recordings import (
    ENDOSCOPY,
    FRAME_RATE,
    RECORDINGS,
    ULTRASOUND,
    SampleRecording,
    data_directory,
    ensure,
    ground_truth,
)

__all__ = [
    "ENDOSCOPY",
    "FRAME_RATE",
    "RECORDINGS",
    "ULTRASOUND",
    "SampleRecording",
    "data_directory",
    "ensure",
    "ground_truth",
]
