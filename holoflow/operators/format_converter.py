"""``FormatConverterOp`` at Holoscan's path ``holoscan.operators.format_converter``."""

from holoflow.operators._format_converter import FormatConverterOp

__all__ = ["FormatConverterOp"]
