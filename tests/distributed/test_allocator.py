"""A worker's allocator keeps the memory of freed messages: measured as page faults in a fresh
process that allocates and frees rounds of twenty 1 MiB arrays, as a receiver of 1 MiB messages
does."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="tunes glibc's malloc only"
)

_ROUNDS = """
import resource
import numpy as np
from holoflow.distributed._allocator import keep_message_memory

tuned = keep_message_memory()

def rounds():
    for _ in range(30):
        live = [np.ones(1 << 17) for _ in range(20)]
        del live

rounds()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds()
print(tuned, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(**env: str) -> tuple[str, int]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "HOLOFLOW_TUNE"))}
    result = subprocess.run(
        [sys.executable, "-c", _ROUNDS],
        env={**environ, "PYTHONPATH": path, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    tuned, faults = result.stdout.split()
    return tuned, int(faults)


def test_freed_message_memory_is_reused():
    tuned, faults = _faults()
    untuned, untuned_faults = _faults(HOLOFLOW_TUNE_MALLOC="0")
    assert (tuned, untuned) == ("True", "False")
    # 600 MiB allocated and written per measurement: 153,600 pages if none were reused.
    assert faults < 2_000 and untuned_faults > 50 * max(faults, 100), (faults, untuned_faults)


def test_the_users_own_malloc_settings_stand():
    tuned, _ = _faults(MALLOC_TRIM_THRESHOLD_="1048576")
    assert tuned == "False"
