"""``BayerDemosaicOp`` at Holoscan's path ``holoscan.operators.bayer_demosaic``."""

from holoflow.operators._bayer_demosaic import BayerDemosaicOp

__all__ = ["BayerDemosaicOp"]
