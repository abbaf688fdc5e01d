"""Shared fixtures: a fresh application and a check that no test leaves threads behind."""

from __future__ import annotations

import threading
import time

import pytest

from holoflow.core import Application


@pytest.fixture
def app() -> Application:
    return Application([])


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
