"""Shared fixtures: a fresh application, schedulers, sample data, an emulated sensor-bridge device,
and a check that no test leaves threads behind."""

from __future__ import annotations

import os

# OpenBLAS's worker threads spin for ~0.1 s after each call: the tests that check an idle graph
# uses no CPU would measure that spin after any test that multiplied matrices. One BLAS thread
# has no worker to spin (set before numpy is first imported).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import threading
import time

import pytest
from hypothesis import HealthCheck, settings

from holoflow.core import Application
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler

# What the property tests assert is behaviour, not speed: a full garbage collection over a large
# heap (a GPU machine's torch, CuPy and JAX) or a busy machine can stall one draw for a second,
# which Hypothesis would otherwise report as a failure.
settings.register_profile("holoflow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("holoflow")

SCHEDULERS = {
    "greedy": lambda app, **kw: GreedyScheduler(app, **kw),
    "multi": lambda app, **kw: MultiThreadScheduler(app, worker_thread_number=2, **kw),
    "event": lambda app, **kw: EventBasedScheduler(app, worker_thread_number=2, **kw),
}


@pytest.fixture
def app() -> Application:
    return Application([])


@pytest.fixture(params=sorted(SCHEDULERS))
def scheduler_kind(request) -> str:
    """Runs a test once per scheduler kind."""
    return request.param


@pytest.fixture
def use_scheduler(scheduler_kind):
    """``use_scheduler(app, **kwargs)`` installs a scheduler of the current kind on ``app``."""

    def install(app, **kwargs):
        return app.scheduler(SCHEDULERS[scheduler_kind](app, **kwargs))

    return install


@pytest.fixture(autouse=True)
def fresh_once_warnings(monkeypatch):
    """Every test starts as a fresh process would: warnings shown once per process (the CPU
    fallbacks) are shown again, so a test sees them whatever ran before it."""
    from holoflow import _helpers

    monkeypatch.setattr(_helpers, "_warned", set())


@pytest.fixture(autouse=True)
def no_leaked_threads():
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked:
            return
        time.sleep(0.01)
    pytest.fail(f"threads left running after the test: {leaked}")


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory):
    """A data folder holding both sample apps' recordings and ground truth (generated once)."""
    from holoflow.apps.sample_data import ENDOSCOPY, ULTRASOUND, ensure

    folder = tmp_path_factory.mktemp("sample_data")
    for recording in (ULTRASOUND, ENDOSCOPY):
        ensure(recording, folder, stream=None)
    return folder


@pytest.fixture
def emulated_channel():
    """``emulated_channel(frames, fps)`` starts a sensor-bridge emulator streaming ``frames`` on
    its own loopback address and returns ``(emulator, DataChannel)``; stopped after the test."""
    from holoflow.sensor_bridge import DataChannel, Hololink
    from holoflow.testing import HSBEmulator, random_loopback_ip

    started = []

    def start(frames, fps):
        emulator = HSBEmulator(random_loopback_ip(), announce_to=None, frames=frames, fps=fps)
        emulator.start()
        hololink = Hololink(emulator.ip)
        hololink.start()
        started.append((emulator, hololink))
        return emulator, DataChannel(emulator.channel_metadata(), hololink)

    yield start
    for emulator, hololink in started:
        hololink.stop()
        emulator.stop()
    if started:
        Hololink.reset_framework()


@pytest.fixture
def make_gpu(monkeypatch):
    """Installs the fake CuPy of ``tests/_fake_cupy.py`` for the test; call it for a fake GPU."""
    from ._fake_cupy import fake_cupy_session

    with fake_cupy_session(monkeypatch) as make:
        yield make


@pytest.fixture
def gpu(make_gpu):
    """A fake GPU (``tests/_fake_cupy.py``) whose log records every stream, event and wait."""
    return make_gpu()
