"""holoflow: streaming AI pipelines on sensor data, with Holoscan's Python API.

``import holoflow`` needs only numpy and PyYAML; ``holoflow.core``,
``holoflow.conditions``, ``holoflow.schedulers``, ``holoflow.resources`` and
``holoflow.operators`` mirror Holoscan's import paths. No GPU library is imported until used.

Imports run one way, from the edges to the centre: ``operators`` use the subsystems
(``kernels``, ``inference``, ``viz``, ``gxf``, ``sensor_bridge``) and the runtime (``core``,
``conditions``, ``resources``); ``schedulers`` drive the run kernel in ``core``; ``core`` and the
subsystems stand on ``tensor`` and ``errors``. ``docs/design.md`` has the table, and
``tests/test_layers.py`` enforces it.
"""

from importlib.metadata import PackageNotFoundError, version

from holoflow import (
    conditions,
    core,
    data_loggers,
    decorator,
    distributed,  # noqa: F401 (installs the runner of applications with fragments)
    errors,
    executors,
    flow_graphs,
    gxf,
    logger,
    operators,
    pose_tree,
    resources,
    schedulers,
    tensor,
)
from holoflow.errors import (
    ConfigError,
    GraphError,
    HoloflowError,
    ResourceError,
    SchedulingError,
    TensorError,
)
from holoflow.tensor import Tensor, TensorMap, as_tensor

try:
    __version__ = version("holoflow")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "GraphError",
    "HoloflowError",
    "ResourceError",
    "SchedulingError",
    "Tensor",
    "TensorError",
    "TensorMap",
    "__version__",
    "as_tensor",
    "conditions",
    "core",
    "data_loggers",
    "decorator",
    "errors",
    "executors",
    "flow_graphs",
    "gxf",
    "logger",
    "operators",
    "pose_tree",
    "resources",
    "schedulers",
    "tensor",
]
