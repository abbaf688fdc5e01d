"""``Tracker``: the context manager that turns on data-flow tracking for an application."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from holoflow.core._application import Application
    from holoflow.core._tracking import DataFlowTracker

__all__ = ["Tracker"]


class Tracker:
    """Track ``app``'s data flow inside a ``with`` block (Holoscan's ``Tracker``).

    ``with Tracker(app) as tracker: app.run(); tracker.print()``. Entering calls
    ``app.track(...)`` (``app.track_distributed(...)`` for an application of several fragments,
    and then the block gets a dict of trackers by fragment name); with ``filename`` each tracker
    logs every message's paths to it, and leaving the block writes and closes the log.

    Parameters
    ----------
    app : Application
        The application to track.
    filename : str or None
        The log file; ``None`` logs nothing.
    num_buffered_messages : int
        Log entries buffered between writes.
    num_start_messages_to_skip, num_last_messages_to_discard, latency_threshold, is_limited_tracking
        As :meth:`Fragment.track`.
    sample_every, operator_timing
        holoflow's, as :meth:`Fragment.track`: track every ``sample_every``-th root compute
        only; keep hop, compute and queue times.
    """

    def __init__(
        self,
        app: Application,
        *,
        filename: str | None = None,
        num_buffered_messages: int = 100,
        num_start_messages_to_skip: int = 10,
        num_last_messages_to_discard: int = 10,
        latency_threshold: int = 0,
        is_limited_tracking: bool = False,
        sample_every: int = 1,
        operator_timing: bool = False,
    ) -> None:
        self.app = app
        app.compose_graph()
        self.is_distributed_app = len(app.fragment_graph.get_nodes()) > 0
        self.filename = filename
        self.num_buffered_messages = num_buffered_messages
        self.tracker_kwargs = {
            "num_start_messages_to_skip": num_start_messages_to_skip,
            "num_last_messages_to_discard": num_last_messages_to_discard,
            "latency_threshold": latency_threshold,
            "is_limited_tracking": is_limited_tracking,
        }
        self.sample_every = sample_every
        self.operator_timing = operator_timing
        self._trackers: list[DataFlowTracker] = []

    def __enter__(self) -> DataFlowTracker | dict[str, DataFlowTracker]:
        kw = self.tracker_kwargs
        skip, discard = int(kw["num_start_messages_to_skip"]), int(kw["num_last_messages_to_discard"])
        threshold, limited = int(kw["latency_threshold"]), bool(kw["is_limited_tracking"])
        result: DataFlowTracker | dict[str, DataFlowTracker]
        every, timing = int(self.sample_every), bool(self.operator_timing)
        if self.is_distributed_app:
            result = self.app.track_distributed(
                skip, discard, threshold, limited, sample_every=every, operator_timing=timing
            )
            self._trackers = list(result.values())
        else:
            result = self.app.track(
                skip, discard, threshold, limited, sample_every=every, operator_timing=timing
            )
            self._trackers = [result]
        if self.filename is not None:
            for tracker in self._trackers:
                tracker.enable_logging(self.filename, self.num_buffered_messages)
        return result

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Also for logging turned on by hand (tracker.enable_logging in the block, as Holoscan's
        # ping_distributed does): what is still buffered is written when the block ends.
        for tracker in self._trackers:
            tracker.end_logging()
