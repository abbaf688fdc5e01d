"""``SampleApp``: what the sample apps share around their graphs.

A sample app is an :class:`~holoflow.core.Application` whose ``compose`` builds Holoscan's graph
from a YAML file laid out like the original's. This base class supplies the parts every app has
at its edges: the sample recording (generated on first use), the replayer (timed, with the
command line's frame count and pacing), the shipped model for the chosen backend, HolovizOp
(headless, or in a window) and the sink that times and writes the rendered frames.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from holoflow.apps._models import MODELS, model_path
from holoflow.apps._operators import RenderedFrameSinkOp, RenderedTap, SourceTap, TimedReplayerOp
from holoflow.apps._options import RunOptions, parse_options
from holoflow.apps._output import FrameWriter
from holoflow.apps._recordings import FRAME_RATE, SampleRecording, data_directory, ensure
from holoflow.apps._timing import FrameTimer, TimingSummary
from holoflow.core import Application
from holoflow.errors import ConfigError, HoloflowError
from holoflow.operators import HolovizOp

__all__ = ["SampleApp", "run_main"]


class SampleApp(Application):
    """Base of the sample apps.

    Parameters
    ----------
    options : RunOptions, optional
        How to run (default: headless, one pass of the recording, the config's backend).

    Attributes
    ----------
    backend : str
        The inference backend in use (once composed).
    timer : FrameTimer
        Latency of every frame that reached the sink.
    sink : RenderedFrameSinkOp or None
        The operator receiving rendered frames (``sink.last_frame``), once composed.
    """

    app_name: ClassVar[str] = ""
    recording: ClassVar[SampleRecording]
    default_config: ClassVar[Path]

    def __init__(self, options: RunOptions | None = None) -> None:
        super().__init__([""])
        self.options = options if options is not None else RunOptions(headless=True)
        self.timer = FrameTimer()
        self.sink: RenderedFrameSinkOp | None = None
        self.backend = self.options.backend or ""
        self._source: TimedReplayerOp | None = None
        self._taps: tuple[SourceTap | None, RenderedTap | None] = (None, None)
        self._writer: FrameWriter | None = None
        config = self.options.config or self.default_config
        if not Path(config).is_file():
            raise ConfigError(f"{self.app_name}: config file not found: {config}")
        self.config(str(config))
        self.data_folder = data_directory(self.options.data)

    # -- pieces for compose -----------------------------------------------------------------------
    def replayer(self, key: str = "replayer", **kwargs: Any) -> TimedReplayerOp:
        """The replayer configured by ``key`` and the command line; it plays the sample recording
        unless the config names another (``directory`` and ``basename``)."""
        settings = {**self.kwargs(key), **kwargs}
        settings["basename"] = settings.get("basename") or self.recording.basename
        settings["directory"] = str(settings.get("directory") or self.data_folder)
        count = self.options.count
        if count:
            settings["count"] = count
            settings["repeat"] = bool(settings.get("repeat", False)) or count > self.recording.frames
        elif self.options.headless:  # one pass of the recording
            settings["count"], settings["repeat"] = 0, False
        realtime = self.options.realtime
        if realtime is None and self.options.headless:
            realtime = False
        if realtime is not None:
            settings["realtime"] = realtime
        if self.options.frame_rate:
            settings["frame_rate"] = self.options.frame_rate
        self._source = TimedReplayerOp(self, self.timer, name=key, **settings)
        self._source.source_tap = self._taps[0]
        return self._source

    def inference_kwargs(self, key: str) -> dict[str, Any]:
        """The InferenceOp arguments under ``key``, with the backend from the command line and
        each ``model_path_map`` entry that is a bare model name resolved to the shipped file."""
        settings = self.kwargs(key)
        backend = self.options.backend or str(settings.get("backend") or "onnxrt")
        settings["backend"] = self.backend = backend
        paths = {}
        for model, value in dict(settings.get("model_path_map", {})).items():
            paths[model] = self._model_file(str(value), backend)
        settings["model_path_map"] = paths
        return settings

    def _model_file(self, value: str, backend: str) -> str:
        if Path(value).suffix or "/" in value:
            return value  # a path given by the user's config
        path = model_path(value, backend, MODELS)
        if backend == "trt":  # TensorRT caches its engine next to the model: use a writable copy
            engines = self.data_folder / "engines"
            engines.mkdir(parents=True, exist_ok=True)
            copy = engines / path.name
            if not copy.is_file() or copy.stat().st_size != path.stat().st_size:
                shutil.copyfile(path, copy)
            path = copy
        return str(path)

    def visualizer(self, key: str = "holoviz", **kwargs: Any) -> HolovizOp:
        """HolovizOp configured by ``key``, headless or windowed as asked, its rendered frames
        going to :attr:`sink` when headless or writing an output."""
        settings = {**self.kwargs(key), **kwargs}
        settings["headless"] = bool(self.options.headless or settings.get("headless", False))
        record = settings["headless"] or self.options.output is not None
        settings["enable_render_buffer_output"] = record
        holoviz = HolovizOp(self, name=key, **settings)
        if record:
            self.sink = RenderedFrameSinkOp(self, self.timer, self._writer, name="rendered_frames")
            self.sink.rendered_tap = self._taps[1]
            self.add_flow(holoviz, self.sink, {("render_buffer_output", "in")})
        return holoviz

    def tap_frames(self, source: SourceTap | None = None, rendered: RenderedTap | None = None) -> None:
        """Hand every frame the replayer emits to ``source`` and every rendered frame to
        ``rendered`` (the latency tool's end-to-end mode uses this); ``None`` removes a tap.

        ``source(message, started_ns)`` gets the replayer's message (a dict of arrays by tensor
        name) and the wall-clock time (``time.time_ns``) its ``compute`` began, and returns the
        message to send. ``rendered(frame, arrived_ns)`` gets each rendered frame (host RGBA
        uint8) and the wall-clock time it reached the sink. Call before or after composing,
        before :meth:`run`.

        Raises
        ------
        holoflow.errors.ConfigError
            From :meth:`run`, when ``rendered`` is set and no frame is rendered to a sink (the
            app runs in a window without ``--output``).
        """
        self._taps = (source, rendered)
        if self._source is not None:
            self._source.source_tap = source
        if self.sink is not None:
            self.sink.rendered_tap = rendered

    # -- running ----------------------------------------------------------------------------------
    def run(self) -> None:
        """Generate the sample recording if the config plays it and it is missing, then run the
        graph (writing the output)."""
        replayer = self.kwargs("replayer") if "replayer" in self.config_keys() else {}
        if not replayer.get("directory") and replayer.get("basename", self.recording.basename) == (
            self.recording.basename
        ):
            ensure(self.recording, self.data_folder, stream=None if self.options.quiet else sys.stderr)
        self.compose_graph()
        if self._taps[1] is not None and self.sink is None:
            raise ConfigError(
                f"{self.app_name}: a rendered-frame tap needs rendered frames; run headless or with an output"
            )
        self.timer.reset()
        self._writer = FrameWriter(self.options.output, FRAME_RATE) if self.options.output else None
        if self.sink is not None:  # composed by an earlier run
            self.sink.writer = self._writer
        try:
            super().run()
        finally:
            if self._writer is not None:
                self._writer.close()

    def summary(self) -> TimingSummary | None:
        """Frame latency and rate of the last run (None if no frame was rendered to the sink)."""
        return self.timer.summary()

    @property
    def frames_written(self) -> int:
        """Frames the last run wrote to ``--output`` (0 without one)."""
        return self._writer.frames if self._writer is not None else 0


def run_main(app_class: type[SampleApp], argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run ``app_class`` and print the summary; returns the exit status."""
    description = (app_class.__doc__ or app_class.app_name).strip().splitlines()[0]
    options = parse_options(f"python -m holoflow.apps.{app_class.app_name}", description, argv)
    try:
        app = app_class(options)
        app.run()
    except (HoloflowError, ImportError, OSError) as exc:
        print(f"{app_class.app_name}: error: {exc}", file=sys.stderr)
        return 2
    summary = app.summary()
    if not options.quiet:
        if summary is not None:
            print(f"{app_class.app_name} ({app.backend}): {summary.line()}")
        if options.output is not None:
            print(f"wrote {app.frames_written} frames to {options.output}")
    return 0
