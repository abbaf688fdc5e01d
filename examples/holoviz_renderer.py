"""Draw layers offscreen with ``holoflow.viz.open_renderer``, without an application.

``open_renderer("auto", ...)`` draws with OpenGL through EGL when a context can be made here, else
with the numpy compositor (after one warning); both draw the same pixels. The layers are a grey
ramp, a round label map through a colour table, two tool boxes and their labels, drawn for a few
frames with the boxes moving. Pass a path to save the last frame as PNG (needs Pillow).

Usage::

    python examples/holoviz_renderer.py [frame.png]
"""

from __future__ import annotations

import sys

import numpy as np

from holoflow.viz import InputSpec, open_renderer

WIDTH, HEIGHT = 640, 360
COLOR_LUT = [[0.0, 0.0, 0.0, 0.0], [0.2, 0.63, 0.17, 0.7]]  # background (clear), organ


def main() -> None:
    rows, cols = np.mgrid[0:180, 0:320]
    ramp = np.repeat(((rows + cols) // 2).astype(np.uint8)[..., None], 3, axis=2)
    organ = (((rows - 90) ** 2 + (cols - 160) ** 2) < 60**2).astype(np.uint8)
    specs = [
        InputSpec("", "color"),
        InputSpec("organ", "color_lut"),
        InputSpec("boxes", "rectangles", color=(1.0, 0.2, 0.2, 1.0), line_width=2),
        InputSpec("labels", "text", color=(1.0, 1.0, 0.0, 1.0), text=("TOOL 1", "TOOL 2")),
    ]
    with open_renderer("auto", WIDTH, HEIGHT) as renderer:
        for step in range(3):
            shift = 0.05 * step
            boxes = np.array([[0.1, 0.1], [0.3, 0.4], [0.6, 0.55], [0.9, 0.9]], np.float32) + [shift, 0.0]
            labels = boxes[::2] + np.float32([0.0, -0.07])
            arrays = {"": ramp, "organ": organ, "boxes": boxes, "labels": labels}
            renderer.draw([(spec, arrays[spec.name]) for spec in specs], COLOR_LUT)
            frame = renderer.read()
            red = int(((frame[..., 0] == 255) & (frame[..., 1] < 60)).sum())
            print(f"frame {step}: {frame.shape[1]}x{frame.shape[0]} RGBA, {red} red box pixels")
        centre = frame[HEIGHT // 2, WIDTH // 2].tolist()
        print(f"drawn by {renderer.kind}; organ centre RGBA {centre}")
    if len(sys.argv) > 1:
        from PIL import Image

        Image.fromarray(frame).save(sys.argv[1])
        print(f"saved {sys.argv[1]}")


if __name__ == "__main__":
    main()
