"""Every environment variable holoflow reads, in one place; this module imports nothing else
from holoflow.

Each function reads the environment when called, so a variable set before a run takes effect
for that run. Holoscan's spelling (``HOLOSCAN_*``) is accepted wherever Holoscan has the
variable; holoflow's (``HOLOFLOW_*``) wins when both are set.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "config_path",
    "distributed_setting",
    "holoflow_setting",
    "hololink_affinity",
    "log_format",
    "log_level_setting",
    "queue_policy_name",
    "sample_data_dir",
    "strict",
]


def _named(*names: str) -> tuple[str, str] | None:
    """The first of ``names`` set to a non-blank value, with that value (stripped)."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return name, value
    return None


def _first(*names: str) -> str | None:
    found = _named(*names)
    return None if found is None else found[1]


def holoflow_setting(name: str) -> str | None:
    """``HOLOFLOW_<name>``, for holoflow's own variables that Holoscan lacks (distributed runs:
    ``EDGE_WINDOW``, ``JOIN_TIMEOUT_S``, ``LOCAL_LINKS``, ``CUDA_IPC``, ...)."""
    return _first(f"HOLOFLOW_{name}")


def queue_policy_name() -> str | None:
    """``HOLOFLOW_QUEUE_POLICY`` / ``HOLOSCAN_QUEUE_POLICY``: the default full-queue policy."""
    return _first("HOLOFLOW_QUEUE_POLICY", "HOLOSCAN_QUEUE_POLICY")


def config_path() -> str | None:
    """``HOLOFLOW_CONFIG_PATH`` / ``HOLOSCAN_CONFIG_PATH``: a YAML file overriding ``config()``."""
    return _first("HOLOFLOW_CONFIG_PATH", "HOLOSCAN_CONFIG_PATH")


def strict() -> bool:
    """``HOLOFLOW_STRICT``: raise instead of warn for an argument naming no declared parameter.

    Empty, ``0``, ``false``, ``no`` and ``off`` (any case) mean off; any other value means on.
    Holoscan has no such variable.
    """
    value = _first("HOLOFLOW_STRICT")
    return value is not None and value.lower() not in ("0", "false", "no", "off")


def log_level_setting() -> tuple[str, str] | None:
    """``HOLOFLOW_LOG_LEVEL`` / ``HOLOSCAN_LOG_LEVEL``: (variable, value) of the log level that
    overrides ``holoflow.logger.set_log_level``, or ``None`` when neither is set."""
    return _named("HOLOFLOW_LOG_LEVEL", "HOLOSCAN_LOG_LEVEL")


def log_format() -> str | None:
    """``HOLOFLOW_LOG_FORMAT`` / ``HOLOSCAN_LOG_FORMAT``: the log pattern that overrides
    ``holoflow.logger.set_log_pattern``."""
    return _first("HOLOFLOW_LOG_FORMAT", "HOLOSCAN_LOG_FORMAT")


def hololink_affinity() -> str | None:
    """``HOLOLINK_AFFINITY``: CPU cores (comma-separated) for sensor-bridge receiver threads."""
    return _first("HOLOLINK_AFFINITY")


def sample_data_dir() -> Path:
    """Where sample recordings are kept: ``HOLOFLOW_DATA``, else
    ``$XDG_CACHE_HOME/holoflow/sample_data`` (``~/.cache`` when ``XDG_CACHE_HOME`` is unset)."""
    explicit = _first("HOLOFLOW_DATA")
    if explicit:
        return Path(explicit)
    cache = _first("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "holoflow" / "sample_data"


def distributed_setting(name: str) -> str | None:
    """A distributed-application variable: ``HOLOFLOW_<name>`` over ``HOLOSCAN_<name>``
    (``APP_DRIVER_PORT``, ``DISTRIBUTED_APP_SCHEDULER``, ``STOP_ON_DEADLOCK``,
    ``STOP_ON_DEADLOCK_TIMEOUT``, ``MAX_DURATION_MS``, ``CHECK_RECESSION_PERIOD_MS``, ...)."""
    return _first(f"HOLOFLOW_{name}", f"HOLOSCAN_{name}")
