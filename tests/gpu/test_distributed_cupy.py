"""CuPy arrays between processes on one GPU: by CUDA IPC (``HOLOFLOW_CUDA_IPC=1``) and staged
through the host (the default), with exact data on the receiving device.

Two kinds of test:

- the raw IPC layer: this process exports with an :class:`IpcExporter`, a child process
  (``_ipc_peer.py``) imports with an :class:`IpcImporter` (CUDA opens a handle only in another
  process), including a garbage handle and an overstated allocation, which must be errors the
  child survives;
- a distributed application (``_cupy_app.py``) as driver + worker (fragment ``tx``) and a
  worker (fragment ``rx``) on this GPU, sending 1, 8 and 64 MiB arrays.

Skipped without a CUDA device (``tests/gpu/conftest.py``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gpu  # every wait below has its own timeout

ROOT = Path(__file__).resolve().parents[2]
PYTHONPATH = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
HERE = Path(__file__).resolve().parent
MIB = 1 << 20


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": PYTHONPATH, "PYTHONUNBUFFERED": "1", **extra}


class Peer:
    """The importing child process, one JSON request and answer at a time."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_ipc_peer.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=_env(),
        )

    def ask(self, **request):
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], 120)
        assert ready, "the importing process did not answer within 120 s"
        line = self.proc.stdout.readline()
        assert line, f"the importing process ended (exit {self.proc.wait(10)})"
        return json.loads(line)

    def send(self, descriptor, seq, dtype="uint32", shape=None):
        fields = dataclasses.asdict(descriptor)
        fields["handle"] = descriptor.handle.hex()
        return self.ask(
            op="import", descriptor=fields, dtype=dtype, shape=shape or [descriptor.nbytes // 4], seq=seq
        )

    def close(self):
        answer = self.ask(op="close")
        assert self.proc.wait(30) == 0
        return answer

    def end(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def peer():
    made = Peer()
    yield made
    made.end()


def _pattern(cp, nbytes, seq):
    sys.path.insert(0, str(HERE))
    from _cupy_app import pattern

    return pattern(nbytes, seq)


def test_the_driver_reports_allocation_sizes(cp):
    from holoflow.distributed._cuda_ipc import _mapped_size

    memory = cp.cuda.Memory(3 * MIB)
    whole, tail = _mapped_size(memory.ptr), _mapped_size(memory.ptr + MIB)
    assert whole is not None, "cuMemGetAddressRange is unavailable: mapping sizes go unchecked"
    assert 3 * MIB <= whole < 5 * MIB and tail == whole - MIB


def test_raw_ipc_between_two_processes_reuses_slots_and_reopens_grown_ones(cp, peer):
    from holoflow.distributed._cuda_ipc import IpcExporter

    exporter = IpcExporter(window=2)
    sizes = [1 * MIB, 8 * MIB, 64 * MIB, 1 * MIB, 1 * MIB, 8 * MIB]
    for seq, nbytes in enumerate(sizes):
        exporter.begin(seq)
        descriptor = exporter.export(_pattern(cp, nbytes, seq), cp.cuda.runtime.getDevice())
        assert descriptor is not None and descriptor.slot == seq % 2
        answer = peer.send(descriptor, seq)
        assert answer["error"] is None
        assert answer["ok"], f"message {seq}: wrong data"
        assert answer["type"] == "cupy.ndarray" and answer["device"] == cp.cuda.runtime.getDevice()
    # slot 0: 1 MiB, 64 MiB (grown), 1 MiB; slot 1: 8 MiB, 1 MiB, 8 MiB: three handles in all
    final = peer.close()
    assert final["stats"]["imported"] == len(sizes)
    assert final["stats"]["opened"] == 3 and final["stats"]["closed"] == 3 and final["open"] == 0


def test_a_garbage_handle_and_an_overstated_allocation_are_errors_the_importer_survives(cp, peer):
    from holoflow.distributed._cuda_ipc import IpcExporter

    exporter = IpcExporter(window=1)
    exporter.begin(0)
    good = exporter.export(_pattern(cp, MIB, 0), cp.cuda.runtime.getDevice())
    garbage = dataclasses.replace(good, handle=secrets.token_bytes(64), exporter=good.exporter + 1)
    answer = peer.send(garbage, 0)
    assert not answer["ok"] and "CUDA IPC import" in answer["error"]
    overstated = dataclasses.replace(good, capacity=good.capacity * 4, generation=good.generation + 1)
    answer = peer.send(overstated, 0)
    assert not answer["ok"] and "the mapping has" in answer["error"], answer
    answer = peer.send(good, 0)  # a fresh generation: the handle opens again, the data is right
    assert answer["ok"] and answer["error"] is None
    assert 5 * MIB <= peer.ask(op="probe", nbytes=5 * MIB)["size"] < 7 * MIB
    peer.close()


# -- the application, driver + worker and worker -------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_app(
    tmp_path: Path, ipc: bool, count: int, sizes: str = "1,8,64", window: int = 4, mode: str = "check"
):
    """Run ``_cupy_app.py`` as two processes; returns (rx JSON, tx JSON, driver stderr)."""
    port = _free_port()
    env = _env(
        HOLOFLOW_DISTRIBUTED_SECRET=secrets.token_hex(32),
        HOLOFLOW_CUDA_IPC="1" if ipc else "0",
        HOLOFLOW_EDGE_WINDOW=str(window),
        HOLOSCAN_LOG_LEVEL="INFO",
    )
    out = tmp_path / "rx.json"
    common = ["--sizes-mib", sizes, "--count", str(count), "--mode", mode, "--out", str(out)]
    common += ["--address", f"127.0.0.1:{port}"]
    procs = {}
    try:
        for name, role in (
            ("driver", ["--driver", "--worker", "--fragments", "tx"]),
            ("worker", ["--worker", "--fragments", "rx"]),
        ):
            with (tmp_path / f"{name}.err").open("w") as err:
                procs[name] = subprocess.Popen(
                    [sys.executable, str(HERE / "_cupy_app.py"), *common, *role],
                    cwd=tmp_path,
                    env=env,
                    stdout=err,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        codes = {name: proc.wait(240) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    logs = {name: (tmp_path / f"{name}.err").read_text() for name in procs}
    assert codes == {"driver": 0, "worker": 0}, logs
    tx = json.loads(Path(f"{out}.tx.json").read_text())
    return json.loads(out.read_text()), tx, logs


@pytest.mark.parametrize("ipc", [True, False], ids=["cuda_ipc", "host_staging"])
def test_cupy_arrays_cross_processes_on_one_gpu_exactly(tmp_path, cp, ipc):
    count = 24  # six times the window: every slot is reused, and grows as sizes cycle
    rx, tx, logs = run_app(tmp_path, ipc, count)
    records = rx["records"]
    assert [record["seq"] for record in records] == list(range(count))
    sizes = [1 * MIB, 8 * MIB, 64 * MIB]
    for record in records:
        seq = record["seq"]
        assert record["type"] == "cupy.ndarray", record
        assert record["device"] == record["current_device"], record
        assert record["nbytes"] == sizes[seq % 3], record
        assert record["equal"], f"message {seq}: wrong data"
        if seq % 4 == 3:
            assert record["fortran_type"] == "ndarray" and record["fortran_equal"], record
    arrays = count + count // 4
    if ipc:
        assert "uses zmq+cuda_ipc" in logs["driver"]
        assert rx["ipc"]["imported"] == arrays and tx["ipc"]["exported"] == arrays
        assert all(record["fortran_order"] for record in records if "fortran_order" in record)
        assert rx["ipc"]["opened"] <= tx["ipc"]["allocated"]
    else:
        assert "cuda_ipc" not in logs["driver"]
        assert rx["ipc"]["imported"] == 0 and tx["ipc"]["exported"] == 0
    for log in logs.values():
        assert "[error]" not in log.lower() and "traceback" not in log.lower(), log


def test_ipc_is_used_only_when_both_ends_ask(tmp_path, cp):
    """The receiver's process decides too: with only the sender asking, arrays are staged."""
    port = _free_port()
    out = tmp_path / "rx.json"
    common = ["--sizes-mib", "1", "--count", "8", "--out", str(out), "--address", f"127.0.0.1:{port}"]
    base = _env(HOLOFLOW_DISTRIBUTED_SECRET=secrets.token_hex(32), HOLOSCAN_LOG_LEVEL="INFO")
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE / "_cupy_app.py"), *common, *role],
            env={**base, "HOLOFLOW_CUDA_IPC": ipc},
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for role, ipc in (
            (["--driver", "--worker", "--fragments", "tx"], "1"),
            (["--worker", "--fragments", "rx"], "0"),
        )
    ]
    try:
        results = [proc.communicate(timeout=240) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert [proc.returncode for proc in procs] == [0, 0], [err for _, err in results]
    rx = json.loads(out.read_text())
    assert [record["equal"] for record in rx["records"]] == [True] * 8
    assert rx["ipc"]["imported"] == 0
    assert "cuda_ipc" not in results[0][1]


def test_numpy_messages_are_untouched_by_the_switch(cp):
    from holoflow.distributed._codec import decode, encode
    from holoflow.distributed._cuda_ipc import IpcExporter, IpcImporter

    exporter, importer = IpcExporter(window=1), IpcImporter()
    exporter.begin(0)
    frames = encode({"host": np.arange(100_000)}, cuda_export=exporter)
    assert len(frames) == 2
    assert decode(frames, cuda_import=importer)["host"].sum() == np.arange(100_000).sum()
    importer.close()
