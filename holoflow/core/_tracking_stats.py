"""Bounded statistics of integer samples (latencies in µs, durations in ns) for data-flow tracking.

A :class:`Distribution` keeps, whatever the number of samples: their count, sum, minimum and
maximum; a log-scaled histogram (values below ``EXACT`` units each have a bin, above that the
bins are 1 % wide); and the first ``retain`` samples themselves. Percentiles are exact (numpy's
linear interpolation over the samples) while every sample is retained, and come from the
histogram, with about 0.5 % error, once there are more. Memory is bounded by ``retain`` and the
histogram's few thousand bins.

Samples are added in batches (numpy arrays), so the cost per sample is a few vectorised
operations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["EXACT", "Distribution", "check_percents"]

EXACT = 128
"""Values below this many units get one histogram bin each."""

_GROWTH = 1.01
_LOG_GROWTH = math.log(_GROWTH)
_MIDDLE = math.sqrt(_GROWTH)

Ints = npt.NDArray[np.int64]


def _bins(values: Ints) -> Ints:
    """The histogram bin of each value (negative values count as 0)."""
    clipped = np.maximum(values, 0)
    above = clipped >= EXACT
    if not above.any():
        return clipped
    logs = np.log(np.maximum(clipped, EXACT) / EXACT) / _LOG_GROWTH
    return np.where(above, EXACT + np.floor(logs).astype(np.int64), clipped)


def _representative(bins: Ints) -> npt.NDArray[np.float64]:
    """A value standing for each bin: the value itself for exact bins, else the bin's geometric
    middle."""
    low = EXACT * np.power(_GROWTH, (bins - EXACT).astype(np.float64)) * _MIDDLE
    return np.where(bins < EXACT, bins.astype(np.float64), low)


def check_percents(percents: Sequence[float]) -> npt.NDArray[np.float64]:
    """``percents`` as an array.

    Raises
    ------
    ValueError
        If a percent is outside [0, 100] or not a number.
    """
    values = np.asarray([float(p) for p in percents], dtype=np.float64)
    if values.size and (np.isnan(values).any() or values.min() < 0 or values.max() > 100):
        raise ValueError(f"percentiles must be between 0 and 100, got {list(percents)}")
    return values


class Distribution:
    """Count, sum, min, max, a log histogram and the first ``retain`` of integer samples."""

    __slots__ = ("_histogram", "_kept", "_n_kept", "count", "high", "low", "retain", "total")
    # The histogram is filled only once a sample is not retained (until then the retained
    # samples give exact percentiles), so a run that stays under ``retain`` never bins.

    def __init__(self, retain: int) -> None:
        self.retain = retain
        self.count = 0
        self.total = 0
        self.low = 0
        self.high = 0
        self._kept: Ints = np.empty(0, dtype=np.int64)
        """Room for retained samples (grown by doubling), the first ``_n_kept`` used."""
        self._n_kept = 0
        self._histogram: Ints | None = None

    def add(self, values: Ints) -> None:
        """Take a batch of samples (in order)."""
        n = len(values)
        if not n:
            return
        low, high = int(values.min()), int(values.max())
        if self.count:
            self.low, self.high = min(self.low, low), max(self.high, high)
        else:
            self.low, self.high = low, high
        self.total += int(values.sum())
        take = values[:0]
        if self._n_kept < self.retain:
            take = values[: self.retain - self._n_kept]
            used = self._n_kept + len(take)
            if used > len(self._kept):
                grown = np.empty(min(self.retain, max(used, 2 * len(self._kept))), dtype=np.int64)
                grown[: self._n_kept] = self._kept[: self._n_kept]
                self._kept = grown
            self._kept[self._n_kept : used] = take
            self._n_kept = used
        self.count += n
        if self._histogram is not None:
            self._bin(values)
        elif self.count > self._n_kept:  # the first samples not retained: bin them all from now
            self._histogram = np.zeros(EXACT + 64, dtype=np.int64)
            self._bin(self.kept())
            self._bin(values[len(take) :])

    def _bin(self, values: Ints) -> None:
        if not len(values):
            return
        assert self._histogram is not None
        bins = _bins(values)
        top = int(bins.max())
        if top >= len(self._histogram):
            grown = np.zeros(max(top + 1, 2 * len(self._histogram)), dtype=np.int64)
            grown[: len(self._histogram)] = self._histogram
            self._histogram = grown
        self._histogram += np.bincount(bins, minlength=len(self._histogram))

    def kept(self) -> Ints:
        """The retained samples (the first ``retain``), in order."""
        return self._kept[: self._n_kept]

    def mean(self) -> float:
        """The mean in units (0.0 when empty)."""
        return self.total / self.count if self.count else 0.0

    def percentiles(self, percents: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The ``percents`` (0-100) percentiles in units; NaN when empty."""
        if not self.count:
            return np.full(len(percents), np.nan)
        if self._histogram is None:
            return np.asarray(np.percentile(self.kept(), percents), dtype=np.float64)
        position = percents / 100.0 * (self.count - 1)
        below = np.floor(position).astype(np.int64)
        above = np.ceil(position).astype(np.int64)
        cumulative = np.cumsum(self._histogram)
        value_below = _representative(np.searchsorted(cumulative, below, side="right").astype(np.int64))
        value_above = _representative(np.searchsorted(cumulative, above, side="right").astype(np.int64))
        estimate = value_below + (position - below) * (value_above - value_below)
        estimate = np.clip(estimate, self.low, self.high)
        estimate[percents == 0] = self.low
        estimate[percents == 100] = self.high
        return np.asarray(estimate, dtype=np.float64)
