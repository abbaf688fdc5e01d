from __future__ import annotations

import json
from pathlib import Path

import pytest

CONFORMANCE = Path(__file__).resolve().parents[1] / "data" / "gxf-holoscan-4.6"


@pytest.fixture(scope="session")
def manifest():
    return json.loads((CONFORMANCE / "manifest.json").read_text())
