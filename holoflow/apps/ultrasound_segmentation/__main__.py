"""Run the ultrasound segmentation app from the command line."""

import sys

from holoflow.apps.ultrasound_segmentation import main

sys.exit(main())
