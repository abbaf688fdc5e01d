"""Composite a frame the way HolovizOp does, in numpy: image, LUT overlay, boxes, crosses, text.

The layers are what the ultrasound segmentation app draws (a grey frame, a label map through the
app's colour table) plus tool boxes and tips. Pass a path to save the frame as PNG (needs Pillow).

Usage::

    python examples/software_compositor.py [frame.png]
"""

from __future__ import annotations

import sys

import numpy as np

from holoflow.viz import InputSpec, composite

WIDTH, HEIGHT = 854, 480
COLOR_LUT = [[0.65, 0.81, 0.89, 0.1], [0.2, 0.63, 0.17, 0.7]]  # background, organ


def main() -> None:
    rows, cols = np.mgrid[0:256, 0:256]
    frame = np.repeat(((rows + cols) // 2).astype(np.uint8)[..., None], 3, axis=2)
    labels = (((rows - 128) ** 2 + (cols - 128) ** 2) < 60**2).astype(np.uint8)
    boxes = np.array([[0.1, 0.1], [0.3, 0.4], [0.6, 0.55], [0.9, 0.9]], np.float32)
    tips = np.array([[0.2, 0.25], [0.75, 0.72]], np.float32)
    layers = [
        (InputSpec("", "color"), frame),
        (InputSpec("out_tensor", "color_lut"), labels),
        (InputSpec("boxes", "rectangles", color=(1.0, 0.2, 0.2, 1.0), line_width=2), boxes),
        (InputSpec("tips", "crosses", color=(1.0, 1.0, 0.0, 1.0), line_width=2, priority=1), tips),
        (InputSpec("labels", "text", text=("TOOL 1", "TOOL 2")), boxes[::2] + [0.0, -0.06]),
    ]
    rgba = composite(layers, WIDTH, HEIGHT, color_lut=COLOR_LUT)
    print(f"rendered {rgba.shape[1]}x{rgba.shape[0]} RGBA")
    print(f"organ centre RGBA: {rgba[HEIGHT // 2, WIDTH // 2].tolist()}")
    if len(sys.argv) > 1:
        from PIL import Image

        Image.fromarray(rgba).save(sys.argv[1])
        print(f"saved {sys.argv[1]}")


if __name__ == "__main__":
    main()
