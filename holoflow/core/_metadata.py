"""Operator metadata: ``MetadataDictionary``, ``MetadataPolicy`` and the envelope that carries it.

Every operator owns a :class:`MetadataDictionary` (``op.metadata``). It is empty when ``compute``
starts; each ``receive`` merges the metadata that came with a message into it, by the operator's
policy; each ``emit`` sends a snapshot of it along with the message, when it is not empty and
metadata is enabled for the operator.

Between operators such a message travels as an :class:`Envelope`. The input side opens it
(``InputContext.receive`` and ``Receiver.pop``), so user code only ever sees the message itself.
A message whose sender had no metadata travels bare: operators that leave their metadata empty
pay one type check per receive and one truth test per emit.

Values are plain Python objects, shared and never copied: a snapshot copies the key → value
table, not the values.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from holoflow.errors import MetadataError

if TYPE_CHECKING:
    from holoflow.core._operator import Operator

__all__ = [
    "NO_METADATA",
    "Envelope",
    "MetadataDictionary",
    "MetadataPolicy",
    "release_metadata",
    "resolve_metadata",
    "stamp",
    "unstamp",
]


class MetadataPolicy(enum.Enum):
    """What happens when metadata arrives under a key the dictionary already holds."""

    REJECT = 0
    """Keep the value already there."""
    INPLACE_UPDATE = 1
    """Take the new value (values are Python objects, so this is the same as ``UPDATE``)."""
    UPDATE = 2
    """Take the new value."""
    RAISE = 3
    """Raise :class:`~holoflow.errors.MetadataError`."""
    DEFAULT = 4
    """Not chosen: an operator takes its fragment's policy when a run starts (``RAISE`` unless
    set); a dictionary on its own acts as ``RAISE``."""


_NO_DEFAULT: Any = object()

NO_METADATA: Mapping[str, Any] = MappingProxyType({})
"""The (always empty) metadata an operator sends when metadata is disabled for it."""


class MetadataDictionary:
    """A ``str`` → object table with Holoscan's ``MetadataDictionary`` API.

    Keys are strings; values are any Python objects, stored as given. What ``set`` and
    ``update`` do with a key that already exists depends on :attr:`policy`.
    """

    __slots__ = ("_inherited", "_items", "_label", "_policy")

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}
        # The run kernel keeps a reference to this table; it is never replaced, only changed.
        self._policy = MetadataPolicy.DEFAULT
        self._label = ""
        """Who owns the dictionary (``"operator 'x'"``), for error messages."""
        self._inherited: MetadataPolicy | None = None
        """The policy a run gave an operator that had none (see :func:`resolve_metadata`)."""

    # -- reading -------------------------------------------------------------------------------
    def has_key(self, key: str) -> bool:
        """Whether ``key`` is in the dictionary."""
        return key in self._items

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def keys(self) -> list[str]:
        """The keys, as a list."""
        return list(self._items)

    def items(self) -> list[tuple[str, Any]]:
        """The ``(key, value)`` pairs, as a list."""
        return list(self._items.items())

    def get(self, key: str, value: Any = None) -> Any:
        """The value of ``key``, or ``value`` when it is missing (Holoscan's parameter name)."""
        return self._items.get(key, value)

    def __getitem__(self, key: str) -> Any:
        """The value of ``key``.

        Raises
        ------
        KeyError
            If ``key`` is missing.
        """
        return self._items[key]

    def type_dict(self) -> dict[str, str]:
        """Each key with the type name of its value (``"int"``, ``"numpy.ndarray"``...)."""
        return {key: _type_name(value) for key, value in self._items.items()}

    def size(self) -> int:
        """How many items the dictionary holds."""
        return len(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __repr__(self) -> str:
        return repr(self._items)

    # -- writing -------------------------------------------------------------------------------
    def set(
        self,
        key: str,
        value: Any,
        dtype: Any = None,  # noqa: ARG002 - only Holoscan's C++ conversion reads it
        cast_to_cpp: bool = False,  # noqa: ARG002 - likewise
    ) -> None:
        """Store ``value`` under ``key``; an existing key is handled by :attr:`policy`.

        ``dtype`` and ``cast_to_cpp`` are accepted for Holoscan compatibility and ignored:
        values stay Python objects.

        Raises
        ------
        holoflow.errors.MetadataError
            If the key exists and the policy is ``RAISE`` (or ``DEFAULT``).
        TypeError
            If ``key`` is not a ``str``.
        """
        items = self._items
        if key in items:
            policy = self._policy
            if policy is MetadataPolicy.REJECT:
                return
            if policy is MetadataPolicy.RAISE or policy is MetadataPolicy.DEFAULT:
                raise self._conflict(key, "")
        elif not isinstance(key, str):
            raise TypeError(f"metadata keys are str, not {type(key).__name__}")
        items[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def pop(self, key: str, default: Any = _NO_DEFAULT) -> Any:
        """Remove ``key`` and return its value; return ``default`` when it is missing.

        Raises
        ------
        KeyError
            If ``key`` is missing and no ``default`` is given.
        """
        if default is _NO_DEFAULT:
            return self._items.pop(key)
        return self._items.pop(key, default)

    def erase(self, key: str) -> bool:
        """Remove ``key``; return whether it was there."""
        return self._items.pop(key, _NO_DEFAULT) is not _NO_DEFAULT

    def __delitem__(self, key: str) -> None:
        """Remove ``key``; a missing key is no error (as in Holoscan)."""
        self.erase(key)

    def clear(self) -> None:
        """Remove every item."""
        self._items.clear()

    @property
    def policy(self) -> MetadataPolicy:
        """How :meth:`set` and :meth:`update` treat a key that already exists."""
        return self._policy

    @policy.setter
    def policy(self, value: MetadataPolicy) -> None:
        if not isinstance(value, MetadataPolicy):
            raise TypeError(f"metadata policy must be a MetadataPolicy, not {type(value).__name__}")
        self._policy = value
        self._inherited = None

    # -- combining -----------------------------------------------------------------------------
    def insert(self, other: MetadataDictionary) -> None:
        """Copy in the items of ``other`` whose keys are not here yet (regardless of policy)."""
        items = self._items
        for key, value in _items_of(other).items():
            items.setdefault(key, value)

    def merge(self, other: MetadataDictionary) -> None:
        """Move the items of ``other`` whose keys are not here yet into this dictionary;
        ``other`` keeps only the items whose keys were already here."""
        items = self._items
        moved = [key for key in _items_of(other) if key not in items]
        for key in moved:
            items[key] = other._items.pop(key)

    def update(self, other: MetadataDictionary) -> None:
        """Copy in every item of ``other``; keys already here are handled by :attr:`policy`.

        Under ``RAISE`` (and ``DEFAULT``) nothing is changed when a key exists already.

        Raises
        ------
        holoflow.errors.MetadataError
            If a key exists and the policy is ``RAISE`` or ``DEFAULT``.
        """
        self._absorb(_items_of(other), "")

    def swap(self, other: MetadataDictionary) -> None:
        """Exchange contents with ``other`` (each keeps its own policy)."""
        theirs = _items_of(other)
        mine = dict(self._items)
        self._items.clear()
        self._items.update(theirs)
        theirs.clear()
        theirs.update(mine)

    def _absorb(self, incoming: Mapping[str, Any], port: str) -> None:
        """Merge ``incoming`` (metadata received on input ``port``, ``""`` for none) by the policy.

        Raises
        ------
        holoflow.errors.MetadataError
            If a key exists and the policy is ``RAISE`` or ``DEFAULT``; nothing is changed then.
        """
        items = self._items
        if not items:
            items.update(incoming)
            return
        policy = self._policy
        if policy is MetadataPolicy.UPDATE or policy is MetadataPolicy.INPLACE_UPDATE:
            items.update(incoming)
        elif policy is MetadataPolicy.REJECT:
            for key, value in incoming.items():
                items.setdefault(key, value)
        else:
            for key in incoming:
                if key in items:
                    raise self._conflict(key, port)
            items.update(incoming)

    def _conflict(self, key: str, port: str) -> MetadataError:
        owner = f"{self._label}: " if self._label else ""
        came = f" received on input port '{port}'" if port else ""
        return MetadataError(
            f"{owner}metadata key '{key}'{came} already exists (metadata policy "
            f"{self._policy.name}); avoid duplicate metadata keys, or choose another MetadataPolicy "
            "(UPDATE, INPLACE_UPDATE or REJECT) with op.metadata_policy or fragment.metadata_policy",
            key,
        )


def _items_of(other: MetadataDictionary) -> dict[str, Any]:
    if not isinstance(other, MetadataDictionary):
        raise TypeError(f"expected a MetadataDictionary, got {type(other).__name__}")
    return other._items


def _type_name(value: Any) -> str:
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


class Envelope:
    """A message travelling between operators with what its sender attached to it.

    ``metadata`` is a plain ``dict`` copied from the sender's dictionary when it emitted; it is
    shared by every receiver of the message and only read. ``acq_timestamp`` is the
    acquisition timestamp given to ``emit`` (ns of the scheduler's clock), or ``None``.
    ``label`` is set only in a tracked run (``Fragment.track``): the message's timestamped
    paths (see ``holoflow.core._tracked_contexts``); untracked envelopes leave it unset.
    """

    __slots__ = ("acq_timestamp", "label", "message", "metadata")
    label: Any

    def __init__(self, message: Any, metadata: Mapping[str, Any], acq_timestamp: int | None = None) -> None:
        self.message = message
        self.metadata = metadata
        self.acq_timestamp = acq_timestamp

    def __repr__(self) -> str:
        acquired = "" if self.acq_timestamp is None else f", acquired at {self.acq_timestamp}"
        return f"<Envelope {self.message!r} with metadata {dict(self.metadata)!r}{acquired}>"


def _active(op: Operator) -> MetadataDictionary | None:
    """The operator's dictionary when metadata is enabled for it (in the current run), else None."""
    run = op._holoflow_run
    if run is not None:
        return run.metadata
    return op.metadata if op.is_metadata_enabled else None


def stamp(op: Operator, message: Any) -> Any:
    """``message`` as ``op`` sends it: an :class:`Envelope` with a copy of ``op.metadata`` when
    metadata is enabled for ``op`` and its metadata is not empty, else ``message`` unchanged."""
    metadata = _active(op)
    if metadata is None or not metadata._items:
        return message
    return Envelope(message, dict(metadata._items))


def unstamp(op: Operator, item: Any) -> Any:
    """The message in ``item`` as ``op`` receives it.

    For an :class:`Envelope`, merge its metadata into ``op.metadata`` by the operator's policy
    (only when metadata is enabled for ``op``) and return the message; return anything else
    unchanged.

    Raises
    ------
    holoflow.errors.MetadataError
        If a key exists already and the operator's policy is ``RAISE``.
    """
    if type(item) is not Envelope:
        return item
    metadata = _active(op)
    if metadata is not None:
        metadata._absorb(item.metadata, "")
    return item.message


def resolve_metadata(op: Operator, on_cycle: bool = False) -> MetadataDictionary | None:
    """Prepare ``op``'s metadata for a run; return its dictionary when metadata is enabled for it.

    The enabled flag comes from the operator, else its fragment, else the application (default
    on). An operator whose policy is ``DEFAULT`` takes its fragment's for the run (the
    application's, else ``RAISE``), or ``UPDATE`` when it sits on a control-flow cycle (it
    receives its own keys back every round); :func:`release_metadata` gives ``DEFAULT`` back
    afterwards.
    """
    metadata = op.metadata
    metadata._label = f"operator '{op.name}'"
    if metadata._policy is MetadataPolicy.DEFAULT:
        inherited = MetadataPolicy.UPDATE if on_cycle else op.fragment.metadata_policy
        if inherited is MetadataPolicy.DEFAULT:
            inherited = MetadataPolicy.RAISE
        metadata._policy = metadata._inherited = inherited
    return metadata if op.is_metadata_enabled else None


def release_metadata(op: Operator) -> None:
    """End of a run: an operator whose policy came from its fragment goes back to ``DEFAULT``
    (unless the policy was set during the run)."""
    metadata = op.metadata
    if metadata._inherited is not None and metadata._policy is metadata._inherited:
        metadata._policy = MetadataPolicy.DEFAULT
    metadata._inherited = None
