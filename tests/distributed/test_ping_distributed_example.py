"""Holoscan's ping_distributed example, imports changed, runs as one process (design §1.6)."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHONPATH = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
EXAMPLE = ROOT / "examples" / "distributed" / "ping_distributed.py"


def run_example(tmp_path, *args):
    env = {**os.environ, "PYTHONPATH": PYTHONPATH}
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_only_the_imports_differ_from_holoscans_file():
    text = EXAMPLE.read_text()
    assert "holoscan" not in text.replace("Holoscan", "")
    assert "from holoflow.core import Application, Fragment, Tracker" in text


def test_one_process_runs_both_fragments(tmp_path):
    result = run_example(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Configuring application to use host tensors" in result.stdout
    output = result.stdout + result.stderr
    received = re.findall(r"rx received message (\d+): Tensor key: 'out', shape: \(32, 64\)", output)
    assert [int(n) for n in received] == list(range(1, 11))
    assert "error" not in result.stderr.lower()


def test_count_and_track(tmp_path):
    result = run_example(tmp_path, "--count", "4", "--track")
    assert result.returncode == 0, result.stderr
    assert "type(trackers)=<class 'dict'>" in result.stdout
    assert "Fragment: fragment1" in result.stdout and "Fragment: fragment2" in result.stdout
    # Paths are tracked within each fragment: fragment1's only operator sends everything to
    # fragment2, so only fragment2 completes paths (tx,rx) and writes log entries.
    assert "Path 1: tx,rx" in result.stdout
    assert (tmp_path / "fragment2_logger.log").read_text().strip()
    output = result.stdout + result.stderr
    assert len(re.findall(r"rx received message \d+", output)) == 4


def start_example(tmp_path, name, *args):
    env = {
        **os.environ,
        "PYTHONPATH": PYTHONPATH,
        "HOLOFLOW_DISTRIBUTED_SECRET": SECRET,
        "HOLOSCAN_LOG_LEVEL": "INFO",
    }
    with (tmp_path / f"{name}.out").open("w") as out, (tmp_path / f"{name}.err").open("w") as err:
        return subprocess.Popen(
            [sys.executable, str(EXAMPLE), *args], cwd=tmp_path, env=env, stdout=out, stderr=err, text=True
        )


SECRET = "5e" * 32


@pytest.mark.parametrize("track", [False, True])
def test_driver_and_worker_processes(tmp_path, track):
    port = free_port()
    extra = ["--track"] if track else []
    address = ["--address", f"127.0.0.1:{port}"]
    procs = {
        "driver": start_example(
            tmp_path, "driver", "--driver", "--worker", *address, "--fragments", "fragment1", *extra
        ),
        "worker": start_example(tmp_path, "worker", "--worker", *address, "--fragments", "fragment2", *extra),
    }
    try:
        codes = {name: proc.wait(120) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = {
        name: (tmp_path / f"{name}.out").read_text() + (tmp_path / f"{name}.err").read_text()
        for name in procs
    }
    assert codes == {"driver": 0, "worker": 0}, text
    for output in text.values():
        assert "Configuring application to use host tensors" in output
        assert "error" not in output.lower()
    received = re.findall(r"rx received message (\d+): Tensor key: 'out', shape: \(32, 64\)", text["worker"])
    assert [int(n) for n in received] == list(range(1, 11))
    assert "Fragment 'fragment2' => Worker" in text["driver"]
    if track:
        for output in text.values():
            assert "type(trackers)=<class 'dict'>" in output
            assert "Fragment: fragment1" in output and "Fragment: fragment2" in output
        assert "Path 1: tx,rx" in text["worker"]  # the path crosses the processes
        assert "Number of messages: 10" in text["worker"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
