"""``HolovizOp`` at Holoscan's path ``holoscan.operators.holoviz``."""

from holoflow.operators._holoviz import HolovizOp

__all__ = ["HolovizOp"]
