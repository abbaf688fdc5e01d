"""Endoscopy tool tracking, run with the YAML file next to this script.

The app (holoflow.apps.endoscopy_tool_tracking) replays an endoscopy video, tracks the
instruments with a convolutional LSTM (its state carried from frame to frame) and draws their
tips, names and masks with HolovizOp. Edit ``endoscopy_tool_tracking.yaml`` here to change the
graph's parameters; the flags are the app's::

    python3 examples/endoscopy_tool_tracking/endoscopy_tool_tracking.py --headless --output tools.mp4
"""

import sys
from pathlib import Path

from holoflow.apps.endoscopy_tool_tracking import main

CONFIG = Path(__file__).resolve().with_suffix(".yaml")

if __name__ == "__main__":
    flags = sys.argv[1:]
    sys.exit(main(flags if "--config" in flags else ["--config", str(CONFIG), *flags]))
