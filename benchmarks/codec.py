"""Benchmark: the distributed codec's encode + decode against pickle, per message size.

For each payload (a small Python object; ``{"data": array}`` of 1 KiB, 1 MiB and 8 MiB) it
times ``encode(msg)`` plus ``decode`` of the frames as a transport hands them over (``bytearray``
copies made once, outside the timed loop, so the figure is the codec's own cost and the arrays
decode as views) and, as speed references only, ``pickle.loads(pickle.dumps(msg, protocol=5))``
(arrays copied in-band, twice) and the same with out-of-band buffers (``buffer_callback``, no
array copy). Pickle never carries wire bytes in holoflow; it is here because it is the
fastest general serializer in the standard library.

Prints the median microseconds per round trip (of ``--repeats`` timed batches) and the ratio.

Usage::

    python benchmarks/codec.py [--repeats 5] [--output FILE]
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _results import write_json

from holoflow.distributed._codec import decode, encode


def payloads() -> dict[str, Any]:
    return {
        "small object": {"seq": 7, "name": "frame", "ok": True, "values": [1.5, 2.5, 3.5], "tag": ("a", 1)},
        "1 KiB array": {"data": np.arange(256, dtype=np.float32)},
        "1 MiB array": {"data": np.arange(1 << 18, dtype=np.float32)},
        "8 MiB array": {"data": np.arange(1 << 21, dtype=np.float32)},
    }


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, else what platform says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def median_us(step: Callable[[], Any], iterations: int, repeats: int) -> float:
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            step()
        times.append((time.perf_counter() - start) / iterations)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default="")
    args = parser.parse_args()

    rows = []
    print(f"{'payload':<14} {'codec µs':>10} {'pickle µs':>10} {'pickle oob µs':>14} {'codec/pickle':>13}")
    for name, message in payloads().items():
        size = message["data"].nbytes if "data" in message else 0
        iterations = max(20, min(20_000, int(2e8 / max(size, 10_000))))
        received = [bytearray(memoryview(f).cast("B")) for f in encode(message)]

        def codec_step(message: Any = message, received: list[bytearray] = received) -> Any:
            encode(message)
            return decode(received)

        def pickle_step(message: Any = message) -> Any:
            return pickle.loads(pickle.dumps(message, protocol=5))

        def pickle_oob_step(message: Any = message) -> Any:
            buffers: list[Any] = []
            data = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
            return pickle.loads(data, buffers=buffers)

        codec = median_us(codec_step, iterations, args.repeats)
        pickled = median_us(pickle_step, iterations, args.repeats)
        oob = median_us(pickle_oob_step, iterations, args.repeats)
        print(f"{name:<14} {codec:>10.1f} {pickled:>10.1f} {oob:>14.1f} {codec / pickled:>13.2f}")
        rows.append(
            {"payload": name, "bytes": size, "codec_us": codec, "pickle_us": pickled, "pickle_oob_us": oob}
        )
    if args.output:
        write_json(
            args.output,
            {"cpu": cpu_name(), "cores": os.cpu_count(), "rows": rows},
        )


if __name__ == "__main__":
    main()
