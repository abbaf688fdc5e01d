"""Benchmark: frames through a 5-hop chain at several sizes, and pool allocation on the hot path.

Part 1 - zero copy. A source emits ``{"frame": array}`` (the same preallocated frame each
time); five operators receive the TensorMap and emit it on; a sink counts. If the runtime never
copies, the per-hop cost is the same for a 64x64 frame and a 3840x2160 one; the table prints
both and their ratio, next to what one copy of the frame costs on the same device.

Part 2 — allocation. ``BlockMemoryPool.empty`` (and dropping the array, which returns the
block) against ``numpy.empty`` / ``cupy.empty`` of a 1080p RGB frame.

Runs on the CPU (numpy), and on the GPU (CuPy) when a CUDA device is present.

Usage::

    python benchmarks/tensor_chain.py [--messages 2000] [--repeats 3] [--output FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
from _operators import Repeat
from _results import RESULTS, write_json

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.resources import BlockMemoryPool, MemoryStorageType
from holoflow.tensor import cuda_available, cupy_module

SIZES = {"64x64": (64, 64, 3), "1080p": (1080, 1920, 3), "4K": (2160, 3840, 3)}
HOPS = 5


class Hop(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(op_input.receive("in"), "out")


class Sink(Operator):
    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.count = 0

    def compute(self, op_input, op_output, context):
        message = op_input.receive("in")
        self.count += 1
        self.pointer = message["frame"].data


def chain_seconds_per_hop(frame, messages: int) -> float:
    class Chain(Application):
        def compose(self):
            previous = Repeat(self, {"frame": frame}, CountCondition(self, messages), name="src")
            for h in range(HOPS):
                hop = Hop(self, name=f"hop{h}")
                self.add_flow(previous, hop)
                previous = hop
            self.sink = Sink(self, name="sink")
            self.add_flow(previous, self.sink)

    app = Chain([])
    app.compose_graph()
    t0 = time.perf_counter()
    app.run()
    wall = time.perf_counter() - t0
    assert app.sink.count == messages
    return wall / (messages * (HOPS + 2))


def copy_seconds(frame, xp, sync) -> float:
    out = xp.empty_like(frame)
    sync()
    t0 = time.perf_counter()
    for _ in range(10):
        out[...] = frame
    sync()
    return (time.perf_counter() - t0) / 10


def allocation_seconds(make, count: int = 2000) -> float:
    t0 = time.perf_counter()
    for _ in range(count):
        array = make()
        del array
    return (time.perf_counter() - t0) / count


def run_device(name: str, xp, storage, sync, messages: int, repeats: int) -> dict:
    rows = []
    for label, shape in SIZES.items():
        frame = xp.zeros(shape, dtype=xp.uint8)
        per_hop = statistics.median(chain_seconds_per_hop(frame, messages) for _ in range(repeats))
        rows.append(
            {
                "size": label,
                "frame_bytes": int(frame.nbytes),
                "per_hop_us": per_hop * 1e6,
                "one_copy_us": copy_seconds(frame, xp, sync) * 1e6,
            }
        )
    app = Application([])
    shape = SIZES["1080p"]
    pool = BlockMemoryPool(app, storage, int(np.prod(shape)), 4)
    allocation = {
        "pool_empty_us": 1e6
        * statistics.median(allocation_seconds(lambda: pool.empty(shape, np.uint8)) for _ in range(repeats)),
        "library_empty_us": 1e6
        * statistics.median(
            allocation_seconds(lambda: xp.empty(shape, dtype=xp.uint8)) for _ in range(repeats)
        ),
    }
    return {
        "device": name,
        "rows": rows,
        "allocation_1080p": allocation,
        "ratio_4k_vs_64": rows[-1]["per_hop_us"] / rows[0]["per_hop_us"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(RESULTS / "tensor_chain.json"))
    args = parser.parse_args()
    results = [
        run_device(
            f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)",
            np,
            MemoryStorageType.SYSTEM,
            lambda: None,
            args.messages,
            args.repeats,
        )
    ]
    if cuda_available():
        cp = cupy_module()
        gpu = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
        results.append(
            run_device(
                f"cuda ({gpu})",
                cp,
                MemoryStorageType.DEVICE,
                cp.cuda.Device().synchronize,
                args.messages,
                args.repeats,
            )
        )
    print(f"tensor chain: {HOPS} hops, {args.messages} messages, median of {args.repeats}")
    for result in results:
        print(f"\n{result['device']}")
        print(f"{'frame':<7} {'bytes':>11} {'per hop us':>11} {'one copy us':>12}")
        for row in result["rows"]:
            print(
                f"{row['size']:<7} {row['frame_bytes']:>11,} {row['per_hop_us']:>11.2f} "
                f"{row['one_copy_us']:>12.1f}"
            )
        print(f"per-hop cost 4K / 64x64: {result['ratio_4k_vs_64']:.2f} (1.00 = size-independent: zero copy)")
        alloc = result["allocation_1080p"]
        print(
            f"1080p RGB allocation: BlockMemoryPool {alloc['pool_empty_us']:.2f} us, "
            f"library empty {alloc['library_empty_us']:.2f} us "
            f"({alloc['library_empty_us'] / alloc['pool_empty_us']:.1f}x)"
        )
    write_json(
        args.output,
        {"benchmark": "tensor_chain", "hops": HOPS, "messages": args.messages, "results": results},
    )


if __name__ == "__main__":
    main()
