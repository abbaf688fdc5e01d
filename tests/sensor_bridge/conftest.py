"""Fixtures: an emulated device on its own 127.x.y.z address, and a started controller for it."""

from __future__ import annotations

import pytest

from holoflow.sensor_bridge import Hololink, Timeout
from holoflow.testing import HSBEmulator, random_loopback_ip


def make_emulator(**kwargs) -> HSBEmulator:
    """A started emulator on a fresh loopback address (retrying if the address is taken)."""
    kwargs.setdefault("announce_to", None)
    for _ in range(5):
        emulator = HSBEmulator(random_loopback_ip(), **kwargs)
        try:
            emulator.start()
        except OSError:
            continue
        return emulator
    raise RuntimeError("no free loopback address for the emulator")


@pytest.fixture
def emulator():
    device = make_emulator()
    yield device
    device.stop()


@pytest.fixture
def hololink(emulator):
    controller = Hololink(emulator.ip, emulator.control_port, timeout=Timeout(0.5, 0.1))
    controller.start(Timeout(2.0, 0.1))
    yield controller
    controller.stop()
    Hololink.reset_framework()
