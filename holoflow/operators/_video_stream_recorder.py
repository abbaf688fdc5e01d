"""``VideoStreamRecorderOp``: write what arrives into a GXF recording."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.core import Operator
from holoflow.errors import CodecError, ConfigError
from holoflow.gxf import Component, GXFWriter, StorageType, Timestamp
from holoflow.logger import get_logger
from holoflow.tensor import Tensor, as_tensor, is_tensor_like, to_host

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, InputContext, OperatorSpec, OutputContext

__all__ = ["VideoStreamRecorderOp"]

logger = get_logger(__name__)


class VideoStreamRecorderOp(Operator):
    """Record each message from ``input`` as one entity of ``<directory>/<basename>.gxf_*``.

    A dict / TensorMap becomes one Tensor component per array (named by its key; CUDA tensors
    are copied to the host and recorded with storage "device", host ones with "system"), one
    scalar component per number, and a Timestamp for :class:`~holoflow.gxf.Timestamp` values.
    A bare array is recorded as one unnamed tensor. Other values (strings...) cannot be stored
    in GXF and are skipped with a logged warning, as GXF's recorder does. Files are flushed on
    stop, or after every entity with ``flush_on_tick``.
    """

    directory: str
    basename: str
    flush_on_tick: bool

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("input")
        spec.param("directory", "")
        spec.param("basename", "")
        spec.param("flush_on_tick", False)

    def initialize(self) -> None:
        if not self.basename:
            raise ConfigError(f"{self._label()}: parameter 'basename' is required")

    def start(self) -> None:
        self._writer = GXFWriter(self.directory or ".", self.basename)
        self._warned: set[str] = set()

    def stop(self) -> None:
        self._writer.close()

    @property
    def frames_written(self) -> int:
        """Entities written in the current (or last) run."""
        return self._writer.frames_written

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        message = op_input.receive("input")
        self._writer.write(self._components(message, op_input))
        if self.flush_on_tick:
            self._writer.flush()

    def _components(self, message: Any, op_input: InputContext) -> list[Component]:
        if isinstance(message, dict):
            items = list(message.items())
        elif is_tensor_like(message):
            items = [("", message)]
        else:
            kind = type(message).__name__
            raise CodecError(f"{self._label()}: cannot record a {kind}; send an array or a dict of arrays")
        components = []
        for name, value in items:
            if isinstance(value, (Timestamp, bool, int, float, np.generic)):
                components.append(Component(str(name), value))
            elif isinstance(value, Tensor) or is_tensor_like(value):
                tensor = as_tensor(value)
                if tensor.is_cuda:  # copied on the producer's stream, after the work that made it
                    host = to_host(tensor, op_input.receive_cuda_stream("input", allocate=False))
                    components.append(Component(str(name), host, StorageType.DEVICE))
                else:
                    components.append(Component(str(name), np.asarray(tensor), StorageType.SYSTEM))
            elif str(name) not in self._warned:
                self._warned.add(str(name))
                logger.warning(
                    "%s: '%s' (%s) has no GXF component type; not recorded",
                    self._label(),
                    name,
                    type(value).__name__,
                )
        return components
