"""``python -m holoflow``: the holoflow command line."""

import sys

from holoflow.cli import main

sys.exit(main())
