"""The ultrasound segmentation app: HoloHub's ``ultrasound_segmentation`` graph on holoflow."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from holoflow.apps._base import SampleApp, run_main
from holoflow.apps.sample_data import ULTRASOUND, SampleRecording
from holoflow.operators import FormatConverterOp, InferenceOp, SegmentationPostprocessorOp

__all__ = ["UltrasoundSegmentationApp", "main"]


class UltrasoundSegmentationApp(SampleApp):
    """Segment the bone surface in a B-mode ultrasound scan of a spine and overlay it.

    Graph (as the original, replayer mode)::

        replayer ─┬─► segmentation_visualizer (HolovizOp)
                  └─► segmentation_preprocessor (FormatConverterOp: u8 RGB → float32 [0, 1])
                        ─► segmentation_inference_holoinfer (InferenceOp: U-Net, NHWC in, NCHW out)
                        ─► segmentation_postprocessor (argmax → uint8 labels)
                        ─► segmentation_visualizer (labels drawn through the colour table)

    The operators are attributes (``replayer``, ``preprocessor``, ``inference``,
    ``postprocessor``, ``visualizer``) so that a caller can tap the graph.
    """

    app_name: ClassVar[str] = "ultrasound_segmentation"
    recording: ClassVar[SampleRecording] = ULTRASOUND
    default_config: ClassVar[Path] = Path(__file__).resolve().parent / "ultrasound_segmentation.yaml"

    def compose(self) -> None:
        self.replay = self.replayer("replayer")
        self.preprocessor = FormatConverterOp(
            self, name="segmentation_preprocessor", **self.kwargs("segmentation_preprocessor")
        )
        self.inference = InferenceOp(
            self,
            name="segmentation_inference_holoinfer",
            **self.inference_kwargs("segmentation_inference_holoinfer"),
        )
        self.postprocessor = SegmentationPostprocessorOp(
            self, name="segmentation_postprocessor", **self.kwargs("segmentation_postprocessor")
        )
        self.visualize = self.visualizer("segmentation_visualizer")
        self.add_flow(self.replay, self.visualize, {("output", "receivers")})
        self.add_flow(self.replay, self.preprocessor, {("output", "source_video")})
        self.add_flow(self.preprocessor, self.inference, {("tensor", "receivers")})
        self.add_flow(self.inference, self.postprocessor, {("transmitter", "in_tensor")})
        self.add_flow(self.postprocessor, self.visualize, {("out_tensor", "receivers")})


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m holoflow.apps.ultrasound_segmentation [--headless] [--output PATH] ...``"""
    return run_main(UltrasoundSegmentationApp, argv)
