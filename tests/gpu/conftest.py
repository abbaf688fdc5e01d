"""GPU tests: run where CuPy sees a CUDA device; skipped with a reason everywhere else."""

from __future__ import annotations

import pytest

from holoflow.tensor import cuda_available, cupy_module


def pytest_collection_modifyitems(config, items):
    if cuda_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device (CuPy with a GPU): GPU tests run on a GPU machine")
    for item in items:
        if "tests/gpu" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)


@pytest.fixture
def cp():
    return cupy_module()
