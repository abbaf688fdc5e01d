"""The endoscopy tool tracking app: HoloHub's ``endoscopy_tool_tracking`` graph on holoflow."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from holoflow.apps._base import SampleApp, run_main
from holoflow.apps.sample_data import ENDOSCOPY, SampleRecording
from holoflow.operators import FormatConverterOp, InferenceOp, ToolTrackingPostprocessorOp

__all__ = ["EndoscopyToolTrackingApp", "main"]


class EndoscopyToolTrackingApp(SampleApp):
    """Track surgical instruments in an endoscopy video: tips, labels and mask overlays.

    Graph (as the original with the replayer and Holoviz)::

        replayer ─┬─► holoviz (HolovizOp: the video)
                  └─► format_converter (FormatConverterOp: u8 RGB → float32 0..255)
                        ─► lstm_inferer (InferenceOp: a convolutional LSTM; its state fed back)
                        ─► tool_tracking_postprocessor (ToolTrackingPostprocessorOp)
                        ─► holoviz (mask heat map, tip crosses, tool names)

    The operators are attributes (``replay``, ``converter``, ``inference``, ``postprocessor``,
    ``visualize``) so that a caller can tap the graph.
    """

    app_name: ClassVar[str] = "endoscopy_tool_tracking"
    recording: ClassVar[SampleRecording] = ENDOSCOPY
    default_config: ClassVar[Path] = Path(__file__).resolve().parent / "endoscopy_tool_tracking.yaml"

    def compose(self) -> None:
        self.replay = self.replayer("replayer")
        self.converter = FormatConverterOp(
            self, name="format_converter", **self.kwargs("format_converter_replayer")
        )
        self.inference = InferenceOp(self, name="lstm_inferer", **self.inference_kwargs("lstm_inference"))
        self.postprocessor = ToolTrackingPostprocessorOp(
            self, name="tool_tracking_postprocessor", **self.kwargs("tool_tracking_postprocessor")
        )
        self.visualize = self.visualizer("holoviz")
        self.add_flow(self.replay, self.converter, {("output", "source_video")})
        self.add_flow(self.replay, self.visualize, {("output", "receivers")})
        self.add_flow(self.converter, self.inference, {("tensor", "receivers")})
        self.add_flow(self.inference, self.postprocessor, {("transmitter", "in")})
        self.add_flow(self.postprocessor, self.visualize, {("out", "receivers")})


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m holoflow.apps.endoscopy_tool_tracking [--headless] [--output PATH] ...``"""
    return run_main(EndoscopyToolTrackingApp, argv)
