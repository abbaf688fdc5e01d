"""Benchmark: CuPy arrays between two processes on one GPU, staged through the host vs CUDA IPC.

The application of ``tests/gpu/_cupy_app.py`` runs as driver + worker (fragment ``tx``) and a
worker (fragment ``rx``) on this machine's GPU, once per array size (1, 8 and 64 MiB) and mode:

- **staging**: the default; the codec copies each array to host memory, ZeroMQ carries it, the
  receiver copies it back to its device;
- **cuda_ipc**: ``HOLOFLOW_CUDA_IPC=1``; the sender copies each array into a slot of its ring
  (device to device) and sends a descriptor, the receiver copies it out of the mapped slot.

``tx`` emits pre-made arrays as fast as the edge's window (``--window``) lets it; ``rx`` notes
each arrival (``time.perf_counter``, its own clock only) and checks the first and the last
message's values on the device. Messages per second are counted over the arrivals after the
first ``2 * window`` (slots allocated, handles opened), GB/s is that times the array size.
The physical reference, measured in this process in the same run: a device-to-device copy of
the same size (``cudaMemcpyAsync``, timed by CUDA events), in GB/s of bytes copied. CUDA IPC
makes two such copies per message (into the slot, out of it).

Writes JSON to ``--out`` (default ``benchmarks/results/distributed_gpu.json``) and prints a
table. Without a CUDA device it prints ``skipped: no CUDA ...`` and exits 0.

Usage::

    python benchmarks/distributed_gpu.py [--out FILE] [--window 8] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _results import RESULTS, write_json

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

APP = REPO / "tests" / "gpu" / "_cupy_app.py"
MIB = 1 << 20
SIZES_MIB = (1, 8, 64)
COUNTS = {1: 1500, 8: 400, 64: 80}
RUN_TIMEOUT_S = 100


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_pair(size_mib: int, count: int, ipc: bool, window: int, workdir: Path) -> dict[str, Any]:
    """One run of the application as two processes; the rx and tx JSON and the timing."""
    out = workdir / f"rx_{size_mib}_{'ipc' if ipc else 'staging'}.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "HOLOFLOW_DISTRIBUTED_SECRET": secrets.token_hex(32),
        "HOLOFLOW_CUDA_IPC": "1" if ipc else "0",
        "HOLOFLOW_EDGE_WINDOW": str(window),
        "HOLOSCAN_LOG_LEVEL": "WARN",
    }
    common = ["--sizes-mib", str(size_mib), "--count", str(count), "--mode", "bench", "--out", str(out)]
    common += ["--address", f"127.0.0.1:{_free_port()}"]
    roles = {
        "driver": ["--driver", "--worker", "--fragments", "tx"],
        "worker": ["--worker", "--fragments", "rx"],
    }
    procs: dict[str, subprocess.Popen[str]] = {}
    started = time.perf_counter()
    try:
        for name, role in roles.items():
            procs[name] = subprocess.Popen(
                [sys.executable, str(APP), *common, *role],
                env=env,
                cwd=workdir,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        errors = {name: proc.communicate(timeout=RUN_TIMEOUT_S)[1] for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    codes = {name: proc.returncode for name, proc in procs.items()}
    if any(codes.values()):
        raise RuntimeError(f"{size_mib} MiB, ipc={ipc}: exit codes {codes}\n{errors}")
    rx = json.loads(out.read_text())
    tx = json.loads(Path(f"{out}.tx.json").read_text())
    records = rx["records"]
    if [record["seq"] for record in records] != list(range(count)):
        raise RuntimeError(f"{size_mib} MiB, ipc={ipc}: messages lost or out of order")
    checked = [record["equal"] for record in records if "equal" in record]
    if checked != [True, True]:
        raise RuntimeError(f"{size_mib} MiB, ipc={ipc}: wrong data ({checked})")
    skip = min(2 * window, count // 4)
    span = records[-1]["t"] - records[skip]["t"]
    rate = (count - 1 - skip) / span
    return {
        "msgs_per_s": rate,
        "gb_per_s": rate * size_mib * MIB / 1e9,
        "messages": count,
        "measured_messages": count - skip,
        "wall_s": time.perf_counter() - started,
        "rx_ipc": rx["ipc"],
        "tx_ipc": tx["ipc"],
        "types": sorted({record["type"] for record in records}),
    }


def device_copy_gb_per_s(nbytes: int, repeats: int = 20) -> float:
    """GB/s of one device-to-device ``cudaMemcpyAsync`` of ``nbytes`` (bytes copied per second)."""
    import cupy

    src = cupy.ones(nbytes, dtype=cupy.uint8)
    dst = cupy.empty_like(src)
    stream = cupy.cuda.Stream(non_blocking=True)
    start, end = cupy.cuda.Event(), cupy.cuda.Event()
    for _ in range(3):
        cupy.cuda.runtime.memcpyAsync(dst.data.ptr, src.data.ptr, nbytes, 3, stream.ptr)
    stream.synchronize()
    start.record(stream)
    for _ in range(repeats):
        cupy.cuda.runtime.memcpyAsync(dst.data.ptr, src.data.ptr, nbytes, 3, stream.ptr)
    end.record(stream)
    end.synchronize()
    seconds = cupy.cuda.get_elapsed_time(start, end) / 1000
    return nbytes * repeats / seconds / 1e9


def _device() -> dict[str, Any]:
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    return {
        "gpu": name.decode() if isinstance(name, bytes) else str(name),
        "cupy": cupy.__version__,
        "cuda_driver": cupy.cuda.runtime.driverGetVersion(),
        "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(RESULTS / "distributed_gpu.json"))
    parser.add_argument("--window", type=int, default=8, help="HOLOFLOW_EDGE_WINDOW for both modes")
    parser.add_argument("--quick", action="store_true", help="a fifth of the messages (a smoke run)")
    args = parser.parse_args()
    from holoflow.tensor import cuda_available

    if not cuda_available():
        print("skipped: no CUDA (CuPy with a GPU is needed; nothing measured)")
        return 0
    scale = 5 if args.quick else 1
    begun = time.perf_counter()
    rows = []
    print(f"{'size':>8}  {'host staging':>36}   {'CUDA IPC':>36}   ratio   reference", flush=True)
    with tempfile.TemporaryDirectory(prefix="holoflow_gpu_bench_") as tmp:
        for size in SIZES_MIB:
            count = max(4 * args.window, COUNTS[size] // scale)
            staging = run_pair(size, count, False, args.window, Path(tmp))
            ipc = run_pair(size, count, True, args.window, Path(tmp))
            if ipc["rx_ipc"]["imported"] != count or staging["rx_ipc"]["imported"] != 0:
                raise RuntimeError(f"{size} MiB: the modes did not take their paths ({ipc['rx_ipc']})")
            copy = device_copy_gb_per_s(size * MIB)
            rows.append(
                {
                    "size_mib": size,
                    "staging": staging,
                    "cuda_ipc": ipc,
                    "device_copy_gb_per_s": copy,
                    "ipc_over_staging": ipc["msgs_per_s"] / staging["msgs_per_s"],
                }
            )
            print(
                f"{size:>4} MiB  staging {staging['msgs_per_s']:9.1f} msg/s {staging['gb_per_s']:7.2f} GB/s"
                f"   cuda_ipc {ipc['msgs_per_s']:9.1f} msg/s {ipc['gb_per_s']:7.2f} GB/s"
                f"   x{rows[-1]['ipc_over_staging']:.1f}   device copy {copy:7.1f} GB/s",
                flush=True,
            )
    payload = {
        "benchmark": "distributed_gpu",
        "window": args.window,
        "device": _device(),
        "elapsed_s": time.perf_counter() - begun,
        "rows": rows,
    }
    write_json(args.out, payload)
    print(f"wrote {args.out} ({payload['elapsed_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
