"""Conditions that count messages across several input ports, with or without a timeout.

``MultiMessageAvailableCondition`` is ready when enough messages wait across its receivers:
``SumOfAll`` counts them together (``min_sum``), ``PerReceiver`` asks each receiver for its own
count (``min_sizes``, one per receiver, in port order). ``MultiMessageAvailableTimeoutCondition``
is also ready once ``execution_frequency`` has passed since the operator last ran (since the
operator was first evaluated, before its first run).

The run builds them from ``spec.multi_port_condition(kind, port_names, **kwargs)`` and binds
them to the named ports' receivers with :meth:`MultiMessageAvailableCondition.bind_receivers`;
the timeout kind may also be declared on one port with
``spec.input("in").condition(ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT, ...)``.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from holoflow._helpers import parse_period_ns
from holoflow.core._condition import ConditionType, SchedulingStatusType
from holoflow.core._port_conditions import PortCondition
from holoflow.core._queue import Receiver, Transmitter

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment

__all__ = ["MultiMessageAvailableCondition", "MultiMessageAvailableTimeoutCondition", "SamplingMode"]

_READY = (SchedulingStatusType.READY, None)
_WAIT = (SchedulingStatusType.WAIT, None)
_WAIT_STATUS = SchedulingStatusType.WAIT
_BARE_NUMBER = re.compile(r"^\s*[0-9]+\s*$")


class SamplingMode(enum.Enum):
    """How a multi-message condition counts (``MultiMessageAvailableCondition.SamplingMode``)."""

    SUM_OF_ALL = 0
    """Ready when the receivers hold ``min_sum`` messages together."""
    PER_RECEIVER = 1
    """Ready when receiver ``i`` holds ``min_sizes[i]`` messages, for every ``i``."""


_MODE_NAMES = {"SumOfAll": SamplingMode.SUM_OF_ALL, "PerReceiver": SamplingMode.PER_RECEIVER}
# The classes re-export the enum as ``SamplingMode`` (Holoscan's spelling); inside their bodies
# that name would shadow the module-level one in annotations, so they use this alias.
_Mode = SamplingMode


class MultiMessageAvailableCondition(PortCondition):
    """Ready when enough messages wait across several input ports.

    Declare it in ``setup`` with
    ``spec.multi_port_condition(ConditionType.MULTI_MESSAGE_AVAILABLE, port_names=["a", "b"],
    sampling_mode="SumOfAll", min_sum=2)``; the named ports then get no default condition.

    Parameters
    ----------
    fragment : Fragment
        Owner fragment.
    sampling_mode : {"SumOfAll", "PerReceiver"} or SamplingMode
        How messages are counted (default ``SumOfAll``).
    min_sum : int, optional
        ``SumOfAll``: messages needed across all receivers together (default 1).
    min_sizes : list of int, optional
        ``PerReceiver``: messages needed on each receiver, in port order (required).
    name : str
        Condition name.

    Raises
    ------
    ValueError
        If the mode is unknown, a count is below 1, or the counts do not fit the mode
        (``min_sizes`` in ``SumOfAll`` mode, ``min_sum`` or no ``min_sizes`` in ``PerReceiver``).
    """

    condition_type = ConditionType.MULTI_MESSAGE_AVAILABLE
    SamplingMode: ClassVar[type[_Mode]] = _Mode

    def __init__(
        self,
        fragment: Fragment,
        sampling_mode: _Mode | str = _Mode.SUM_OF_ALL,
        min_sum: int | None = None,
        min_sizes: Sequence[int] | None = None,
        name: str = "multi_message_condition",
    ) -> None:
        super().__init__(fragment, name=name)
        self._mode = self._parse_mode(sampling_mode)
        if self._mode is _Mode.SUM_OF_ALL:
            if min_sizes is not None:
                raise ValueError(
                    f"{self._label()}: min_sizes applies to the 'PerReceiver' sampling mode; "
                    "use min_sum with 'SumOfAll'"
                )
            self._min_sum = self._count("min_sum", 1 if min_sum is None else min_sum)
            self._min_sizes: list[int] = []
        else:
            if min_sum is not None:
                raise ValueError(
                    f"{self._label()}: min_sum applies to the 'SumOfAll' sampling mode; "
                    "use min_sizes with 'PerReceiver'"
                )
            if min_sizes is None or isinstance(min_sizes, (str, bytes)):
                raise ValueError(
                    f"{self._label()}: the 'PerReceiver' sampling mode needs min_sizes, "
                    "a list with one count per port"
                )
            self._min_sum = 0
            self._min_sizes = [self._count("min_sizes", size) for size in min_sizes]
        self._receivers: list[Receiver] = []
        self._queues: list[Any] = []
        self._pairs: list[tuple[Any, int]] = []

    # -- Holoscan's accessors ------------------------------------------------------------------
    @property
    def sampling_mode(self) -> _Mode:
        """How messages are counted."""
        return self._mode

    @property
    def min_sum(self) -> int | None:
        """Messages needed across all receivers (``SumOfAll``), else ``None``."""
        return self._min_sum if self._mode is _Mode.SUM_OF_ALL else None

    @property
    def min_sizes(self) -> list[int] | None:
        """Messages needed per receiver (``PerReceiver``), else ``None``."""
        return list(self._min_sizes) if self._mode is _Mode.PER_RECEIVER else None

    def add_min_size(self, value: int) -> None:
        """Append a per-receiver count (``PerReceiver`` mode, before the run binds the condition).

        Raises
        ------
        ValueError
            In ``SumOfAll`` mode, or if ``value`` is below 1.
        """
        if self._mode is not _Mode.PER_RECEIVER:
            raise ValueError(f"{self._label()}: add_min_size applies to the 'PerReceiver' sampling mode")
        self._min_sizes.append(self._count("min_sizes", value))

    @property
    def receivers(self) -> list[Receiver]:
        """The receivers watched in the current run, in port order (empty before the run binds
        the condition)."""
        return list(self._receivers)

    # -- binding -------------------------------------------------------------------------------
    def bind(self, port: Receiver | Transmitter) -> None:
        """Watch the single input ``port`` (the ``IOSpec.condition`` form)."""
        self.bind_receivers([self._receiver(port)])

    def bind_receivers(self, receivers: Sequence[Receiver]) -> None:
        """Watch ``receivers`` from now on, in port order (called when a run is built).

        Raises
        ------
        ValueError
            If ``PerReceiver`` mode has not exactly one count per receiver.
        """
        if self._mode is _Mode.PER_RECEIVER and len(self._min_sizes) != len(receivers):
            raise ValueError(
                f"{self._label()}: min_sizes has {len(self._min_sizes)} count(s) but the condition "
                f"watches {len(receivers)} port(s); give one count per port"
            )
        self._receivers = list(receivers)
        self._queues = [receiver.queue for receiver in receivers]
        self._pairs = list(zip(self._queues, self._min_sizes, strict=False))

    # -- readiness -----------------------------------------------------------------------------
    def _counts_met(self) -> bool:
        if self._mode is _Mode.SUM_OF_ALL:
            return sum(len(queue) for queue in self._queues) >= self._min_sum
        return all(len(queue) >= size for queue, size in self._pairs)

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        if not self._queues:
            raise self._unbound()
        return _READY if self._counts_met() else _WAIT

    # -- argument checks -----------------------------------------------------------------------
    def _parse_mode(self, mode: _Mode | str) -> _Mode:
        if isinstance(mode, _Mode):
            return mode
        if isinstance(mode, str) and mode in _MODE_NAMES:
            return _MODE_NAMES[mode]
        raise ValueError(
            f"{self._label()}: sampling_mode must be 'SumOfAll', 'PerReceiver' or a "
            f"{type(self).__name__}.SamplingMode, not {mode!r}"
        )

    def _count(self, what: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{self._label()}: {what} takes integer counts, got {value!r}")
        if value < 1:
            raise ValueError(f"{self._label()}: {what} counts must be >= 1, got {value}")
        return value


class MultiMessageAvailableTimeoutCondition(MultiMessageAvailableCondition):
    """Ready when enough messages wait across its ports, or ``execution_frequency`` after the
    operator last ran, whichever comes first.

    Declare it over several ports with ``spec.multi_port_condition(
    ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT, port_names=[...], execution_frequency="300ms",
    min_sum=20)``, or on one port with ``spec.input("in", size=IOSpec.IOSize(5)).condition(
    ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT, execution_frequency="250ms", min_sum=5)``.

    Before the first run the period counts from the operator's first evaluation. While the
    counts are not met the condition says WAIT with its deadline: the scheduler re-evaluates
    the operator then (and whenever a message arrives), but a pending deadline alone does not
    keep an otherwise idle graph from ending on ``stop_on_deadlock`` — as in Holoscan, where a
    graph whose only activity is such a timeout stops after ``stop_on_deadlock_timeout``.

    Parameters
    ----------
    fragment : Fragment
        Owner fragment.
    execution_frequency : int, str or datetime.timedelta
        The longest time between two runs: nanoseconds, a timedelta, or a string such as
        ``"10ms"``, ``"0.2s"``, ``"50Hz"`` or ``"10000000"`` (a bare number is nanoseconds).
    sampling_mode, min_sum, min_sizes, name
        As for :class:`MultiMessageAvailableCondition`.

    Raises
    ------
    ValueError
        If the period cannot be parsed or is not positive, or the counts are invalid.
    TypeError
        If the period has another type.
    """

    condition_type = ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT
    _wait_deadline = True

    def __init__(
        self,
        fragment: Fragment,
        execution_frequency: int | str | datetime.timedelta,
        sampling_mode: _Mode | str = _Mode.SUM_OF_ALL,
        min_sum: int | None = None,
        min_sizes: Sequence[int] | None = None,
        name: str = "multi_message_timeout_condition",
    ) -> None:
        super().__init__(fragment, sampling_mode, min_sum, min_sizes, name=name)
        if isinstance(execution_frequency, str) and _BARE_NUMBER.match(execution_frequency):
            execution_frequency = int(execution_frequency)
        self._period_ns = parse_period_ns(execution_frequency)
        self._last: int | None = None

    @property
    def execution_frequency_ns(self) -> int:
        """The longest time between two runs, in nanoseconds."""
        return self._period_ns

    def reset(self) -> None:
        self._last = None

    def update_state(self, timestamp: int) -> None:
        if self._last is None:
            self._last = timestamp

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        if not self._queues:
            raise self._unbound()
        if self._counts_met():
            return _READY
        deadline = (timestamp if self._last is None else self._last) + self._period_ns
        if timestamp >= deadline:
            return _READY
        return _WAIT_STATUS, deadline

    def on_execute(self, timestamp: int) -> None:
        self._last = timestamp
