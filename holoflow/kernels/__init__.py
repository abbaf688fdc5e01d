"""Image kernels: format conversion and Bayer demosaicing, with a numpy reference and CUDA paths.

Usable without any graph: ``make_plan`` + ``convert`` (any array namespace), ``demosaic``.
"""

from holoflow.kernels._bayer import BAYER_PATTERNS, demosaic
from holoflow.kernels._format import FormatPlan, convert, make_plan
from holoflow.kernels._resize import SUM_SHIFT, WEIGHT_BITS, ResizeFilter, filter_table

__all__ = [
    "BAYER_PATTERNS",
    "SUM_SHIFT",
    "WEIGHT_BITS",
    "FormatPlan",
    "ResizeFilter",
    "convert",
    "demosaic",
    "filter_table",
    "make_plan",
]
