"""``GCWatch``: the garbage collector's collections while an app runs, with their pauses."""

from __future__ import annotations

import gc
import time
from typing import Any

__all__ = ["GCWatch"]

_GENERATIONS = 3


class GCWatch:
    """Notes every collection of Python's garbage collector between ``__enter__`` and
    ``__exit__`` (through ``gc.callbacks``): its generation, when it began (wall clock, as the
    latency records) and how long it paused the program.

    ::

        with GCWatch() as watch:
            app.run()
        watch.summary()  # {"collections": [n0, n1, n2], "pause_ms_max": [...], ...}
    """

    def __init__(self) -> None:
        self.events: list[tuple[int, int, int]] = []
        """``(generation, began_ns, pause_ns)`` per collection; ``began_ns`` is ``time.time_ns``."""
        self._began = (0, 0)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = (time.time_ns(), time.perf_counter_ns())
        else:
            wall, clock = self._began
            self.events.append((int(info["generation"]), wall, time.perf_counter_ns() - clock))

    def __enter__(self) -> GCWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self, between: tuple[int, int] | None = None) -> dict[str, Any]:
        """``collections``, ``pause_ms_max`` and ``pause_ms_total``, each a list by generation
        (0, 1, 2), and ``events``: ``[generation, began_ns, pause_ms]`` per collection; with
        ``between`` (wall-clock ns, both ends included), of the collections that began then."""
        events = self.events
        if between is not None:
            events = [e for e in events if between[0] <= e[1] <= between[1]]
        counts = [0] * _GENERATIONS
        longest = [0.0] * _GENERATIONS
        total = [0.0] * _GENERATIONS
        for generation, _began, pause_ns in events:
            pause = pause_ns / 1e6
            counts[generation] += 1
            longest[generation] = max(longest[generation], pause)
            total[generation] += pause
        return {
            "collections": counts,
            "pause_ms_max": [round(v, 3) for v in longest],
            "pause_ms_total": [round(v, 3) for v in total],
            "events": [[g, began, round(p / 1e6, 3)] for g, began, p in events],
        }
