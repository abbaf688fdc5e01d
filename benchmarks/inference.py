"""Benchmark: converter -> inference -> postprocessor on a U-Net-sized 256x256 model vs the raw call.

The model (built here, random weights) is a small U-Net: NHWC float32 input (1, 256, 256, 3), three
encoder convolutions (two of stride 2), two nearest-neighbour upsamplings with convolutions, and
two output channels (1, 2, 256, 256). The pipeline replays one uint8 256x256 RGB frame through
FormatConverterOp (to float32), InferenceOp and SegmentationPostprocessorOp into a sink; the raw
measurement calls the backend directly on the already converted input. Both are timed as sustained
throughput — frames back to back, one synchronization at the end, from the first frame out (the
model's loading and first run excluded, as the raw call is warmed up) — so the host work of the
graph overlaps the device work as it does in a streaming app. Each is the median of ``--repeats``
timed runs, as other processes on the host make single runs vary. Overhead = pipeline time per
frame / raw time per call - 1 (goal: <= 10%).

Backends: ``onnxrt`` (CPU; ONNX model) and ``torch`` (CUDA when present, else CPU; TorchScript).

Usage::

    python benchmarks/inference.py [--backend onnxrt|torch] [--cuda-graphs] [--workers N] [--frames 100]
        [--op-times] [--switch-interval S] [--profile FILE] [--output FILE]

``--op-times`` adds each operator's median host time per compute (and how many threads ran it)
from one more run; ``--switch-interval`` sets Python's GIL switch interval for the whole
benchmark, to tell GIL hand-offs apart from other costs of running the operators on threads.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _operators import Repeat
from _results import RESULTS, write_json

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.inference import load_backend
from holoflow.operators import FormatConverterOp, InferenceOp, SegmentationPostprocessorOp
from holoflow.schedulers import MultiThreadScheduler
from holoflow.tensor import cuda_available, cupy_module

CHANNELS = [(3, 64, 1), (64, 128, 2), (128, 256, 2), (256, 256, 1)]
DECODER = [(256, 128), (128, 64)]


def onnx_unet(path: str) -> str:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, weights = [helper.make_node("Transpose", ["x"], ["t0"], perm=[0, 3, 1, 2])], []
    current = "t0"

    def conv(name, cin, cout, stride=1, relu=True, kernel=3):
        nonlocal current
        w = numpy_helper.from_array(
            (rng.standard_normal((cout, cin, kernel, kernel)) * 0.1).astype(np.float32), f"{name}_w"
        )
        weights.append(w)
        pad = kernel // 2
        nodes.append(
            helper.make_node(
                "Conv", [current, w.name], [f"{name}_c"], strides=[stride, stride], pads=[pad] * 4
            )
        )
        current = f"{name}_c"
        if relu:
            nodes.append(helper.make_node("Relu", [current], [f"{name}_r"]))
            current = f"{name}_r"

    for i, (cin, cout, stride) in enumerate(CHANNELS):
        conv(f"enc{i}", cin, cout, stride)
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    weights.append(scales)
    for i, (cin, cout) in enumerate(DECODER):
        nodes.append(helper.make_node("Resize", [current, "", "scales"], [f"up{i}"], mode="nearest"))
        current = f"up{i}"
        conv(f"dec{i}", cin, cout)
    conv("head", DECODER[-1][1], 2, relu=False, kernel=1)
    nodes.append(helper.make_node("Identity", [current], ["y"]))
    graph = helper.make_graph(
        nodes,
        "unet",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 256, 256, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 256, 256])],
        initializer=weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def torch_unet(path: str) -> str:
    import torch
    import yaml

    class UNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.encoder = torch.nn.ModuleList(
                torch.nn.Conv2d(cin, cout, 3, stride=stride, padding=1) for cin, cout, stride in CHANNELS
            )
            self.decoder = torch.nn.ModuleList(
                torch.nn.Conv2d(cin, cout, 3, padding=1) for cin, cout in DECODER
            )
            self.head = torch.nn.Conv2d(DECODER[-1][1], 2, 1)

        def forward(self, x):
            x = x.permute(0, 3, 1, 2)
            for layer in self.encoder:
                x = torch.relu(layer(x))
            for layer in self.decoder:
                x = torch.relu(layer(torch.nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")))
            return self.head(x)

    module = UNet().eval()
    torch.jit.save(torch.jit.trace(module, torch.zeros(1, 256, 256, 3)), path)
    spec = {
        "inputs": [{"name": "x", "shape": [1, 256, 256, 3], "dtype": "float32"}],
        "outputs": [{"name": "y", "shape": [1, 2, 256, 256], "dtype": "float32"}],
    }
    Path(path).with_suffix(".yaml").write_text(yaml.safe_dump(spec))
    return path


class Sink(Operator):
    """Counts label maps; keeps the last so the run can wait for it."""

    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.count = 0
        self.last = None
        self.first_time = 0.0

    def compute(self, op_input, op_output, context):
        self.last = op_input.receive("in")["out_tensor"]
        self.count += 1
        if self.count == 1:
            self.first_time = time.perf_counter()


class OpTimes:
    """Each operator's compute calls of one run: (operator, thread, start, end) in seconds."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, float, float]] = []

    def wrap(self, op: Operator) -> None:
        compute, name, calls = op.compute, op.name, self.calls

        def timed(op_input, op_output, context):
            start = time.perf_counter()
            compute(op_input, op_output, context)
            calls.append((name, threading.get_ident(), start, time.perf_counter()))

        op.compute = timed

    def summary(self) -> dict:
        """Per operator: calls, mean and median host microseconds, and the threads it ran on."""
        result = {}
        for name in dict.fromkeys(c[0] for c in self.calls):
            spans = [(end - start) * 1e6 for op, _, start, end in self.calls if op == name]
            threads = {thread for op, thread, _, _ in self.calls if op == name}
            result[name] = {
                "calls": len(spans),
                "mean_us": statistics.fmean(spans),
                "median_us": statistics.median(spans),
                "threads": len(threads),
            }
        return result


def pipeline_seconds(
    frame,
    backend: str,
    model: str,
    frames: int,
    on_cpu: bool,
    graphs: bool = False,
    workers: int = 0,
    op_times: OpTimes | None = None,
) -> float:
    class Pipeline(Application):
        def compose(self):
            source = Repeat(self, {"": frame}, CountCondition(self, frames), name="source")
            converter = FormatConverterOp(self, name="converter", out_dtype="float32", out_tensor_name="x")
            inference = InferenceOp(
                self,
                name="inference",
                backend=backend,
                model_path_map={"unet": model},
                pre_processor_map={"unet": ["x"]},
                inference_map={"unet": ["y"]},
                infer_on_cpu=on_cpu,
                enable_cuda_graphs=graphs,
            )
            post = SegmentationPostprocessorOp(self, name="post", in_tensor_name="y", data_format="nchw")
            self.sink = Sink(self, name="sink")
            self.add_flow(source, converter)
            self.add_flow(converter, inference, {("tensor", "receivers")})
            self.add_flow(inference, post)
            self.add_flow(post, self.sink)
            if op_times is not None:
                for op in (source, converter, inference, post, self.sink):
                    op_times.wrap(op)

    app = Pipeline([])
    if workers:
        app.scheduler(MultiThreadScheduler(app, worker_thread_number=workers))
    app.compose_graph()
    app.run()
    if app.sink.last.is_cuda:
        cupy_module().cuda.Device().synchronize()
    end = time.perf_counter()
    assert app.sink.count == frames
    # Steady state: from the first frame out to the last, so that loading the model (start) and
    # its first, slow run are not counted — the raw measurement is warmed up too.
    return (end - app.sink.first_time) / (frames - 1)


def raw_seconds(
    backend: str, model: str, x, frames: int, on_cpu: bool, graphs: bool = False, repeats: int = 5
) -> float:
    cuda = not on_cpu and cuda_available() and backend != "onnxrt"
    options = {"cuda_graphs": True} if graphs and cuda else {}
    runner = load_backend(backend, model, device="cuda" if cuda else "cpu", **options)
    sync = cupy_module().cuda.Device().synchronize if cuda else (lambda: None)
    for _ in range(5):
        runner.infer([x])
    sync()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(frames):
            runner.infer([x])
        sync()
        samples.append((time.perf_counter() - t0) / frames)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["onnxrt", "torch"], default="onnxrt")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--cpu", action="store_true", help="run on the CPU even where CUDA is present")
    parser.add_argument(
        "--cuda-graphs", action="store_true", help="capture the model in a CUDA graph (both runs)"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timed runs of each; the median counts (host noise)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run the pipeline under a MultiThreadScheduler with this many threads (0: greedy)",
    )
    parser.add_argument("--profile", help="write a cProfile of one pipeline run to this file")
    parser.add_argument(
        "--op-times", action="store_true", help="time each operator's compute in one more run (host us)"
    )
    parser.add_argument(
        "--switch-interval",
        type=float,
        help="sys.setswitchinterval for the whole benchmark, in seconds (Python's default: 0.005)",
    )
    parser.add_argument("--output")
    args = parser.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    on_cpu = args.cpu or args.backend == "onnxrt" or not cuda_available()
    device = "cpu" if on_cpu else "cuda"
    with tempfile.TemporaryDirectory() as folder:
        model = (
            onnx_unet(os.path.join(folder, "unet.onnx"))
            if args.backend == "onnxrt"
            else torch_unet(os.path.join(folder, "unet.pt"))
        )
        frame = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
        x = (frame.astype(np.float32) / np.float32(255))[None]
        if device == "cuda":
            cupy = cupy_module()
            frame, x = cupy.asarray(frame), cupy.asarray(x)
        graphs = args.cuda_graphs

        def run_pipeline(frames: int) -> float:
            return pipeline_seconds(frame, args.backend, model, frames, on_cpu, graphs, args.workers)

        run_pipeline(10)  # warm up (engine, kernels, caches)
        raw = raw_seconds(args.backend, model, x, args.frames, on_cpu, graphs, args.repeats)
        pipeline = statistics.median(run_pipeline(args.frames) for _ in range(args.repeats))
        op_times = None
        if args.op_times:
            op_times = OpTimes()
            pipeline_seconds(frame, args.backend, model, args.frames, on_cpu, graphs, args.workers, op_times)
        if args.profile:
            import cProfile
            import pstats

            cProfile.runctx("run_pipeline(args.frames)", globals(), locals(), args.profile)
            with open(args.profile + ".txt", "w", encoding="utf-8") as text:
                stats = pstats.Stats(args.profile, stream=text)
                stats.sort_stats("tottime").print_stats(40)
                stats.sort_stats("cumulative").print_stats(40)
    overhead = pipeline / raw - 1
    name = platform.processor() or platform.machine()
    if device == "cuda":
        name = cupy_module().cuda.runtime.getDeviceProperties(0)["name"].decode()
    run_note = ", CUDA graphs" if args.cuda_graphs else ""
    if args.workers:
        run_note += f", MultiThreadScheduler x{args.workers}"
    if args.switch_interval:
        run_note += f", switch interval {args.switch_interval * 1e6:g} us"
    print(
        f"inference pipeline ({args.backend} on {device}{run_note}, {name}): 256x256 U-Net, "
        f"{args.frames} frames"
    )
    print(f"{'raw backend call':<34} {raw * 1e3:8.3f} ms")
    print(f"{'converter+inference+postprocessor':<34} {pipeline * 1e3:8.3f} ms per frame")
    print(f"pipeline overhead: {overhead:+.1%} of the raw model time (goal <= 10%)")
    if op_times:
        for op_name, row in op_times.summary().items():
            print(f"  {op_name:<12} {row['median_us']:8.1f} us median host time ({row['threads']} threads)")
    output = args.output or str(RESULTS / f"inference_{args.backend}_{device}.json")
    write_json(
        output,
        {
            "benchmark": "inference",
            "backend": args.backend,
            "device": device,
            "hardware": name,
            "frames": args.frames,
            "cuda_graphs": args.cuda_graphs,
            "worker_threads": args.workers,
            "raw_ms": raw * 1e3,
            "pipeline_ms": pipeline * 1e3,
            "overhead": overhead,
            "switch_interval_s": sys.getswitchinterval(),
            **({"op_times": op_times.summary()} if op_times else {}),
        },
    )


if __name__ == "__main__":
    main()
