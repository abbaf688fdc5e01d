"""Visualization: Holoviz's layer model (``InputSpec``) and the numpy software compositor."""

from holoflow.viz._compositor import composite, detect_type
from holoflow.viz._input_spec import InputSpec

__all__ = ["InputSpec", "composite", "detect_type"]
