"""Python codelets in GXF's model: a :class:`Codelet` declares its parameters in
``register_interface`` and works in ``tick``; :class:`CodeletOperator` runs one as an operator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from holoflow.core import Operator
from holoflow.errors import CodecError
from holoflow.gxf import Component, StorageType, Timestamp
from holoflow.tensor import Tensor, as_tensor, is_tensor_like, to_host

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, InputContext, OperatorSpec, OutputContext

__all__ = [
    "HANDLE_KINDS",
    "Codelet",
    "CodeletOperator",
    "ParameterInfo",
    "ReceiverHandle",
    "Registrar",
    "SerializerHandle",
    "TransmitterHandle",
]

HANDLE_KINDS = ("receiver", "transmitter", "resource", "serializer", "condition")
"""Parameter kinds whose value names another component of the entity."""

_NO_DEFAULT: Any = object()


@dataclass(frozen=True)
class ParameterInfo:
    """One declared parameter: key, headline, description, default, optional flag, kind and
    (for ``kind="value"``) the Python type its value must have (``None``: any)."""

    key: str
    headline: str
    description: str
    default: Any
    optional: bool
    kind: str
    type: type | tuple[type, ...] | None

    @property
    def required(self) -> bool:
        """True when the file must set it: not optional and without a default."""
        return not self.optional and self.default is _NO_DEFAULT


class Registrar:
    """What :meth:`Codelet.register_interface` declares its parameters with."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self.parameters: dict[str, ParameterInfo] = {}

    def parameter(
        self,
        key: str,
        headline: str = "",
        description: str = "",
        *,
        default: Any = _NO_DEFAULT,
        optional: bool = False,
        kind: str = "value",
        type: type | tuple[type, ...] | None = None,
    ) -> None:
        """Declare parameter ``key``.

        ``kind`` is ``"value"`` (a plain value; ``type`` checks it, else the default's type
        does), ``"receiver"`` / ``"transmitter"`` (a queue component of the entity: the codelet
        gets a handle with ``receive()`` / ``publish()``), ``"resource"``, ``"serializer"`` or
        ``"condition"`` (another component of the entity). A parameter without a default that
        is not ``optional`` is required; an optional one left unset reads as ``None``.

        Raises
        ------
        ValueError
            For an unknown kind or a key declared twice.
        """
        if kind != "value" and kind not in HANDLE_KINDS:
            raise ValueError(f"{self._owner}: parameter '{key}': unknown kind {kind!r}")
        if key in self.parameters:
            raise ValueError(f"{self._owner}: parameter '{key}' is declared twice")
        if type is None and kind == "value" and default is not _NO_DEFAULT and default is not None:
            type = (int, float) if isinstance(default, float) else builtin_type(default)
        self.parameters[key] = ParameterInfo(key, headline, description, default, optional, kind, type)

    def receiver(self, key: str, headline: str = "", description: str = "", **kwargs: Any) -> None:
        """Declare a receiver parameter (``parameter(key, ..., kind="receiver")``)."""
        self.parameter(key, headline, description, kind="receiver", **kwargs)

    def transmitter(self, key: str, headline: str = "", description: str = "", **kwargs: Any) -> None:
        """Declare a transmitter parameter (``parameter(key, ..., kind="transmitter")``)."""
        self.parameter(key, headline, description, kind="transmitter", **kwargs)


def builtin_type(value: Any) -> type:
    """The type a value of a parameter must have, judged by ``value`` (bool is not int)."""
    return bool if isinstance(value, bool) else type(value)


class Codelet:
    """Base class of a Python codelet, GXF's unit of work, run as one holoflow operator.

    Subclasses declare parameters in :meth:`register_interface` and override the lifecycle:
    ``initialize`` (once per run, before ``start``), ``start``, ``tick`` (each time the
    entity's scheduling terms allow it), ``stop`` and ``deinitialize`` (once per run, after
    ``stop``). Parameters read as attributes; a receiver or transmitter parameter is a
    :class:`ReceiverHandle` / :class:`TransmitterHandle`, a serializer one a
    :class:`SerializerHandle`. ``name`` is the component's name, ``entity`` the entity's.

    The class registers under ``type_name`` (default: the class name) when its module is
    given to ``--extension`` / ``load_app(extensions=...)`` or named by an entry point of the
    group ``holoflow.gxf_codelets``; :func:`holoflow.gxf.register_type` registers it by hand.
    """

    type_name: ClassVar[str | None] = None
    """The type name files use for this codelet (``None``: the class name)."""

    name: str = ""
    entity: str = ""

    def register_interface(self, r: Registrar) -> None:
        """Declare the parameters with ``r.parameter(...)``. Default: none."""

    def initialize(self) -> None:
        """Light set-up, once per run before ``start``. Default: nothing."""

    def start(self) -> None:
        """Heavy set-up before the first ``tick``. Default: nothing."""

    def tick(self) -> None:
        """One unit of work: receive from receiver handles, publish to transmitter handles."""

    def stop(self) -> None:
        """Undo ``start``; called after the last ``tick``. Default: nothing."""

    def deinitialize(self) -> None:
        """Undo ``initialize``, once per run after ``stop``. Default: nothing."""

    @classmethod
    def interface(cls) -> dict[str, ParameterInfo]:
        """The parameters that :meth:`register_interface` declares, by key."""
        registrar = Registrar(cls.__name__)
        cls.register_interface(cls.__new__(cls), registrar)
        return registrar.parameters


class ReceiverHandle:
    """A receiver parameter of a codelet: the queue of one input port of its operator."""

    def __init__(self, name: str, port: str) -> None:
        self.name = name
        """The receiver component's name."""
        self.port = port
        self._input: InputContext | None = None

    def receive(self) -> Any:
        """The next message, or ``None`` when the queue is empty (only within ``tick``)."""
        if self._input is None:
            raise RuntimeError(f"receiver '{self.name}': receive() works only within tick()")
        return self._input.receive(self.port)


class TransmitterHandle:
    """A transmitter parameter of a codelet: one output port of its operator."""

    def __init__(self, name: str, port: str) -> None:
        self.name = name
        """The transmitter component's name."""
        self.port = port
        self._output: OutputContext | None = None

    def publish(self, message: Any) -> None:
        """Send ``message`` downstream (only within ``tick``)."""
        if self._output is None:
            raise RuntimeError(f"transmitter '{self.name}': publish() works only within tick()")
        self._output.emit(message, self.port)


class SerializerHandle:
    """An entity serializer parameter (GXF's ``StdEntitySerializer``, ``VideoStreamSerializer``):
    turns a message into the components of one GXF entity, as ``VideoStreamRecorderOp`` does."""

    def __init__(self, name: str) -> None:
        self.name = name

    def serialize(self, message: Any) -> list[Component]:
        """The components of ``message`` (a dict of arrays and scalars, or one array), ready for
        :meth:`holoflow.gxf.GXFWriter.write`: host tensors are stored as "system", CUDA ones
        (copied to the host) as "device"; values GXF cannot store are left out.

        Raises
        ------
        holoflow.errors.CodecError
            If ``message`` is neither a dict nor an array.
        """
        if isinstance(message, dict):
            items = list(message.items())
        elif is_tensor_like(message):
            items = [("", message)]
        else:
            raise CodecError(
                f"serializer '{self.name}': cannot serialize a {type(message).__name__}; "
                "send an array or a dict of arrays"
            )
        components = []
        for name, value in items:
            if isinstance(value, (Timestamp, bool, int, float, np.generic)):
                components.append(Component(str(name), value))
            elif isinstance(value, Tensor) or is_tensor_like(value):
                tensor = as_tensor(value)
                if tensor.is_cuda:
                    components.append(Component(str(name), to_host(tensor), StorageType.DEVICE))
                else:
                    components.append(Component(str(name), np.asarray(tensor), StorageType.SYSTEM))
        return components


class CodeletOperator(Operator):
    """Runs one :class:`Codelet` as an operator: an input port per receiver parameter and an
    output port per transmitter parameter, each named by the parameter's key.

    ``CodeletOperator(fragment, codelet=..., bindings=..., name=...)``: ``bindings`` maps a
    parameter key to the component name (receiver/transmitter/serializer kinds) or value it
    was given; the constructor sets the codelet's attributes from it.
    """

    def __init__(self, fragment: Any, *args: Any, codelet: Codelet, bindings: dict[str, Any], **kwargs: Any):
        self._codelet = codelet
        self._interface = type(codelet).interface()
        self._handles: list[ReceiverHandle | TransmitterHandle] = []
        super().__init__(fragment, *args, **kwargs)
        codelet.name = codelet.name or self.name
        for key, info in self._interface.items():
            value = bindings.get(key, None if info.default is _NO_DEFAULT else info.default)
            if info.kind == "receiver" and value is not None:
                value = ReceiverHandle(str(value), key)
                self._handles.append(value)
            elif info.kind == "transmitter" and value is not None:
                value = TransmitterHandle(str(value), key)
                self._handles.append(value)
            elif info.kind == "serializer" and value is not None:
                value = SerializerHandle(str(value))
            setattr(codelet, key, value)

    @property
    def codelet(self) -> Codelet:
        """The codelet this operator runs."""
        return self._codelet

    def setup(self, spec: OperatorSpec) -> None:
        for key, info in self._interface.items():
            if info.kind == "receiver":
                spec.input(key)
            elif info.kind == "transmitter":
                spec.output(key)

    def initialize(self) -> None:
        self._codelet.initialize()

    def start(self) -> None:
        self._codelet.start()

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        for handle in self._handles:
            if isinstance(handle, ReceiverHandle):
                handle._input = op_input
            else:
                handle._output = op_output
        try:
            self._codelet.tick()
        finally:
            for handle in self._handles:
                if isinstance(handle, ReceiverHandle):
                    handle._input = None
                else:
                    handle._output = None

    def stop(self) -> None:
        try:
            self._codelet.stop()
        finally:
            self._codelet.deinitialize()
