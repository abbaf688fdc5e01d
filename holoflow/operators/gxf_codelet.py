"""``GXFCodeletOp`` at Holoscan's path ``holoscan.operators.gxf_codelet``."""

from holoflow.operators._gxf_codelet import GXFCodeletOp

__all__ = ["GXFCodeletOp"]
