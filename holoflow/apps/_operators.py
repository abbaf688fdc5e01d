"""The sample apps' helper operators: a timed replayer and a sink for rendered frames.

Both take an optional *tap*, a callable the latency tool (or any caller) hands them through
``SampleApp.tap_frames``: the replayer's sees every message before it is sent and may return a
changed one, the sink's sees every rendered frame. Without taps they do no extra work.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.apps._output import FrameWriter
from holoflow.apps._timing import FrameTimer
from holoflow.core import Operator
from holoflow.operators import VideoStreamReplayerOp
from holoflow.tensor import current_stream, to_host

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, Fragment, InputContext, OperatorSpec, OutputContext

__all__ = ["RenderedFrameSinkOp", "RenderedTap", "SourceTap", "TimedReplayerOp"]

SourceTap = Callable[[Any, int], Any]
"""``tap(message, started_ns) -> message``: called with each message the replayer emits and the
wall-clock time (``time.time_ns``) its ``compute`` began; what it returns is sent instead."""

RenderedTap = Callable[[np.ndarray, int], None]
"""``tap(frame, arrived_ns)``: called with each rendered frame (host RGBA uint8) and the
wall-clock time (``time.time_ns``) it reached the sink."""


class _StampingOutput:
    """An output context that tells the timer when a frame is emitted (and runs the tap)."""

    def __init__(
        self, inner: OutputContext, timer: FrameTimer, started_ns: int, tap: SourceTap | None, wall_ns: int
    ) -> None:
        self._inner, self._timer, self._started_ns = inner, timer, started_ns
        self._tap, self._wall_ns = tap, wall_ns

    def emit(self, value: Any, name: str = "", *args: Any, **kwargs: Any) -> None:
        if self._tap is not None:
            value = self._tap(value, self._wall_ns)
        self._timer.emitted(self._started_ns)
        self._inner.emit(value, name, *args, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._inner, attribute)


class TimedReplayerOp(VideoStreamReplayerOp):
    """``VideoStreamReplayerOp`` that stamps each frame it emits on a :class:`FrameTimer`.

    The stamp is taken as compute starts, so the latency covers reading the frame too.

    Attributes
    ----------
    source_tap : SourceTap or None
        Sees (and may replace) every message before it is emitted.
    """

    def __init__(self, fragment: Fragment, timer: FrameTimer, *args: Any, **kwargs: Any) -> None:
        self.timer = timer
        self.source_tap: SourceTap | None = None
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        tap = self.source_tap
        wall_ns = time.time_ns() if tap is not None else 0
        stamping: Any = _StampingOutput(op_output, self.timer, time.perf_counter_ns(), tap, wall_ns)
        super().compute(op_input, stamping, context)


class RenderedFrameSinkOp(Operator):
    """Receive HolovizOp's ``render_buffer_output`` on ``in``; time it, and write it if asked.

    Parameters
    ----------
    timer : FrameTimer
        Told when each frame arrives.
    writer : FrameWriter, optional
        Gets every frame (RGBA uint8), in order.

    Attributes
    ----------
    rendered_tap : RenderedTap or None
        Sees every frame, after the writer.
    """

    def __init__(
        self, fragment: Fragment, timer: FrameTimer, writer: FrameWriter | None, *args: Any, **kwargs: Any
    ) -> None:
        self.timer, self.writer = timer, writer
        self.last_frame: np.ndarray | None = None
        self.rendered_tap: RenderedTap | None = None
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("in")

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        with op_input.receive_array("in") as (xp, image):
            arrived_ns = time.time_ns()
            self.timer.finished()
            frame: np.ndarray = image if xp is np else to_host(image, current_stream())
        self.last_frame = frame
        if self.writer is not None:
            self.writer.write(frame)
        if self.rendered_tap is not None:
            self.rendered_tap(frame, arrived_ns)
