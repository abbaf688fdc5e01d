"""The ultrasound notebook executes, showing the app's graph, then frames inline while the app runs
with run_async."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "notebooks" / "ultrasound.ipynb"


@pytest.mark.slow
def test_ultrasound_notebook_runs(sample_data, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("HOLOFLOW_DATA", str(sample_data))
    monkeypatch.setenv("HOLOFLOW_NOTEBOOK_FRAMES", "15")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "no frame was shown inline"
    graphs = [o["data"]["image/svg+xml"] for o in outputs if "image/svg+xml" in o.get("data", {})]
    if shutil.which("dot"):  # the app's graph, drawn inline (without Graphviz: the app's repr)
        assert len(graphs) == 1 and "<title>segmentation_preprocessor</title>" in graphs[0]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "15 frames in " in text and "15 frames, " in text
    assert not [o for o in outputs if o.get("output_type") == "error"]
