"""Where the time of a pipeline goes: data-flow tracking with percentiles and operator times.

A camera-like source feeds a preprocessing step (about 2 ms), an inference step (about 5 ms)
and a sink (about 1 ms). The run is tracked with ``operator_timing=True``: besides Holoscan's
report (``tracker.print()``), it prints each path's latency percentiles, each operator's
compute and queue times, and the hops of the last message. ``--sample-every N`` tracks only
every N-th frame (the others travel untracked and cost nearly nothing).

Usage::

    python examples/observability/tracking_breakdown.py [--frames 60] [--sample-every 1]
"""

from __future__ import annotations

import argparse
import time

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator, Tracker


class Camera(Operator):
    def setup(self, spec):
        spec.output("frame")

    def start(self):
        self.index = 0

    def compute(self, op_input, op_output, context):
        self.index += 1
        op_output.emit({"index": self.index}, "frame")


class Step(Operator):
    """Receives a frame, works ``seconds`` on it and sends it on."""

    def __init__(self, fragment, *args, seconds=0.0, **kwargs):
        self.seconds = seconds
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        frame = op_input.receive("in")
        time.sleep(self.seconds)
        op_output.emit(frame, "out")


class Sink(Operator):
    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.frames = 0

    def compute(self, op_input, op_output, context):
        op_input.receive("in")
        time.sleep(0.001)
        self.frames += 1


class Pipeline(Application):
    def __init__(self, frames: int):
        self.frames = frames
        super().__init__([])

    def compose(self):
        camera = Camera(self, CountCondition(self, self.frames), name="camera")
        preprocess = Step(self, name="preprocess", seconds=0.002)
        inference = Step(self, name="inference", seconds=0.005)
        self.sink = Sink(self, name="sink")
        self.add_flow(camera, preprocess, {("frame", "in")})
        self.add_flow(preprocess, inference)
        self.add_flow(inference, self.sink)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--sample-every", type=int, default=1)
    args = parser.parse_args()

    app = Pipeline(args.frames)
    with Tracker(
        app,
        num_start_messages_to_skip=2,
        num_last_messages_to_discard=2,
        sample_every=args.sample_every,
        operator_timing=True,
    ) as tracker:
        app.run()
    tracker.print()

    for path in tracker.get_path_strings():
        percentiles = tracker.percentiles(path, (50, 90, 99, 100))
        print(f"{path}: " + ", ".join(f"p{p:g} {ms:.2f} ms" for p, ms in percentiles.items()))
    print("operator      computes  compute p50 (ms)  compute max (ms)  queue p50 (ms)")
    for name, times in tracker.operator_times().items():
        queue = f"{times['queue_ms_p50']:.3f}" if "queue_ms_p50" in times else "-"
        print(
            f"{name:<12} {times['computes']:>9.0f} {times['compute_ms_p50']:>17.3f} "
            f"{times['compute_ms_max']:>17.3f} {queue:>15}"
        )
    last = tracker.records()[-1]
    print(f"last tracked frame ({last['latency_ms']:.2f} ms):")
    for hop in last["hops"]:
        took = (hop["publish_ns"] - hop["receive_ns"]) / 1e6
        print(f"  {hop['operator']:<12} {took:.2f} ms")
    print(f"frames received: {app.sink.frames}")


if __name__ == "__main__":
    main()
