"""Where a TensorRT engine built from an ONNX model is cached, keyed by what makes it reusable.

An engine is valid only for the GPU model, compute capability, SM count and TensorRT version it
was built with, and for its precision. The cache file sits next to the model, named as
Holoscan names it: ``<model>.<gpu>.<major>.<minor>.<sms>.trt.<TRT version>.engine.<fp16|fp32>``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

__all__ = ["EngineKey", "engine_cache_path"]


@dataclass(frozen=True)
class EngineKey:
    """What an engine depends on."""

    gpu_name: str
    compute_capability: tuple[int, int]
    sm_count: int
    trt_version: str
    fp16: bool
    dla_core: int = -1


def engine_cache_path(model_path: str, key: EngineKey) -> str:
    """The engine file for ``model_path`` under ``key`` (Holoscan's naming)."""
    stem = os.path.splitext(model_path)[0]
    gpu = re.sub(r"\s+", "", key.gpu_name)
    major, minor = key.compute_capability
    precision = "fp16" if key.fp16 else "fp32"
    name = f"{stem}.{gpu}.{major}.{minor}.{key.sm_count}.trt.{key.trt_version}.engine.{precision}"
    return f"{name}.dla{key.dla_core}" if key.dla_core >= 0 else name
