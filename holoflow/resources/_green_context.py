"""CUDA green contexts: Holoscan's resources that split a GPU's multiprocessors (SMs) into
partitions, so that operators given different partitions never compete for SMs.

CuPy, through which holoflow reaches CUDA, has no green-context API, so holoflow cannot make
the partitions: these resources construct, keep their parameters and may be given to operators,
but work still runs on the whole device. Constructing the first one logs a warning saying so,
and :meth:`CudaGreenContextPool.is_partitioning_supported` is ``False``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from holoflow.core import Resource

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["CudaGreenContext", "CudaGreenContextPool"]

logger = logging.getLogger("holoflow")
_warned = False


def _warn_once(label: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        logger.warning(
            "%s: CUDA green contexts cannot be made in holoflow (CuPy has no green-context API); "
            "operators given one run on the whole device",
            label,
        )


class CudaGreenContextPool(Resource):
    """A partition of a device's SMs into green contexts (see the module docstring).

    Parameters
    ----------
    fragment : Fragment or Subgraph
        Owner.
    dev_id : int
        The CUDA device.
    flags : int
        Green-context flags.
    num_partitions : int
        How many partitions.
    sms_per_partition : list of int
        SMs in each partition.
    default_context_index : int
        The partition used by default (< 0: the last).
    min_sm_size : int
        Fewest SMs in a partition.
    name : str
        The pool's name.

    Raises
    ------
    ValueError
        If ``sms_per_partition`` has a length other than ``num_partitions`` (when both are
        given), or holds a value below ``min_sm_size``.
    """

    _default_name = "cuda_green_context_pool"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        dev_id: int = 0,
        flags: int = 1,
        num_partitions: int = 0,
        sms_per_partition: Sequence[int] = (),
        default_context_index: int = -1,
        min_sm_size: int = 2,
        name: str = "cuda_green_context_pool",
    ) -> None:
        super().__init__(fragment, name=name)
        sms = [int(n) for n in sms_per_partition]
        if sms and num_partitions and len(sms) != int(num_partitions):
            raise ValueError(
                f"{self._label()}: {len(sms)} values in sms_per_partition for {num_partitions} partitions"
            )
        small = [n for n in sms if n < int(min_sm_size)]
        if small:
            raise ValueError(
                f"{self._label()}: partitions of {small} SMs are below min_sm_size {min_sm_size}"
            )
        self.dev_id = int(dev_id)
        self.flags = int(flags)
        self.num_partitions = int(num_partitions) or len(sms)
        self.sms_per_partition = sms
        self.default_context_index = int(default_context_index)
        self.min_sm_size = int(min_sm_size)
        _warn_once(self._label())

    def is_partitioning_supported(self) -> bool:
        """Whether holoflow can partition the device: no (see the module docstring)."""
        return False


class CudaGreenContext(Resource):
    """One partition of a :class:`CudaGreenContextPool` (see the module docstring).

    Parameters
    ----------
    fragment : Fragment or Subgraph
        Owner.
    cuda_green_context_pool : CudaGreenContextPool, optional
        The pool.
    index : int
        The partition (< 0: the pool's default).
    nvtx_identifier : str
        The label NSight shows.
    name : str
        The context's name.
    """

    _default_name = "cuda_green_context"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        cuda_green_context_pool: CudaGreenContextPool | None = None,
        index: int = -1,
        nvtx_identifier: str = "nvtx_green_context",
        name: str = "cuda_green_context",
    ) -> None:
        super().__init__(fragment, name=name)
        if cuda_green_context_pool is not None and not isinstance(
            cuda_green_context_pool, CudaGreenContextPool
        ):
            raise TypeError(
                f"{self._label()}: cuda_green_context_pool must be a CudaGreenContextPool, "
                f"not {type(cuda_green_context_pool).__name__}"
            )
        self.cuda_green_context_pool = cuda_green_context_pool
        self.index = int(index)
        self.nvtx_identifier = str(nvtx_identifier)
        _warn_once(self._label())
