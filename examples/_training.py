"""Shared helpers of the sample apps' training scripts (PyTorch): seeding, export, score files.

The training scripts write into ``holoflow/apps/models/``: ``<name>.onnx`` (ONNX Runtime),
``<name>.pt`` (TorchScript, for the torch backend), ``<name>.yaml`` (the TorchScript model's
tensor names, shapes and dtypes, as Holoscan's torch backend expects) and their entry in
``scores.json`` (validation scores of the exported ONNX model on held-out scenes).
"""

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import yaml

MODELS = Path(__file__).resolve().parents[1] / "holoflow" / "apps" / "models"


def arguments(description, steps):
    """The training scripts' flags: --steps, --threads, --models (output folder), --quick."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--steps", type=int, default=steps, help=f"optimizer steps ({steps})")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (2)")
    parser.add_argument("--models", type=Path, default=MODELS, help="output folder (holoflow/apps/models)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: few scenes, short validation")
    return parser.parse_args()


def torch_setup(threads):
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(threads)
    return torch


def export(model, example_inputs, name, input_names, output_names, folder=MODELS):
    """Write ``<name>.onnx``, ``<name>.pt`` and ``<name>.yaml`` for ``model`` (in eval mode)."""
    import torch

    model.eval()
    folder.mkdir(parents=True, exist_ok=True)
    onnx_path, script_path = folder / f"{name}.onnx", folder / f"{name}.pt"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            example_inputs,
            str(onnx_path),
            dynamo=False,
            opset_version=17,
            input_names=input_names,
            output_names=output_names,
        )
        traced = torch.jit.trace(model, example_inputs)
        outputs = traced(*example_inputs)
    traced.save(str(script_path))
    outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)

    def spec(names, tensors):
        pairs = zip(names, tensors, strict=True)
        return [{"name": n, "shape": list(t.shape), "dtype": "float32"} for n, t in pairs]

    io_spec = {"inputs": spec(input_names, example_inputs), "outputs": spec(output_names, outputs)}
    with open(folder / f"{name}.yaml", "w", encoding="utf-8") as stream:
        yaml.safe_dump(io_spec, stream, sort_keys=False)
    for path in (onnx_path, script_path):
        print(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB)")
    return onnx_path


def write_scores(name, scores, folder=MODELS):
    """Merge ``scores`` (a dict) into ``<folder>/scores.json`` under ``name``."""
    path = folder / "scores.json"
    table = json.loads(path.read_text()) if path.exists() else {}
    table[name] = scores
    path.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
    print(f"wrote {path}")


def onnx_session(path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class Clock:
    """Elapsed-time prints for the training log."""

    def __init__(self):
        self.start = time.perf_counter()

    def __str__(self):
        return f"{time.perf_counter() - self.start:6.1f} s"


def size_mb(path):
    return round(os.path.getsize(path) / 1e6, 3)


def rng(seed):
    return np.random.default_rng(seed)
