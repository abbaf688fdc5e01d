"""The one registry of type names a GXF application file may use: GXF's and Holoscan's C++ type
names (and registered Python codelets) mapped onto holoflow's components.

Each :class:`TypeEntry` says what a type becomes (its ``role``), the holoflow class, and the
rules for its parameters (:class:`Rule`): plain values are checked against the type of the
class's default, handles name other components. Operators' rules come from their ``setup``.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from holoflow import conditions, operators, resources, schedulers
from holoflow.core import Fragment, IOSpec, Operator
from holoflow.errors import ConfigError
from holoflow.gxf._app._codelet import Codelet

__all__ = [
    "ENTRY_POINT_GROUP",
    "Rule",
    "TypeEntry",
    "closest",
    "load_entry_points",
    "load_extension",
    "lookup",
    "operator_entries",
    "own_components",
    "register_type",
    "registered_names",
    "scheduler_entries",
    "user_entries",
]

ENTRY_POINT_GROUP = "holoflow.gxf_codelets"
"""Entry-point group whose entries register codelets: name = type name, value = the class."""

RECEIVER = "receiver"
TRANSMITTER = "transmitter"
CONDITION = "condition"
RESOURCE = "resource"
CLOCK = "clock"
SCHEDULER = "scheduler"
SERIALIZER = "serializer"
CONNECTION = "connection"
OPERATOR = "operator"
CODELET = "codelet"


@dataclass(frozen=True)
class Rule:
    """How one parameter is read.

    ``kind``: ``"value"`` (checked against ``type`` when set), ``"port"`` (operators: a
    receiver or transmitter of the entity, or a list of them for an ``ANY_SIZE`` input),
    ``"receiver"`` / ``"transmitter"`` (scheduling terms: a queue of the entity), ``"receivers"``
    (a list of them), ``"resource"``, ``"clock"``, ``"condition"``, ``"serializer"``,
    ``"serializers"``, or ``"any"`` (accepted unchecked). ``target`` is the holoflow keyword
    (a port name for ``"port"``).
    """

    kind: str
    target: str
    type: type | tuple[type, ...] | None = None
    required: bool = False
    default: Any = None
    direction: str = ""
    """For ``"port"``: ``"input"`` or ``"output"``."""
    many: bool = False
    """For an input ``"port"``: it takes a list of receivers (an ``ANY_SIZE`` port)."""


@dataclass(frozen=True)
class TypeEntry:
    """A type name and what it becomes: ``role`` (receiver, transmitter, condition, resource,
    clock, scheduler, serializer, connection, operator, codelet), the holoflow class, its
    parameter rules; ``multi_port`` for conditions over several receivers."""

    name: str
    role: str
    cls: type | None
    rules: Mapping[str, Rule] = field(default_factory=dict)
    multi_port: Any = None
    """For a multi-port condition: its ``ConditionType``."""
    open_params: bool = False
    """Accept any parameter (the serializers, which holoflow does not need)."""


def _value_type(default: Any) -> type | tuple[type, ...] | None:
    if default is None or default is inspect.Parameter.empty:
        return None
    if isinstance(default, bool):
        return bool
    if isinstance(default, float):
        return (int, float)
    if isinstance(default, (int, str, list, dict)):
        return type(default)
    return None


def _signature_rules(
    cls: type, handles: Mapping[str, str] | None = None, skip: tuple[str, ...] = ()
) -> dict[str, Rule]:
    """Rules from ``cls.__init__``'s keywords (not ``fragment``/``name``); ``handles`` gives
    the kind of those that name other components."""
    handles = handles or {}
    rules = {}
    for key, param in inspect.signature(cls.__init__).parameters.items():  # type: ignore[misc]
        if key in ("self", "fragment", "name", *skip) or param.kind in (
            param.VAR_POSITIONAL,
            param.VAR_KEYWORD,
        ):
            continue
        required = param.default is inspect.Parameter.empty
        default = None if required else param.default
        if key in handles:
            rules[key] = Rule(handles[key], key, required=required)
        else:
            rules[key] = Rule("value", key, _value_type(param.default), required, default)
    return rules


def _entry(
    name: str, role: str, cls: type, handles: Mapping[str, str] | None = None, **extra: Any
) -> TypeEntry:
    skip = tuple(extra.pop("skip", ()))
    return TypeEntry(name, role, cls, _signature_rules(cls, handles, skip), **extra)


def _queue(name: str, role: str, cls: type) -> TypeEntry:
    rules = {
        "capacity": Rule("value", "capacity", int, default=1),
        "policy": Rule("value", "policy", int, default=2),
    }
    return TypeEntry(name, role, cls, rules)


@cache
def _builtin() -> dict[str, TypeEntry]:
    from holoflow.core import ConditionType

    gxf = "nvidia::gxf::"
    entries = [
        _queue(f"{gxf}DoubleBufferReceiver", RECEIVER, resources.DoubleBufferReceiver),
        _queue(f"{gxf}DoubleBufferTransmitter", TRANSMITTER, resources.DoubleBufferTransmitter),
        _entry(f"{gxf}MessageAvailableSchedulingTerm", CONDITION, conditions.MessageAvailableCondition,
               {"receiver": "receiver"}),
        _entry(f"{gxf}DownstreamReceptiveSchedulingTerm", CONDITION,
               conditions.DownstreamMessageAffordableCondition, {"transmitter": "transmitter"}),
        _entry(f"{gxf}ExpiringMessageAvailableSchedulingTerm", CONDITION,
               conditions.ExpiringMessageAvailableCondition, {"receiver": "receiver", "clock": "clock"}),
        _entry(f"{gxf}CountSchedulingTerm", CONDITION, conditions.CountCondition),
        _entry(f"{gxf}PeriodicSchedulingTerm", CONDITION, conditions.PeriodicCondition),
        _entry(f"{gxf}BooleanSchedulingTerm", CONDITION, conditions.BooleanCondition),
        _entry(f"{gxf}AsynchronousSchedulingTerm", CONDITION, conditions.AsynchronousCondition),
        _entry(f"{gxf}MemoryAvailableSchedulingTerm", CONDITION, conditions.MemoryAvailableCondition,
               {"allocator": "resource"}),
        _entry(f"{gxf}CudaStreamSchedulingTerm", CONDITION, conditions.CudaStreamCondition,
               {"receiver": "receiver", "receivers": "receivers"}),
        _entry(f"{gxf}CudaEventSchedulingTerm", CONDITION, conditions.CudaEventCondition,
               {"receiver": "receiver"}),
        _entry(f"{gxf}CudaBufferAvailableSchedulingTerm", CONDITION,
               conditions.CudaBufferAvailableCondition, {"receiver": "receiver"}),
        _multi(f"{gxf}MultiMessageAvailableSchedulingTerm", conditions.MultiMessageAvailableCondition,
               ConditionType.MULTI_MESSAGE_AVAILABLE),
        _multi(f"{gxf}MessageAvailableFrequencyThrottler", conditions.MultiMessageAvailableTimeoutCondition,
               ConditionType.MULTI_MESSAGE_AVAILABLE_TIMEOUT),
        _entry(f"{gxf}UnboundedAllocator", RESOURCE, resources.UnboundedAllocator),
        _entry(f"{gxf}BlockMemoryPool", RESOURCE, resources.BlockMemoryPool),
        _entry(f"{gxf}CudaAllocator", RESOURCE, resources.CudaAllocator),
        _entry(f"{gxf}RMMAllocator", RESOURCE, resources.RMMAllocator),
        _entry(f"{gxf}StreamOrderedAllocator", RESOURCE, resources.StreamOrderedAllocator),
        _entry(f"{gxf}CudaStreamPool", RESOURCE, resources.CudaStreamPool),
        _entry(f"{gxf}RealtimeClock", CLOCK, resources.RealtimeClock),
        _entry(f"{gxf}ManualClock", CLOCK, resources.ManualClock),
        _entry(f"{gxf}SyntheticClock", CLOCK, resources.SyntheticClock),
        _entry(f"{gxf}GreedyScheduler", SCHEDULER, schedulers.GreedyScheduler, {"clock": "clock"}),
        _entry(f"{gxf}MultiThreadScheduler", SCHEDULER, schedulers.MultiThreadScheduler, {"clock": "clock"}),
        _entry(f"{gxf}EventBasedScheduler", SCHEDULER, schedulers.EventBasedScheduler, {"clock": "clock"}),
        TypeEntry(f"{gxf}Connection", CONNECTION, None, {
            "source": Rule("value", "source", str, required=True),
            "target": Rule("value", "target", str, required=True),
        }),
    ]  # fmt: skip
    entries.extend(
        TypeEntry(name, SERIALIZER, None, open_params=True)
        for name in (
            f"{gxf}StdComponentSerializer",
            f"{gxf}StdEntitySerializer",
            "nvidia::holoscan::stream_playback::VideoStreamSerializer",
            f"{gxf}UcxComponentSerializer",
            f"{gxf}UcxEntitySerializer",
            f"{gxf}UcxHoloscanComponentSerializer",
        )
    )
    table = {entry.name: entry for entry in entries}
    for entry in operator_entries():
        table[entry.name] = entry
    return table


def _multi(name: str, cls: type, kind: Any) -> TypeEntry:
    rules = _signature_rules(cls)
    rules["receivers"] = Rule("receivers", "receivers", required=True)
    return TypeEntry(name, CONDITION, cls, rules, multi_port=kind)


_OPERATORS: tuple[tuple[str, tuple[str, ...], dict[str, str]], ...] = (
    # (class in holoflow.operators, GXF/Holoscan type names besides holoscan::ops::<Class>,
    #  GXF parameter keys naming a holoflow port by another name)
    ("VideoStreamReplayerOp", ("nvidia::holoscan::stream_playback::VideoStreamReplayer",),
     {"transmitter": "output"}),
    ("VideoStreamRecorderOp", ("nvidia::holoscan::stream_playback::VideoStreamRecorder",
                               "nvidia::gxf::EntityRecorder"), {"receiver": "input"}),
    ("FormatConverterOp", ("nvidia::holoscan::formatconverter::FormatConverter",),
     {"in": "source_video", "out": "tensor"}),
    ("HolovizOp", ("nvidia::holoscan::Holoviz",), {}),
    ("SegmentationPostprocessorOp", ("nvidia::holoscan::segmentation_postprocessor::Postprocessor",),
     {"in": "in_tensor", "out": "out_tensor"}),
    ("InferenceOp", ("nvidia::holoscan::multiai::MultiAIInference",), {}),
    ("InferenceProcessorOp", ("nvidia::holoscan::multiai::MultiAIPostprocessor",), {}),
    ("BayerDemosaicOp", ("nvidia::holoscan::BayerDemosaic",), {}),
    ("ToolTrackingPostprocessorOp", ("nvidia::holoscan::tool_tracking_postprocessor::Postprocessor",), {}),
    ("V4L2VideoCaptureOp", ("nvidia::holoscan::V4L2VideoCapture",), {}),
    ("PingTxOp", (), {}),
    ("PingRxOp", (), {}),
    ("PingTensorTxOp", (), {}),
    ("PingTensorRxOp", (), {}),
    ("ImageProcessorOp", (), {}),
    ("RawImageProcessorOp", (), {}),
    ("CsiToBayerOp", (), {}),
    ("LinuxReceiverOp", (), {}),
    ("RoceReceiverOp", (), {}),
)  # fmt: skip
"""Every operator of ``holoflow.operators`` but ``GXFCodeletOp`` (a wrapper of C++ codelets)."""

UNMAPPED_OPERATORS = ("GXFCodeletOp",)


@cache
def operator_entries() -> tuple[TypeEntry, ...]:
    """The entries of the built-in operators: each under ``holoscan::ops::<ClassName>`` and its
    GXF/Holoscan type names."""
    found: list[TypeEntry] = []
    for class_name, names, renames in _OPERATORS:
        cls = getattr(operators, class_name)
        rules = operator_rules(cls, tuple(renames.items()))
        found.extend(
            TypeEntry(name, OPERATOR, cls, rules) for name in (*names, f"holoscan::ops::{class_name}")
        )
    return tuple(found)


_PROBES: dict[type, Operator] = {}


def _probe(cls: type[Operator]) -> Operator:
    """An instance on a throwaway fragment, to read the ports and parameters ``setup`` declares."""
    if cls not in _PROBES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _PROBES[cls] = cls(Fragment(), name="probe")
    return _PROBES[cls]


def own_components(cls: type[Operator]) -> set[str]:
    """Names of the conditions and resources an operator of ``cls`` makes for itself."""
    probe = _probe(cls)
    return {*probe.conditions, *probe.resources}


def operator_rules(cls: type[Operator], renames: tuple[tuple[str, str], ...] = ()) -> dict[str, Rule]:
    """Rules for an operator class: one ``"port"`` rule per input and output (under its own name
    and any GXF key in ``renames``), one ``"value"`` rule per declared parameter.

    Raises
    ------
    holoflow.errors.ConfigError
        If the class cannot be constructed without arguments (its ports are unknown then).
    """
    try:
        probe = _probe(cls)
    except Exception as exc:
        raise ConfigError(f"{cls.__name__} cannot be described: {exc}") from exc
    spec = probe.spec
    rules: dict[str, Rule] = {}
    for key, param in spec.params.items():
        rules[key] = Rule("value", key, _value_type(param.default), default=param.default)
    ports = {**{n: n for n in (*spec.inputs, *spec.outputs)}, **dict(renames)}
    for key, port in ports.items():
        if port.startswith("__"):
            continue
        direction = "input" if port in spec.inputs else "output"
        many = direction == "input" and spec.inputs[port].queue_size == IOSpec.ANY_SIZE
        rules[key] = Rule("port", port, direction=direction, many=many)
    return rules


def codelet_rules(cls: type[Codelet]) -> dict[str, Rule]:
    """Rules for a Python codelet, from its ``register_interface``."""
    rules = {}
    for key, info in cls.interface().items():
        if info.kind in ("receiver", "transmitter"):
            direction = "input" if info.kind == "receiver" else "output"
            rules[key] = Rule("port", key, required=info.required, direction=direction)
        elif info.kind == "value":
            rules[key] = Rule("value", key, info.type, info.required, None if info.required else info.default)
        else:
            rules[key] = Rule(info.kind, key, required=info.required)
    return rules


_USER: dict[str, TypeEntry] = {}


def register_type(name: str, factory: type) -> None:
    """Register a Python codelet (a :class:`Codelet` subclass) or an operator class (an
    ``Operator`` subclass, its ports bound by their own names) under the type name ``name``.

    Raises
    ------
    TypeError
        If ``factory`` is neither.
    ValueError
        If ``name`` is a built-in type name or empty.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"register_type: the type name must be a non-empty string, got {name!r}")
    if name in _builtin():
        raise ValueError(f"register_type: {name!r} is a built-in type name")
    if isinstance(factory, type) and issubclass(factory, Codelet):
        _USER[name] = TypeEntry(name, CODELET, factory, codelet_rules(factory))
    elif isinstance(factory, type) and issubclass(factory, Operator):
        _USER[name] = TypeEntry(name, OPERATOR, factory, operator_rules(factory))
    else:
        raise TypeError(
            f"register_type({name!r}, ...): give a holoflow.gxf.Codelet or holoflow.core.Operator "
            f"subclass, not {factory!r}"
        )


def _import(module_name: str) -> ModuleType:
    if not module_name.endswith(".py"):
        return importlib.import_module(module_name)
    path = Path(module_name).resolve()
    name = f"holoflow_gxf_extension_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module at {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_extension(module_name: str) -> list[str]:
    """Import ``module_name`` (a dotted name, or the path of a ``.py`` file) and register the
    codelets it defines (each ``Codelet`` subclass
    whose ``__module__`` it is, under its ``type_name`` or class name); the module may also
    call :func:`register_type` itself. Returns the type names it registered.

    Raises
    ------
    holoflow.errors.ConfigError
        If the module cannot be imported.
    """
    try:
        module = _import(module_name)
    except Exception as exc:  # the module's own error, whatever it is, reported as the extension's
        raise ConfigError(
            f"extension {module_name!r} cannot be imported: {type(exc).__name__}: {exc}"
        ) from exc
    names = []
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, Codelet)
            and value is not Codelet
            and value.__module__ == module.__name__
        ):
            name = value.type_name or value.__name__
            try:
                register_type(name, value)
            except ValueError as exc:
                raise ConfigError(f"extension {module_name!r}: {exc}") from None
            names.append(name)
    return names


def load_entry_points() -> None:
    """Register the codelets of the entry-point group ``holoflow.gxf_codelets`` (name = type
    name, value = a Codelet or Operator class, or a module registered as by ``--extension``).

    Raises
    ------
    holoflow.errors.ConfigError
        If an entry point cannot be loaded.
    """
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in _USER:
            continue
        try:
            value = point.load()
        except Exception as exc:
            raise ConfigError(f"entry point {point.name!r} ({point.value}) cannot be loaded: {exc}") from exc
        if inspect.ismodule(value):
            load_extension(value.__name__)
            continue
        try:
            register_type(point.name, value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"entry point {point.name!r} ({point.value}): {exc}") from None


def user_entries() -> list[TypeEntry]:
    """The entries registered with :func:`register_type`, newest first."""
    return list(reversed(_USER.values()))


def scheduler_entries() -> list[TypeEntry]:
    """The schedulers' entries."""
    return [entry for entry in _builtin().values() if entry.role == SCHEDULER]


def lookup(name: str) -> TypeEntry | None:
    """The entry of type name ``name``, or ``None``."""
    return _USER.get(name) or _builtin().get(name)


def registered_names() -> list[str]:
    """Every type name the registry knows, sorted."""
    return sorted({*_builtin(), *_USER})


def closest(name: str) -> list[str]:
    """Up to three registered names closest to ``name``."""
    names = registered_names()
    found = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if not found:  # compare the last part only: "GreedySchedular" -> nvidia::gxf::GreedyScheduler
        short = {n.rsplit("::", 1)[-1]: n for n in names}
        found = [short[s] for s in difflib.get_close_matches(name.rsplit("::", 1)[-1], list(short), n=3)]
    return found
