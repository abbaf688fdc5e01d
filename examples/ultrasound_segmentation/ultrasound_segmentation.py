"""Ultrasound bone segmentation, run with the YAML file next to this script.

The app (holoflow.apps.ultrasound_segmentation) replays a B-mode scan of a spine, segments the
bone surface with a small U-Net and overlays it with HolovizOp. Edit
``ultrasound_segmentation.yaml`` here to change the graph's parameters; the flags are the app's::

    python3 examples/ultrasound_segmentation/ultrasound_segmentation.py --headless --output us.mp4
"""

import sys
from pathlib import Path

from holoflow.apps.ultrasound_segmentation import main

CONFIG = Path(__file__).resolve().with_suffix(".yaml")

if __name__ == "__main__":
    flags = sys.argv[1:]
    sys.exit(main(flags if "--config" in flags else ["--config", str(CONFIG), *flags]))
