"""Distributed runs across real processes on 127.0.0.1: delivery, failures, refusals.

Each test starts ``_process_app.py`` as a driver (with or without a worker) and workers, every
process with a timeout, and asserts on exit codes, stderr and the sequence numbers the receiver
wrote.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("zmq")

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).with_name("_process_app.py")
pytestmark = pytest.mark.timeout(120)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """Processes of one run; whatever is still running at the end is killed."""

    def __init__(self, tmp_path: Path, secret: str | None = None, **env: str) -> None:
        self.tmp_path = tmp_path
        self.port = free_port()
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "HOLOFLOW_DISTRIBUTED_SECRET": secret or secrets.token_hex(32),
            "HOLOSCAN_LOG_LEVEL": "INFO",
            **env,
        }
        self.procs: dict[str, subprocess.Popen[str]] = {}

    def start(self, name: str, *args: str, secret: str | None = None) -> subprocess.Popen[str]:
        env = dict(self.env)
        if secret is not None:
            env["HOLOFLOW_DISTRIBUTED_SECRET"] = secret
        out_path, err_path = self.tmp_path / f"{name}.out", self.tmp_path / f"{name}.err"
        with out_path.open("w") as out, err_path.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, str(APP), *args, "--address", f"127.0.0.1:{self.port}"],
                cwd=self.tmp_path,
                env=env,
                stdout=out,
                stderr=err,
                text=True,
                start_new_session=True,
            )
        self.procs[name] = proc
        return proc

    def wait(self, name: str, timeout: float = 60) -> int:
        return self.procs[name].wait(timeout)

    def stdout(self, name: str) -> str:
        return (self.tmp_path / f"{name}.out").read_text()

    def stderr(self, name: str) -> str:
        return (self.tmp_path / f"{name}.err").read_text()

    def wait_for(self, name: str, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.stdout(name) + self.stderr(name):
            if time.monotonic() > deadline or self.procs[name].poll() is not None:
                raise AssertionError(f"{name} never printed {text!r}:\n{self.stderr(name)}")
            time.sleep(0.02)

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def cluster(tmp_path):
    made: list[Cluster] = []

    def make(**kwargs):
        made.append(Cluster(tmp_path, **kwargs))
        return made[-1]

    yield make
    for item in made:
        item.close()


def received(tmp_path: Path) -> list[int]:
    return json.loads((tmp_path / "rx.json").read_text())


@pytest.mark.parametrize("scheduler", ["greedy", "multi_thread", "event_based"])
def test_driver_and_worker_deliver_every_message_once_in_order(cluster, tmp_path, scheduler):
    run = cluster(HOLOSCAN_DISTRIBUTED_APP_SCHEDULER=scheduler)
    common = ("--count", "300", "--out", str(tmp_path / "rx.json"))
    run.start("driver", *common, "--driver", "--worker", "--fragments", "tx")
    run.start("worker", *common, "--worker", "--fragments", "rx")
    assert run.wait("worker") == 0, run.stderr("worker")
    assert run.wait("driver") == 0, run.stderr("driver")
    assert received(tmp_path) == list(range(300))
    for name in ("driver", "worker"):
        assert "error" not in run.stderr(name).lower(), run.stderr(name)
    assert "Fragment 'rx' => Worker" in run.stderr("driver")
    assert "All workers have finished execution" in run.stderr("driver")


@pytest.mark.parametrize("scheduler", ["greedy", "multi_thread", "event_based"])
def test_a_ping_pong_between_two_processes_delivers_each_message_once_and_ends(cluster, tmp_path, scheduler):
    """Each side waits for the other's message: under the greedy scheduler the idle fragment
    thread receives on the listener's socket itself. The run must still end by itself once the
    last credits are back (every process exits 0), with every message seen once, in order."""
    for attempt in range(3):  # the end of a run is racy: look at it more than once
        out = tmp_path / f"rx{attempt}.json"
        run = cluster(HOLOSCAN_DISTRIBUTED_APP_SCHEDULER=scheduler)
        common = ("--shape", "pingpong", "--count", "200", "--out", str(out))
        run.start("driver", *common, "--driver", "--worker", "--fragments", "tx")
        run.start("worker", *common, "--worker", "--fragments", "rx")
        assert run.wait("worker") == 0, run.stderr("worker")
        assert run.wait("driver") == 0, run.stderr("driver")
        assert json.loads(out.read_text()) == list(range(200))
        assert json.loads(Path(f"{out}.back").read_text()) == list(range(200))
        assert "All workers have finished execution" in run.stderr("driver")


@pytest.mark.parametrize("encrypt", ["0", "1"])
def test_three_processes_in_a_chain_with_arrays(cluster, tmp_path, encrypt):
    run = cluster(HOLOFLOW_DISTRIBUTED_ENCRYPT=encrypt)
    common = ("--shape", "chain3", "--count", "200", "--payload", "array", "--out", str(tmp_path / "rx.json"))
    run.start("driver", *common, "--driver")
    run.start("w_tx", *common, "--worker", "--fragments", "tx")
    run.start("w_mid", *common, "--worker", "--fragments", "mid")
    run.start("w_rx", *common, "--worker", "--fragments", "rx")
    for name in ("w_tx", "w_mid", "w_rx", "driver"):
        assert run.wait(name) == 0, run.stderr(name)
    assert received(tmp_path) == list(range(200))


def test_one_worker_may_run_every_fragment(cluster, tmp_path):
    run = cluster()
    common = ("--shape", "chain3", "--count", "50", "--out", str(tmp_path / "rx.json"))
    run.start("driver", *common, "--driver", "--worker", "--fragments", "all")
    assert run.wait("driver") == 0, run.stderr("driver")
    assert received(tmp_path) == list(range(50))


def test_a_killed_worker_stops_every_process_non_zero(cluster, tmp_path):
    run = cluster()
    common = ("--count", "100000", "--period-ms", "2")
    run.start("driver", *common, "--driver", "--worker", "--fragments", "tx")
    worker = run.start("worker", *common, "--worker", "--fragments", "rx")
    run.wait_for("worker", "RX_FIRST")
    killed = time.monotonic()
    os.killpg(worker.pid, signal.SIGKILL)
    assert run.wait("driver", timeout=10) != 0
    assert time.monotonic() - killed < 3.0
    assert "lost worker" in run.stderr("driver") or "disconnected" in run.stderr("driver")


def test_a_failing_fragment_fails_every_process_with_its_error(cluster, tmp_path):
    run = cluster()
    common = ("--count", "1000", "--fail-at", "5")
    run.start("driver", *common, "--driver", "--worker", "--fragments", "tx")
    run.start("worker", *common, "--worker", "--fragments", "rx")
    assert run.wait("worker") != 0
    assert run.wait("driver") != 0
    assert "ZeroDivisionError: division by zero" in run.stderr("worker")
    driver_err = run.stderr("driver")
    assert "ZeroDivisionError: division by zero" in driver_err
    assert "raised in fragment 'rx' on worker" in driver_err


def test_a_second_claim_on_a_fragment_is_refused_and_the_run_goes_on(cluster, tmp_path):
    run = cluster()
    common = ("--count", "100", "--out", str(tmp_path / "rx.json"))
    run.start("driver", *common, "--driver", "--worker", "--fragments", "tx")
    run.wait_for("driver", "Awaiting remaining worker connections")
    run.start("claim", *common, "--worker", "--fragments", "tx")
    assert run.wait("claim") != 0
    assert "already assigned" in run.stderr("claim")
    run.start("worker", *common, "--worker", "--fragments", "rx")
    assert run.wait("worker") == 0, run.stderr("worker")
    assert run.wait("driver") == 0, run.stderr("driver")
    assert received(tmp_path) == list(range(100))


def test_a_worker_without_the_secret_is_refused_quickly(cluster, tmp_path):
    run = cluster()
    run.start("driver", "--count", "10", "--driver", "--worker", "--fragments", "tx")
    run.wait_for("driver", "Awaiting remaining worker connections")
    started = time.monotonic()
    run.start("stranger", "--count", "10", "--worker", "--fragments", "rx", secret=secrets.token_hex(32))
    assert run.wait("stranger", timeout=30) != 0
    assert time.monotonic() - started < 15
    assert "do not share a secret" in run.stderr("stranger")
    assert run.procs["driver"].poll() is None  # still waiting for a real worker


def test_listeners_bind_loopback_only(cluster, tmp_path):
    run = cluster()
    run.start("driver", "--count", "10", "--driver", "--worker", "--fragments", "tx")
    run.wait_for("driver", "Awaiting remaining worker connections")
    ours = {
        line.split()[1]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[3] == "0A"  # LISTEN
    }
    port = f"{run.port:04X}"
    assert f"0100007F:{port}" in ours
    assert f"00000000:{port}" not in ours


def test_a_killed_driver_stops_every_worker_non_zero(cluster, tmp_path):
    run = cluster()
    common = ("--count", "100000", "--period-ms", "2")
    driver = run.start("driver", *common, "--driver")
    run.start("w_tx", *common, "--worker", "--fragments", "tx")
    run.start("w_rx", *common, "--worker", "--fragments", "rx")
    run.wait_for("w_rx", "RX_FIRST")
    killed = time.monotonic()
    os.killpg(driver.pid, signal.SIGKILL)
    for name in ("w_tx", "w_rx"):
        assert run.wait(name, timeout=10) != 0
        assert "lost the driver" in run.stderr(name), run.stderr(name)
    assert time.monotonic() - killed < 3.0


def test_a_compose_error_on_a_worker_fails_the_run_with_that_error(cluster, tmp_path):
    run = cluster()
    run.start("driver", "--compose-error", "--driver", "--worker", "--fragments", "tx")
    run.start("worker", "--compose-error", "--worker", "--fragments", "rx")
    assert run.wait("worker") != 0
    assert run.wait("driver") != 0
    assert "AttributeError: no such thing in rx's compose" in run.stderr("driver")
    assert "AttributeError: no such thing in rx's compose" in run.stderr("worker")


def test_a_bad_port_name_fails_every_process_with_holoscans_text(cluster, tmp_path):
    run = cluster()
    run.start("driver", "--bad-port", "--driver", "--worker", "--fragments", "tx")
    run.start("worker", "--bad-port", "--worker", "--fragments", "rx")
    assert run.wait("worker") != 0
    assert run.wait("driver") != 0
    text = "Source operator 'tx' in fragment 'tx' does not have a port named 'output'. It should be 'out'."
    assert text in run.stderr("driver")
    assert "GraphError" in run.stderr("worker")


def test_a_worker_started_first_waits_for_the_driver(cluster, tmp_path):
    run = cluster()
    common = ("--count", "20", "--out", str(tmp_path / "rx.json"))
    run.start("worker", *common, "--worker", "--fragments", "rx")
    time.sleep(1.0)
    run.start("driver", *common, "--driver", "--worker", "--fragments", "tx")
    assert run.wait("worker") == 0, run.stderr("worker")
    assert run.wait("driver") == 0, run.stderr("driver")
    assert received(tmp_path) == list(range(20))


def test_workers_must_agree_with_the_driver_on_encryption(cluster, tmp_path):
    run = cluster(HOLOFLOW_DISTRIBUTED_ENCRYPT="1")
    run.start("driver", "--count", "10", "--driver", "--worker", "--fragments", "tx")
    run.wait_for("driver", "Awaiting remaining worker connections")
    run.env["HOLOFLOW_DISTRIBUTED_ENCRYPT"] = "0"
    run.start("worker", "--count", "10", "--worker", "--fragments", "rx")
    assert run.wait("worker") != 0
    assert "HOLOFLOW_DISTRIBUTED_ENCRYPT is 0 on the worker" in run.stderr("worker")


def test_a_worker_lost_before_the_schedule_frees_its_fragment(cluster, tmp_path):
    run = cluster()
    common = ("--shape", "chain3", "--count", "20", "--out", str(tmp_path / "rx.json"))
    run.start("driver", *common, "--driver", "--worker", "--fragments", "tx")
    run.wait_for("driver", "1/3 fragments scheduled")
    early = run.start("early", *common, "--worker", "--fragments", "mid")
    run.wait_for("driver", "2/3 fragments scheduled")
    os.killpg(early.pid, signal.SIGKILL)
    run.wait_for("driver", "before the schedule was made")
    run.start("w_mid", *common, "--worker", "--fragments", "mid")
    run.start("w_rx", *common, "--worker", "--fragments", "rx")
    for name in ("w_mid", "w_rx", "driver"):
        assert run.wait(name) == 0, run.stderr(name)
    assert received(tmp_path) == list(range(20))


@pytest.mark.parametrize("window", ["1", "4"])
def test_small_windows_and_byte_budgets_still_deliver_everything(cluster, tmp_path, window):
    run = cluster(HOLOFLOW_EDGE_WINDOW=window, HOLOFLOW_EDGE_WINDOW_BYTES="4096")
    common = ("--count", "200", "--payload", "array", "--out", str(tmp_path / "rx.json"))
    run.start("driver", *common, "--driver", "--worker", "--fragments", "tx")
    run.start("worker", *common, "--worker", "--fragments", "rx")
    assert run.wait("worker") == 0, run.stderr("worker")
    assert run.wait("driver") == 0, run.stderr("driver")
    assert received(tmp_path) == list(range(200))
