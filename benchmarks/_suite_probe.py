"""A pytest plugin for ``device_gpu.py``'s suite stage: what each test costs, and what freezes.

Loaded with ``-p _suite_probe`` (``benchmarks`` on ``sys.path``) and ``$HOLOFLOW_SUITE_PROBE``
naming a JSON-lines file, it appends as the run goes (so a run stopped at its time limit still
leaves its record):

- ``{"test": nodeid, "s": seconds}`` per test (setup, call and teardown together);
- ``{"frozen": count, "after": nodeid, "holders": n}`` once, after the first test that ends with
  more objects in the collector's permanent generation than the interpreter keeps there
  (``holders``: holoflow runs holding a freeze);
- ``{"freeze_from": [...]}`` for each of the first 20 ``gc.freeze()`` calls: the innermost
  frames of the call, file and line.
"""

from __future__ import annotations

import gc
import json
import os
import traceback
from typing import Any

_PATH = os.environ.get("HOLOFLOW_SUITE_PROBE", "")
_seconds: dict[str, float] = {}
_state = {"frozen_seen": False, "freezes": 0}


def _write(record: dict[str, Any]) -> None:
    with open(_PATH, "a", encoding="utf-8") as file:
        file.write(json.dumps(record) + "\n")


def _logged_freeze(freeze: Any) -> Any:
    def wrapper() -> None:
        if _state["freezes"] < 20:
            _state["freezes"] += 1
            frames = traceback.extract_stack(limit=6)[:-1]
            _write({"freeze_from": [f"{frame.filename}:{frame.lineno}" for frame in frames]})
        freeze()

    return wrapper


def pytest_configure(config: Any) -> None:
    if _PATH:
        gc.freeze = _logged_freeze(gc.freeze)


def pytest_runtest_logreport(report: Any) -> None:
    if _PATH:
        _seconds[report.nodeid] = _seconds.get(report.nodeid, 0.0) + report.duration


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    if not _PATH:
        return
    _write({"test": nodeid, "s": round(_seconds.pop(nodeid, 0.0), 4)})
    if not _state["frozen_seen"]:
        from holoflow.core import _gc_policy

        count = gc.get_freeze_count()  # walks the frozen objects: checked until they first appear
        if count > _gc_policy._INTERPRETER_FROZEN:
            _state["frozen_seen"] = True

            _write({"frozen": count, "after": nodeid, "holders": _gc_policy._holders})
