"""The public surface: sorted, complete ``__all__`` lists and an import with no optional stacks."""

from __future__ import annotations

import importlib
import sys

import pytest

from ._isolation import run_without

PUBLIC_MODULES = [
    "holoflow",
    "holoflow.apps",
    "holoflow.apps.endoscopy_tool_tracking",
    "holoflow.apps.sample_data",
    "holoflow.apps.synthetic",
    "holoflow.apps.ultrasound_segmentation",
    "holoflow.core",
    "holoflow.core.run",
    "holoflow.core.graph_picture",
    "holoflow.decorator",
    "holoflow.logger",
    "holoflow.conditions",
    "holoflow.schedulers",
    "holoflow.resources",
    "holoflow.operators",
    "holoflow.testing",
    "holoflow.errors",
    "holoflow.flow_graphs",
    "holoflow.executors",
    "holoflow.network_contexts",
    "holoflow.pose_tree",
    "holoflow.tensor",
    "holoflow.viz",
    "holoflow.sensor_bridge",
    "holoflow.gxf",
    "holoflow.kernels",
    "holoflow.inference",
    "holoflow.latency",
]


def _isort_order(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then everything else, each alphabetical."""
    if name.isupper() or (name.upper() == name and "_" in name):
        return 0, name
    return (1 if name[:1].isupper() else 2), name


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_complete(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported, key=_isort_order)
    public = {
        n for n in vars(module) if not n.startswith("_") and not isinstance(getattr(module, n), type(sys))
    }
    public -= {"annotations", "PackageNotFoundError", "version"}
    assert set(exported) >= public, sorted(public - set(exported))
    for item in exported:
        assert hasattr(module, item), item


def test_import_needs_only_numpy_and_yaml():
    """Optional stacks are unavailable in the child; importing everything must still work."""
    blocked = ["cupy", "torch", "onnxruntime", "tensorrt", "cuda", "glfw", "OpenGL", "jax", "av", "pyverbs"]
    blocked.append("matplotlib")
    script = """
        import holoflow, holoflow.core, holoflow.conditions, holoflow.schedulers
        import holoflow.resources, holoflow.operators, holoflow.testing, holoflow.viz
        import holoflow.sensor_bridge
        import holoflow.apps.ultrasound_segmentation, holoflow.apps.endoscopy_tool_tracking
        import holoflow.latency, holoflow.cli
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not loaded, loaded
        print("ok", holoflow.__version__)
        """
    out = run_without(blocked, script)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok ")


def test_version_matches_metadata():
    import holoflow

    assert holoflow.__version__.count(".") >= 2
