"""GXF application files: load a ``gxe`` YAML graph as a holoflow :class:`Application`.

This sub-package sits above the runtime (it builds operators, conditions, resources and
schedulers), unlike the rest of :mod:`holoflow.gxf`, which works without it;
``holoflow.gxf`` imports it only when one of its names is first used.
"""

from holoflow.gxf._app._load import load_app

__all__ = ["load_app"]
