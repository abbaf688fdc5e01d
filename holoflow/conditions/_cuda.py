"""Conditions that hold an operator until CUDA work on what it received has finished.

A CUDA tensor that travels in a message (a dict or TensorMap) carries the event its producer
recorded after writing it (``Tensor.event``). These conditions look at the waiting messages
without taking them: while some of those events are still pending they say WAIT_EVENT, and a
helper thread waits for the events and notifies the scheduler when they complete. A message
with no pending CUDA work (host tensors, CPU-only machines) holds nothing back.

* :class:`CudaStreamCondition` watches one or more input ports and keeps their default
  ``MessageAvailableCondition``; an empty queue holds nothing back.
* :class:`CudaBufferAvailableCondition` and :class:`CudaEventCondition` watch one input port
  in place of its default condition: they wait for a message, then for its CUDA work (GXF's
  ``CudaBuffer`` and ``CudaEvent`` components exist only in GXF; in holoflow a message's CUDA
  tensors, or an event object it carries under ``event_name``, play their part).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from holoflow.core import Condition, Receiver, SchedulingStatusType
from holoflow.errors import GraphError
from holoflow.tensor import Tensor

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["CudaBufferAvailableCondition", "CudaEventCondition", "CudaStreamCondition"]

_READY = (SchedulingStatusType.READY, None)
_WAIT = (SchedulingStatusType.WAIT, None)
_WAIT_EVENT = (SchedulingStatusType.WAIT_EVENT, None)


def _done(event: Any) -> bool:
    """Whether a holoflow ``StreamEvent`` or a CuPy ``Event`` has completed."""
    done = event.done
    return bool(done() if callable(done) else done)


def _synchronize(event: Any) -> None:
    """Block until a holoflow ``StreamEvent`` or a CuPy ``Event`` completes."""
    getattr(event, "event", event).synchronize()


def _tensor_events(message: Any) -> list[Any]:
    """The events of the CUDA tensors a message holds (itself, or the values of a mapping)."""
    values = message.values() if isinstance(message, Mapping) else (message,)
    return [v.event for v in values if isinstance(v, Tensor) and v.event is not None]


class _CudaWait(Condition):
    """Shared machinery: the receivers watched, pending events, and the helper thread."""

    def __init__(self, fragment: Fragment | Subgraph, *, receiver_name: str | None, name: str) -> None:
        super().__init__(fragment, receiver_name=receiver_name, name=name)
        self._watched: list[Receiver] | None = None
        self._lock = threading.Lock()
        self._waiter: threading.Thread | None = None

    def _port_names(self) -> list[str]:
        raise NotImplementedError

    def reset(self) -> None:
        self._watched = None

    def _receivers(self) -> list[Receiver]:
        """The queues of the watched ports in this run (looked up once per run)."""
        watched = self._watched
        if watched is None:
            operator = self._require_operator()
            watched = []
            for name in self._port_names():
                if name not in operator.spec.inputs:
                    raise GraphError(
                        f"{self._label()} watches input port '{name}' of operator '{operator.name}', "
                        f"which declares inputs {sorted(operator.spec.inputs)}"
                    )
                found = operator.receiver(name)
                watched.extend(found if isinstance(found, list) else [found])
            self._watched = watched
        return watched

    def _wait_for(self, events: Iterable[Any]) -> tuple[SchedulingStatusType, int | None]:
        """READY when every event has completed, else WAIT_EVENT with a helper thread waiting
        for them that notifies the scheduler."""
        pending = [event for event in events if not _done(event)]
        if not pending:
            return _READY
        with self._lock:
            if self._waiter is None:
                self._waiter = threading.Thread(
                    target=self._wait_then_notify, args=(pending,), name=f"holoflow-{self.name}", daemon=True
                )
                self._waiter.start()
        return _WAIT_EVENT

    def _wait_then_notify(self, events: list[Any]) -> None:
        try:
            for event in events:
                _synchronize(event)
        finally:
            with self._lock:
                self._waiter = None
            self.notify()


class CudaStreamCondition(_CudaWait):
    """Ready when the CUDA work on the tensors waiting on the watched input ports has finished.

    The watched ports keep their default ``MessageAvailableCondition``; this condition only
    adds the wait for the GPU. It never takes a message.

    Parameters
    ----------
    fragment : Fragment or Subgraph
        Owner.
    receiver : str, optional
        One input port to watch (Holoscan's older spelling of ``receivers``).
    receivers : str or list of str, optional
        The input ports to watch; an ``IOSpec.ANY_SIZE`` port counts all its connections.
    check_all_messages : bool
        Look at every waiting message (default) or only at the oldest of each queue.
    name : str
        The condition's name.

    Raises
    ------
    ValueError
        If both ``receiver`` and ``receivers`` are given, or neither.
    """

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        receiver: str | None = None,
        receivers: str | list[str] | None = None,
        check_all_messages: bool = True,
        name: str = "noname_cuda_stream_condition",
    ) -> None:
        super().__init__(fragment, receiver_name=None, name=name)
        if receiver is not None and receivers is not None:
            raise ValueError(f"{self._label()}: give receiver or receivers, not both")
        names = [receiver] if receiver is not None else receivers
        if isinstance(names, str):
            names = [names]
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"{self._label()}: name the input port(s) to watch with receivers=[...]")
        self.receivers = list(names)
        """The input ports watched."""
        self.check_all_messages = bool(check_all_messages)

    def _port_names(self) -> list[str]:
        return self.receivers

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        events: list[Any] = []
        for queue in self._receivers():
            messages = queue.peek()
            for message in messages if self.check_all_messages else messages[:1]:
                events.extend(_tensor_events(message))
        return self._wait_for(events)


class CudaBufferAvailableCondition(_CudaWait):
    """Ready when a message waits on input ``receiver`` and the CUDA work on its tensors has
    finished; it replaces the port's default condition.

    Parameters
    ----------
    fragment : Fragment or Subgraph
        Owner.
    receiver : str
        The input port to watch.
    name : str
        The condition's name.
    """

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        receiver: str | None = None,
        name: str = "cuda_buffer_available_condition",
    ) -> None:
        super().__init__(fragment, receiver_name=receiver, name=name)

    def _port_names(self) -> list[str]:
        if not self.receiver_name:
            raise GraphError(f"{self._label()}: name the input port to watch with receiver='...'")
        return [self.receiver_name]

    def _front(self) -> tuple[bool, Any]:
        for queue in self._receivers():
            messages = queue.peek()
            if messages:
                return True, messages[0]
        return False, None

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        found, message = self._front()
        if not found:
            return _WAIT
        return self._wait_for(_tensor_events(message))


class CudaEventCondition(CudaBufferAvailableCondition):
    """Ready when a message waits on input ``receiver`` and the CUDA event it carries under
    ``event_name`` has completed (a CuPy ``Event``, or holoflow's ``StreamEvent``); a message
    without one waits for the events of its CUDA tensors instead. It replaces the port's
    default condition.

    Parameters
    ----------
    fragment : Fragment or Subgraph
        Owner.
    event_name : str
        The key of the event in the message (a dict or TensorMap).
    receiver : str
        The input port to watch.
    name : str
        The condition's name.
    """

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        event_name: str = "",
        receiver: str | None = None,
        name: str = "cuda_event_condition",
    ) -> None:
        super().__init__(fragment, receiver=receiver, name=name)
        self.event_name = str(event_name)

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        found, message = self._front()
        if not found:
            return _WAIT
        if isinstance(message, Mapping) and self.event_name in message:
            event = message[self.event_name]
            if hasattr(event, "done"):
                return self._wait_for([event])
        return self._wait_for(_tensor_events(message))
