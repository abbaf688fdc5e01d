"""Image kernels: format conversion, Bayer demosaicing and white balance, segmentation labels and
tool-tracking overlays, with a numpy reference and CUDA paths.

Usable without any graph: ``make_plan`` + ``convert`` (any array namespace), or
``prepare_cuda`` + ``convert_cuda`` (fused CUDA kernels); ``demosaic``; ``label_map``.
Importing this package does not import CuPy; the CUDA paths import it when they first run.
"""

from holoflow.kernels._bayer import BAYER_PATTERNS, demosaic
from holoflow.kernels._format import FormatPlan, convert, make_plan, normalize_dtype
from holoflow.kernels._format_cuda import CudaFormatPlan, convert_cuda, prepare_cuda
from holoflow.kernels._isp import process_bayer
from holoflow.kernels._labels import label_map
from holoflow.kernels._overlays import DEFAULT_OVERLAY_COLORS, tool_overlays
from holoflow.kernels._resize import SUM_SHIFT, WEIGHT_BITS, ResizeFilter, filter_table, resize_mode_name

__all__ = [
    "BAYER_PATTERNS",
    "DEFAULT_OVERLAY_COLORS",
    "SUM_SHIFT",
    "WEIGHT_BITS",
    "CudaFormatPlan",
    "FormatPlan",
    "ResizeFilter",
    "convert",
    "convert_cuda",
    "demosaic",
    "filter_table",
    "label_map",
    "make_plan",
    "normalize_dtype",
    "prepare_cuda",
    "process_bayer",
    "resize_mode_name",
    "tool_overlays",
]
