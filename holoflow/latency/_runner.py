"""``run_latency``: run an application for N frames under data-flow tracking, collect records."""

from __future__ import annotations

import inspect
import os
import platform
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from holoflow.apps import RunOptions
from holoflow.apps.sample_data import FRAME_RATE
from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application, DataFlowMetric, DataFlowTracker
from holoflow.core.run import check_gc_policy
from holoflow.errors import ConfigError
from holoflow.latency._endtoend import FrameStamper, RenderReader, end_to_end_records
from holoflow.latency._gcwatch import GCWatch
from holoflow.latency._records import tracker_records
from holoflow.latency._report import FORMATS, Report, write_report
from holoflow.latency._target import AppTarget, resolve_app
from holoflow.operators import HolovizOp
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler

__all__ = ["SCHEDULERS", "LatencyRun", "run_latency"]

SCHEDULERS = ("greedy", "event", "multi")
"""The schedulers ``run_latency`` can install: greedy, event-based, multi-thread."""

Progress = Callable[[int, int], None]


@dataclass
class LatencyRun:
    """The outcome of :func:`run_latency`: the records and what ran."""

    records: list[dict[str, Any]]
    """One per message and path (see ``holoflow.latency.RECORD_KEYS``), end-to-end ones last."""
    operator_times: dict[str, Any] | None
    """Compute and queue times per operator, when the tracker measures them."""
    info: dict[str, Any] = field(default_factory=dict)
    """What ran: ``app``, ``frames``, ``warmup``, ``fps``, ``scheduler``, ``end_to_end``,
    ``started``, ``wall_s``, ``host``, ``gc`` (the scheduler's ``gc_policy``, the garbage
    collector's collections while the app ran, see :class:`~holoflow.latency.GCWatch`, and under
    ``counted_frames`` those from the first counted frame's start to the last one's end) and,
    in end-to-end mode, ``end_to_end_frames``."""

    def report(self, directory: str | os.PathLike[str], formats: str | Iterable[str] = FORMATS) -> Report:
        """:func:`~holoflow.latency.write_report` of this run into ``directory``."""
        return write_report(
            self.records, directory, operator_times=self.operator_times, info=self.info, formats=formats
        )


def _check(frames: int, warmup: int, fps: float | None, scheduler: str | None) -> None:
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise ConfigError(f"frames must be a positive int, got {frames!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or not 0 <= warmup < frames:
        raise ConfigError(f"warmup must be an int from 0 to frames - 1 ({frames - 1}), got {warmup!r}")
    if fps is not None and not fps >= 0:
        raise ConfigError(f"fps must be >= 0 (0: unpaced), got {fps!r}")
    if scheduler is not None and scheduler not in SCHEDULERS:
        raise ConfigError(f"unknown scheduler {scheduler!r}; choose from {', '.join(SCHEDULERS)}")


def _build(target: AppTarget, frames: int, fps: float | None) -> Application:
    """The application, composed, set to send ``frames`` frames paced at ``fps``, headless."""
    if target.is_sample:
        options = RunOptions(
            headless=True, count=frames, realtime=fps != 0, frame_rate=fps or None, quiet=False
        )
        app = target.build(options)
        app.compose_graph()
        return app
    app = target.build()
    app.compose_graph()
    roots = app.graph.get_root_nodes()
    if not roots:
        raise ConfigError(f"{target.name}: the graph has no root operator to count frames at")
    for op in roots:  # the source's own conditions still apply: the stricter one wins
        op.add_arg(CountCondition(app, frames, name="latency_frames"))
        if fps:
            op.add_arg(PeriodicCondition(app, 1.0 / fps, name="latency_pacing"))
    for op in app.graph.get_nodes():
        if isinstance(op, HolovizOp) and not op.headless:
            op.add_arg(headless=True)
    return app


_SHORT_NAMES = {
    GreedyScheduler: "greedy",
    EventBasedScheduler: "event",
    MultiThreadScheduler: "multi",
}


def _install_scheduler(app: Application, scheduler: str | None, gc_policy: str | None) -> str:
    """Install ``scheduler`` (None: keep the app's) and set its ``gc_policy`` (None: keep it);
    returns the short name of the scheduler in use."""
    if scheduler == "greedy":
        app.scheduler(GreedyScheduler(app, name="latency_scheduler"))
    elif scheduler in ("event", "multi"):
        workers = max(2, min(4, os.cpu_count() or 2))
        if scheduler == "event":
            app.scheduler(EventBasedScheduler(app, worker_thread_number=workers, name="latency_scheduler"))
        else:
            app.scheduler(MultiThreadScheduler(app, worker_thread_number=workers, name="latency_scheduler"))
    if gc_policy is not None:
        app.scheduler().gc_policy = gc_policy
    kind = type(app.scheduler())
    return _SHORT_NAMES.get(kind, kind.__name__)


def _track(app: Application, warmup: int) -> DataFlowTracker:
    """Track every message; with per-message records the warm-up is the tracker's skip count,
    otherwise nothing is skipped so that the warm-up can still be shown."""
    if callable(getattr(DataFlowTracker, "records", None)):
        kwargs: dict[str, Any] = {}
        if "operator_timing" in inspect.signature(app.track).parameters:
            kwargs["operator_timing"] = True
        return app.track(warmup, 0, **kwargs)
    return app.track(0, 0)


class _Poller:
    """Redraws ``progress`` with the frames the sources sent, from a thread, until stopped."""

    def __init__(self, tracker: DataFlowTracker, frames: int, progress: Progress) -> None:
        self._tracker, self._frames, self._progress = tracker, frames, progress
        self._stop = threading.Event()
        self._shown = -1
        self._thread = threading.Thread(target=self._loop, name="latency-progress", daemon=True)

    def done(self) -> int:
        sent = self._tracker.get_metric(DataFlowMetric.NUM_SRC_MESSAGES)
        return min(max(sent.values(), default=0), self._frames)

    def _show(self) -> None:
        done = self.done()
        if done != self._shown and done > 0:
            self._shown = done
            self._progress(done, self._frames)

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            self._show()

    def __enter__(self) -> _Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._show()


def run_latency(
    app: str | type[Application],
    *,
    frames: int = 300,
    fps: float | None = None,
    warmup: int = 30,
    scheduler: str | None = None,
    end_to_end: bool = False,
    gc_policy: str | None = None,
    progress: Progress | None = None,
) -> LatencyRun:
    """Run ``app`` headless for ``frames`` frames under data-flow tracking; return its records.

    Parameters
    ----------
    app : str or Application subclass
        What :func:`~holoflow.latency.resolve_app` takes: a sample app's name,
        ``script.py[:Class]``, ``package.module:Class``, or the class.
    frames : int
        Frames the source sends (a sample app's replayer count; for another app a
        ``CountCondition`` on each root operator).
    fps : float, optional
        Pace the source at this rate; 0: as fast as the graph runs (sample apps); None: the
        app's own pacing (a sample app's config: the recording's 30 fps). For an app that is
        not a sample app, a ``PeriodicCondition`` on each root operator.
    warmup : int
        Each path's first messages, left out of the numbers (shown as warm-up).
    scheduler : {"greedy", "event", "multi"}, optional
        Install this scheduler (two to four workers for the threaded ones); None: the app's.
    end_to_end : bool
        Also measure source frame to rendered frame by frame id (path
        ``"end-to-end (rendered)"``); the app must offer ``tap_frames(source=, rendered=)``
        as the sample apps do.
    gc_policy : {"freeze", "none"}, optional
        The scheduler's garbage-collection policy for this run (None: the scheduler's own,
        ``"freeze"`` unless the app set another).
    progress : callable, optional
        Called as ``progress(frames_sent, frames)`` from another thread while the app runs,
        and once more at the end.

    Returns
    -------
    LatencyRun

    Raises
    ------
    holoflow.errors.ConfigError
        For bad arguments, an app that cannot be found or built, or end-to-end mode on an app
        without ``tap_frames`` or a source message with no image.
    Exception
        Whatever the app's run raised.
    """
    _check(frames, warmup, fps, scheduler)
    if gc_policy is not None:
        check_gc_policy(gc_policy, "run_latency")
    target = resolve_app(app)
    built = _build(target, frames, fps)
    stamper = reader = None
    if end_to_end:
        tap = getattr(built, "tap_frames", None)
        if not callable(tap):
            raise ConfigError(
                f"{target.name}: end-to-end mode needs an app with tap_frames(source=, rendered=), "
                "as holoflow.apps.SampleApp has"
            )
        stamper, reader = FrameStamper(), RenderReader()
        tap(source=stamper, rendered=reader)
    scheduler_name = _install_scheduler(built, scheduler, gc_policy)
    tracker = _track(built, warmup)
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    with GCWatch() as watch:
        if progress is None:
            built.run()
        else:
            with _Poller(tracker, frames, progress):
                built.run()
    wall = time.perf_counter() - clock
    records = tracker_records(tracker, warmup)
    info: dict[str, Any] = {
        "app": target.name,
        "frames": frames,
        "warmup": warmup,
        "fps": fps if fps is not None else (FRAME_RATE if target.is_sample else None),
        "scheduler": scheduler_name,
        "end_to_end": end_to_end,
        "started": started.isoformat(timespec="seconds"),
        "wall_s": round(wall, 3),
        "host": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "gc": {"policy": getattr(built.scheduler(), "gc_policy", None), **watch.summary()},
    }
    counted = [(r["start_ns"], r["end_ns"]) for r in records if r["counted"] and r["start_ns"] is not None]
    if counted:
        window = (min(a for a, _ in counted), max(b for _, b in counted))
        during = watch.summary(window)
        del during["events"]
        info["gc"]["counted_frames"] = during
    if stamper is not None and reader is not None:
        e2e, counts = end_to_end_records(stamper, reader, warmup)
        records += e2e
        info["end_to_end_frames"] = counts
    operator_times = None
    times_of = getattr(tracker, "operator_times", None)
    if callable(times_of):
        operator_times = times_of()
    return LatencyRun(records, operator_times, info)
