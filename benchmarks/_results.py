"""Where the benchmarks keep their results, and how they write them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_json(path: str | Path, payload: Any) -> None:
    """Write ``payload`` to ``path`` as indented JSON (with a final newline), creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
