"""Benchmark: replaying a ~1 GB GXF recording without pacing vs reading the file raw.

Writes a recording of 1080p RGB frames (about 1 GB), then alternates two measurements on the same
file: a raw sequential read (``readinto`` one buffer, the physical limit for getting the bytes
out of the page cache) and replays through VideoStreamReplayerOp (``realtime=False``), each moving
every byte once: the default replay (frames read into pooled buffers) into a sink that only
receives, and the zero-copy replay (``zero_copy=True``, views of the memory-mapped file) into a
sink that copies each frame into its own buffer. Prints the throughputs and the ratio of the
default replay to the raw read (goal: >= 80%).

Usage::

    python benchmarks/gxf_replay.py [--size-gb 1.0] [--repeats 3] [--directory DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _operators import Count
from _results import RESULTS, write_json

from holoflow.core import Application, Operator
from holoflow.gxf import GXFWriter, recording_paths
from holoflow.operators import VideoStreamReplayerOp

SHAPE = (1080, 1920, 3)


class CopySink(Operator):
    """Copies each frame into one buffer, allocated and touched before timing (as the raw read's)."""

    buffer = np.ones(SHAPE, np.uint8)

    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.frames = 0

    def compute(self, op_input, op_output, context):
        np.copyto(self.buffer, np.asarray(op_input.receive("in")[""]))
        self.frames += 1


def write_recording(directory: str, size_gb: float) -> tuple[int, int]:
    frame = np.random.default_rng(0).integers(0, 256, SHAPE, dtype=np.uint8)
    count = max(1, int(size_gb * 1e9 // frame.nbytes))
    with GXFWriter(directory, "big") as writer:
        for i in range(count):
            frame[0, 0, 0] = i % 256
            writer.write({"": frame})
    return count, recording_paths(directory, "big")[1].stat().st_size


def raw_read_seconds(path: Path) -> float:
    buffer = bytearray(CopySink.buffer.nbytes)
    view = memoryview(buffer)
    t0 = time.perf_counter()
    with open(path, "rb", buffering=0) as stream:
        while stream.readinto(view):
            pass
    return time.perf_counter() - t0


def replay_seconds(directory: str, frames: int, zero_copy: bool = False) -> float:
    app = Application([])
    replayer = VideoStreamReplayerOp(
        app, name="replayer", directory=directory, basename="big", realtime=False, zero_copy=zero_copy
    )
    sink = CopySink(app, name="sink") if zero_copy else Count(app, name="sink")
    app.add_flow(replayer, sink)
    app.compose_graph()
    t0 = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - t0
    assert sink.frames == frames
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--directory")
    parser.add_argument("--output", default=str(RESULTS / "gxf_replay.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.directory) as directory:
        frames, size = write_recording(directory, args.size_gb)
        path = recording_paths(directory, "big")[1]
        raw_read_seconds(path)  # bring the file into the page cache for both measurements
        raw, replay, zero_copy = [], [], []
        for _ in range(args.repeats):
            raw.append(raw_read_seconds(path))
            replay.append(replay_seconds(directory, frames))
            zero_copy.append(replay_seconds(directory, frames, zero_copy=True))
    raw_gbs = size / statistics.median(raw) / 1e9
    replay_gbs = size / statistics.median(replay) / 1e9
    zero_copy_gbs = size / statistics.median(zero_copy) / 1e9
    ratio = replay_gbs / raw_gbs
    print(
        f"GXF replay: {frames} frames of 1080p RGB, {size / 1e9:.2f} GB, median of {args.repeats}, "
        f"{os.cpu_count()} CPUs (file in the page cache)"
    )
    print(f"{'raw sequential read':<24} {raw_gbs:>7.2f} GB/s")
    print(
        f"{'replay (no pacing)':<24} {replay_gbs:>7.2f} GB/s  {frames / statistics.median(replay):>8.1f} fps"
    )
    print(
        f"{'replay, zero_copy=True':<24} {zero_copy_gbs:>7.2f} GB/s  "
        f"{frames / statistics.median(zero_copy):>8.1f} fps"
    )
    print(f"replay / raw read: {ratio:.0%} (goal >= 80%)")
    write_json(
        args.output,
        {
            "benchmark": "gxf_replay",
            "frames": frames,
            "bytes": size,
            "repeats": args.repeats,
            "raw_read_gb_s": raw_gbs,
            "replay_gb_s": replay_gbs,
            "replay_zero_copy_gb_s": zero_copy_gbs,
            "ratio": ratio,
        },
    )


if __name__ == "__main__":
    main()
