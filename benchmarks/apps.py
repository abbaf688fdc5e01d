"""Benchmark: the sample apps end to end — frame latency (p50/p99) and fps — against the raw model.

Each app (ultrasound segmentation, endoscopy tool tracking) runs headless on its sample recording
and shipped model, as ``python -m holoflow.apps.NAME --headless`` does, in two modes:

- ``paced``: the replayer plays at the recording's 30 fps (``realtime``), as a live source would;
  the latency is then the time one frame takes through an otherwise idle pipeline.
- ``unpaced``: frames as fast as the graph takes them; the fps is the app's throughput, and the
  latency includes the wait behind the previous frame.

Latency is measured per frame from the replayer's compute (reading the frame) to HolovizOp's
rendered frame arriving at the sink. The reference measured in the same run is the raw model call
(the backend alone on an already converted frame, warmed up, median of three batches), so the
cost of the rest of the app — conversion, post-processing, rendering, scheduling — is visible.

On a CUDA machine run it with the torch backend (TorchScript models; needs torch and CuPy only)::

    python benchmarks/apps.py --backend torch

Usage::

    python benchmarks/apps.py [--backend onnxrt|torch] [--frames 300] [--paced-frames 150] [--name NAME]

Results go to ``benchmarks/results/apps_<name>.{json,txt}`` (name: ``cpu``, or the GPU's model,
e.g. ``h100``).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _results import RESULTS, write_json

from holoflow.apps import RunOptions
from holoflow.apps._models import model_path
from holoflow.apps.endoscopy_tool_tracking import EndoscopyToolTrackingApp
from holoflow.apps.sample_data import ensure
from holoflow.apps.ultrasound_segmentation import UltrasoundSegmentationApp
from holoflow.inference import load_backend
from holoflow.tensor import cuda_available, cupy_module

APPS = {
    "ultrasound_segmentation": (UltrasoundSegmentationApp, "us_unet_256x256_nhwc"),
    "endoscopy_tool_tracking": (EndoscopyToolTrackingApp, "tool_loc_convlstm"),
}


def device_name(backend: str) -> tuple[str, str]:
    """(where the model runs, a short name for the results file)."""
    if backend == "torch" and cuda_available():
        import torch

        gpu = torch.cuda.get_device_name(0)
        match = re.search(r"\b([A-Z]\d{2,4}[A-Za-z]?)\b", gpu)
        return f"cuda ({gpu})", (match[1] if match else "cuda").lower()
    return "cpu", "cpu"


def cpu_name() -> str:
    """The CPU model and the cores this process may use."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            model = next(line.split(":", 1)[1].strip() for line in stream if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} cores"


def run_app(app_class, data: Path, backend: str, frames: int, paced: bool) -> dict:
    app = app_class(
        RunOptions(headless=True, count=frames, data=data, backend=backend, realtime=paced, quiet=True)
    )
    app.run()
    summary = app.summary()
    assert summary is not None and summary.frames == frames, summary
    return {
        "frames": summary.frames,
        "fps": summary.fps,
        "latency_p50_ms": summary.latency_ms["p50"],
        "latency_p99_ms": summary.latency_ms["p99"],
        "latency_mean_ms": summary.latency_ms["mean"],
    }


def raw_model_ms(app_name: str, backend: str, calls: int) -> float:
    """The backend alone on a converted frame (and zero states), as InferenceOp would call it."""
    _, model = APPS[app_name]
    cuda = backend == "torch" and cuda_available()
    runner = load_backend(backend, str(model_path(model, backend)), device="cuda" if cuda else "cpu")
    xp = cupy_module() if cuda else np
    inputs = [xp.zeros(spec.shape, spec.dtype) for spec in runner.inputs]
    inputs[0][...] = 0.5
    sync = cupy_module().cuda.Device().synchronize if cuda else (lambda: None)
    for _ in range(5):
        runner.infer(inputs)
    sync()
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            runner.infer(inputs)
        sync()
        samples.append((time.perf_counter() - start) / calls * 1e3)
    return statistics.median(samples)


def row(label: str, run: dict) -> str:
    return (
        f"  {label:<18} latency p50 {run['latency_p50_ms']:7.1f} ms  p99 {run['latency_p99_ms']:7.1f} ms  "
        f"{run['fps']:6.1f} fps ({run['frames']} frames)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["onnxrt", "torch"], default="onnxrt")
    parser.add_argument("--frames", type=int, default=300, help="frames of the unpaced runs")
    parser.add_argument("--paced-frames", type=int, default=150, help="frames of the paced (30 fps) runs")
    parser.add_argument("--name", help="results name (default: cpu, or the GPU model)")
    parser.add_argument("--data", type=Path, help="sample data folder (default: a temporary one)")
    args = parser.parse_args()
    where, short = device_name(args.backend)
    name = args.name or short
    results = {
        "benchmark": "apps",
        "backend": args.backend,
        "device": where,
        "hardware": cpu_name(),
        "apps": {},
    }
    lines = [
        f"sample apps, headless ({args.backend} on {where}; {cpu_name()}), greedy scheduler",
        "HolovizOp renderer 'auto' (OpenGL through EGL where it can, else software)",
    ]
    with tempfile.TemporaryDirectory() as scratch:
        data = args.data or Path(scratch)
        for app_name, (app_class, _) in APPS.items():
            ensure(app_class.recording, data, stream=None)
            run_app(app_class, data, args.backend, 10, paced=False)  # warm-up: caches, lazy imports
            paced = run_app(app_class, data, args.backend, args.paced_frames, paced=True)
            unpaced = run_app(app_class, data, args.backend, args.frames, paced=False)
            raw = raw_model_ms(app_name, args.backend, 30)
            results["apps"][app_name] = {"paced_30fps": paced, "unpaced": unpaced, "raw_model_ms": raw}
            lines += [
                f"{app_name}:",
                row("paced at 30 fps", paced),
                row("unpaced", unpaced),
                f"  raw model call     {raw:7.1f} ms  (the model's share of a paced frame: "
                f"{raw / paced['latency_p50_ms']:.0%})",
            ]
    text = "\n".join(lines)
    print(text)
    write_json(RESULTS / f"apps_{name}.json", results)
    (RESULTS / f"apps_{name}.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
