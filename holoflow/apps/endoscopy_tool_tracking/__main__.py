"""Run the endoscopy tool tracking app from the command line."""

import sys

from holoflow.apps.endoscopy_tool_tracking import main

sys.exit(main())
