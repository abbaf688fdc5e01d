"""Pictures of a composed graph: an application or fragment as Graphviz DOT text.

Each operator is one node whose HTML-like label is a table: its name and class on top, its
input ports down the left beside its output ports down the right, and below them the conditions
and resources it holds. Each connection is an edge from output port to input port, labelled with
what the run builds for it (read from ``_build.py``, which builds it): the receiving queue's
capacity and full-queue policy, the conditions watching the receiving port (``rx``) and the
sending port (``tx``), and for an ``IOSpec.ANY_SIZE`` input the name of the connection's own
queue (``in:0``, ``in:1``...); a condition object watching a connected port is shown there and
not repeated in its node. Control flows (execution ports) are dashed, subgraphs dashed boxes; an
application with fragments draws each fragment as a box and the connections between fragments
as bold edges.

The text depends only on the graph, not on the order things were added: nodes, ports and edges
are sorted (the connections of an ``ANY_SIZE`` input keep their queue names, which do follow the
order of ``add_flow``, as the run's do). Names are escaped for DOT's quoted strings and for HTML
labels; a port whose name is not a plain identifier gets its cell's PORT by position, so that
the two spellings never have to agree.
"""

from __future__ import annotations

import enum
import inspect
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from holoflow.core._build import _single_signal_port, default_policy
from holoflow.core._component import Component
from holoflow.core._condition import Condition, ConditionType
from holoflow.core._flow import EXEC_PORTS, INPUT_EXEC
from holoflow.core._or_combiner import OrConditionCombiner
from holoflow.core._spec import IOSpec
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._operator import Operator
    from holoflow.core._queue import QueuePolicy
    from holoflow.core._subgraph import Subgraph

__all__ = ["graph_dot"]

_SAFE_PORT = re.compile(r"[A-Za-z0-9_]+")
_LINK_COLOR = "#1f5fa8"
_HEADER_COLOR = "#dce6f2"
_SKIPPED_PARAMETERS = frozenset(
    ("self", "fragment", "name", "receiver", "transmitter", "receiver_name", "transmitter_name")
)
_TEXT_LIMIT = 40
_MISSING = object()


@dataclass(frozen=True, order=True)
class _Edge:
    """One edge to draw; sorted by its ends, so the text does not depend on insertion order."""

    source: str
    output: str
    target: str
    input: str
    queue: str = ""
    """The receiving queue's name when it is not the port's (``in:0`` on an ANY_SIZE input)."""
    label: tuple[str, ...] = field(default=(), compare=False)
    source_port: str = field(default="", compare=False)
    """The PORT of the output's cell (see :func:`_port_id`)."""
    target_port: str = field(default="", compare=False)
    control: bool = field(default=False, compare=False)
    link: bool = field(default=False, compare=False)
    """A connection between two fragments."""


def graph_dot(fragment: Fragment) -> str:
    """The graph of ``fragment`` (composed first, once) as Graphviz DOT text.

    An :class:`~holoflow.core.Application` with fragments is drawn as one cluster per fragment
    (each composed first), with its fragment connections as edges between them.

    Raises
    ------
    holoflow.errors.GraphError
        If a fragment connection names an operator or port that does not exist, or the
        environment names an unknown queue policy (``HOLOFLOW_QUEUE_POLICY``).
    Exception
        Whatever the application's ``compose`` raises.
    """
    fragment.compose_graph()
    policy = default_policy()
    members = sorted(_fragments(fragment), key=lambda f: f.name)
    for member in members:
        member.compose_graph()
    own = _edges(fragment, "", policy)
    inside = [_edges(member, f"{member.name}.", policy) for member in members]
    links = _fragment_links(fragment, policy) if members else []
    drawn = {
        end
        for edge in (*own, *(e for edges in inside for e in edges), *links)
        for end in ((edge.source, "o", edge.output), (edge.target, "i", edge.input))
    }
    title = _title(fragment)
    lines = [
        f"digraph {_quote(title)} {{",
        f"  graph [rankdir=LR, fontname=Helvetica, fontsize=12, labelloc=t, label={_quote(title)}];",
        "  node [shape=plain, fontname=Helvetica, fontsize=10];",
        "  edge [fontname=Helvetica, fontsize=8, arrowsize=0.7];",
    ]
    clusters = itertools.count()
    lines.extend(_node_lines(fragment, "", drawn, "  ", clusters))
    lines.extend(_edge_line(edge, "  ") for edge in own)
    for member, edges in zip(members, inside, strict=True):
        label = f"fragment {member.name} ({type(member).__name__})"
        lines.append(f"  subgraph {_quote(f'cluster_{next(clusters)}')} {{")
        lines.append(f"    graph [label={_quote(label)}, style=rounded, color=gray50];")
        lines.extend(_node_lines(member, f"{member.name}.", drawn, "    ", clusters))
        lines.extend(_edge_line(edge, "    ") for edge in edges)
        lines.append("  }")
    lines.extend(_edge_line(edge, "  ") for edge in sorted(links))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _title(fragment: Fragment) -> str:
    kind = type(fragment).__name__
    return f"{fragment.name} ({kind})" if fragment.name else kind


def _fragments(fragment: Fragment) -> list[Fragment]:
    graph = getattr(fragment, "fragment_graph", None)
    return graph.get_nodes() if graph is not None else []


# -- operators and their edges -------------------------------------------------------------------
def _node_lines(
    fragment: Fragment,
    prefix: str,
    drawn: set[tuple[str, str, str]],
    indent: str,
    clusters: Iterator[int],
) -> list[str]:
    """The operators of one fragment, sorted, those of each subgraph in a dashed cluster (nested
    as the subgraphs are); node ids are ``prefix + name``. ``drawn`` holds the ports that edges
    reach, as ``(node id, "i" or "o", port)``; ``clusters`` numbers the clusters."""
    innermost: dict[int, Subgraph] = {}

    def claim(subgraph: Subgraph) -> None:  # a nested subgraph claims its operators after its parent
        for op in subgraph.operators():
            innermost[id(op)] = subgraph
        for nested in subgraph.nested_subgraphs:
            claim(nested)

    for subgraph in fragment.subgraphs:
        claim(subgraph)
    ops = sorted(fragment.graph.get_nodes(), key=lambda op: op.name)

    def node(op: Operator, at: str) -> str:
        node_id = prefix + op.name
        connected = {(side, port) for (n, side, port) in drawn if n == node_id}
        return f"{at}{_quote(node_id)} [label=<{_node_table(op, connected)}>];"

    def cluster(subgraph: Subgraph, at: str) -> list[str]:
        label = f"subgraph {subgraph.name} ({type(subgraph).__name__})"
        lines = [
            f"{at}subgraph {_quote(f'cluster_{next(clusters)}')} {{",
            f"{at}  graph [label={_quote(label)}, style=dashed, color=gray60];",
        ]
        lines.extend(node(op, at + "  ") for op in ops if innermost.get(id(op)) is subgraph)
        lines.extend(clusters_of(subgraph.nested_subgraphs, at + "  "))
        lines.append(f"{at}}}")
        return lines

    def clusters_of(subgraphs: list[Subgraph], at: str) -> list[str]:  # those holding operators
        held = [sg for sg in sorted(subgraphs, key=lambda sg: sg.name) if sg.operators()]
        return [line for sg in held for line in cluster(sg, at)]

    lines = [node(op, indent) for op in ops if id(op) not in innermost]
    lines.extend(clusters_of(fragment.subgraphs, indent))
    return lines


def _edges(fragment: Fragment, prefix: str, policy: QueuePolicy) -> list[_Edge]:
    """The connections of one fragment's operator graph, sorted."""
    graph = fragment.graph
    order = {id(op): index for index, op in enumerate(graph.topological_order())}
    connections = graph.connections
    edges = []
    for connection, queue in graph._labelled_connections():
        source, target = connection.source, connection.target
        spec = target.spec.inputs[connection.input]
        links = [c for c in connections if c.target is target and c.input == connection.input]
        if connection.input == INPUT_EXEC and any(order[id(c.source)] >= order[id(target)] for c in links):
            spec = _single_signal_port(spec)  # on a cycle, as the run builds it
        capacity = spec._capacity(1 if spec.queue_size == IOSpec.ANY_SIZE else len(links))
        label = _edge_label(
            queue if queue != connection.input else "",
            _queue_text(spec, capacity, policy),
            _input_conditions(target, spec, len(links)),
            _output_conditions(source, source.spec.outputs[connection.output], target is source),
        )
        edges.append(
            _Edge(
                prefix + source.name,
                connection.output,
                prefix + target.name,
                connection.input,
                queue if queue != connection.input else "",
                label,
                _port_ids(source)[("o", connection.output)],
                _port_ids(target)[("i", connection.input)],
                control=connection.input in EXEC_PORTS,
            )
        )
    return sorted(edges)


def _fragment_links(app: Fragment, policy: QueuePolicy) -> list[_Edge]:
    """The connections between fragments, resolved to operator ports as the run resolves them
    (``op.port``, or a bare ``op`` for its only data output or input) and taken in the run's
    order (fragments as added, each flow's pairs sorted), which numbers the queues of an
    ``ANY_SIZE`` input: after its local connections, one per connection from another fragment."""
    graph = app.fragment_graph  # type: ignore[attr-defined]
    seen: set[tuple[int, str, int, str]] = set()
    next_index: dict[tuple[int, str], int] = {}
    edges = []
    for source_fragment in graph.get_nodes():
        for target_fragment in graph.get_next_nodes(source_fragment):
            port_map = graph.get_port_map(source_fragment, target_fragment)
            for out_name, in_name in sorted((out, in_) for out, ins in port_map.items() for in_ in ins):
                source, output = _resolve_end(source_fragment, out_name, "output")
                target, input_ = _resolve_end(target_fragment, in_name, "input")
                key = (id(source), output, id(target), input_)
                if key in seen:  # the same pair named twice ("tx" and "tx.out")
                    continue
                seen.add(key)
                edges.append(_link(source, output, target, input_, policy, next_index))
    return edges


def _link(
    source: Operator,
    output: str,
    target: Operator,
    input_: str,
    policy: QueuePolicy,
    next_index: dict[tuple[int, str], int],
) -> _Edge:
    spec = target.spec.inputs[input_]
    local_links = sum(
        1 for c in target.fragment.graph.connections if c.target is target and c.input == input_
    )
    queue = ""
    if spec.queue_size == IOSpec.ANY_SIZE:
        index = next_index.get((id(target), input_), local_links)
        next_index[(id(target), input_)] = index + 1
        queue = f"{input_}:{index}"
    label = _edge_label(
        queue,
        _queue_text(spec, spec._capacity(1), policy),
        _input_conditions(target, spec, local_links),
        _output_conditions(source, source.spec.outputs[output], False),
    )
    return _Edge(
        f"{source.fragment.name}.{source.name}",
        output,
        f"{target.fragment.name}.{target.name}",
        input_,
        queue,
        ("between fragments", *label),
        _port_ids(source)[("o", output)],
        _port_ids(target)[("i", input_)],
        link=True,
    )


def _resolve_end(fragment: Fragment, name: str, side: str) -> tuple[Operator, str]:
    op_name, _, port = name.partition(".")
    op = fragment.graph.find_node(op_name)
    if op is None:
        known = ", ".join(sorted(o.name for o in fragment.graph.get_nodes()))
        raise GraphError(
            f"fragment '{fragment.name}' has no operator '{op_name}' (named by a fragment connection "
            f"{name!r}); its operators: {known or 'none'}"
        )
    ports = op.spec.outputs if side == "output" else op.spec.inputs
    data = sorted(p for p in ports if p not in EXEC_PORTS)
    if port in data:
        return op, port
    if not port and len(data) == 1:
        return op, data[0]
    wanted = f"port '{port}'" if port else f"single {side} port"
    raise GraphError(
        f"fragment '{fragment.name}': operator '{op_name}' has no {side} {wanted} (named by a fragment "
        f"connection {name!r}); its {side}s: {', '.join(data) or 'none'}"
    )


# -- what the run builds for a port --------------------------------------------------------------
def _queue_text(spec: IOSpec, capacity: int, policy: QueuePolicy) -> str:
    if spec.connector_type is IOSpec.ConnectorType.ASYNC_BUFFER:
        return "async buffer (latest message)"
    return f"capacity {capacity}, {spec._policy(policy).name}"


def _input_conditions(op: Operator, spec: IOSpec, n_links: int) -> list[str]:
    """The conditions that watch input ``spec`` of ``op``, as the run builds them: the declared
    ones, else (unless a condition object or a multi-port condition watches the port) the
    default ``MessageAvailable``; then those objects and multi-port conditions."""
    name = spec.name
    bound = [c for c in _user_conditions(op) if c.receiver_name == name]
    multi = [info for info in op.spec.multi_port_conditions() if name in info.port_names]
    default = []
    if spec.connector_type is not IOSpec.ConnectorType.ASYNC_BUFFER:  # the consumer runs at its own rate
        size = n_links if spec.queue_size == 0 else spec.queue_size
        default = [_declared_text(ConditionType.MESSAGE_AVAILABLE, {"min_size": max(size, 1)})]
    texts = _declared_or_default(spec, bool(bound or multi), default)
    combined = _combined_terms(op)
    texts.extend(
        _component_text(c) + (f" [OR {combined[id(c)]}]" if id(c) in combined else "") for c in bound
    )
    for info in multi:
        args = "".join(f", {arg.name}={_value_text(arg.value)}" for arg in info.args)
        texts.append(f"{_kind_text(info.kind)}(ports={'+'.join(info.port_names)}{args})")
    if any(name in group for group in op.spec._or_groups()):
        texts = [f"{text} [OR]" for text in texts]
    return texts


def _output_conditions(op: Operator, spec: IOSpec, self_loop: bool) -> list[str]:
    """The conditions that watch output ``spec`` of ``op``: the declared ones, else the default
    ``DownstreamMessageAffordable`` (none on an async buffer, nor on the execution port of an
    operator that signals itself); then the condition objects that name the port."""
    bound = [c for c in op.conditions.values() if c.transmitter_name == spec.name]
    default = [_declared_text(ConditionType.DOWNSTREAM_MESSAGE_AFFORDABLE, {"min_size": 1})]
    if spec.connector_type is IOSpec.ConnectorType.ASYNC_BUFFER or (spec.name in EXEC_PORTS and self_loop):
        default = []
    texts = _declared_or_default(spec, bool(bound), default)
    texts.extend(_component_text(c) for c in bound)
    return texts


def _declared_or_default(spec: IOSpec, user_bound: bool, default: list[str]) -> list[str]:
    declared = spec.conditions
    if any(kind is ConditionType.NONE for kind, _ in declared):
        return ["none"]
    if declared:
        return [_declared_text(kind, kwargs) for kind, kwargs in declared]
    return [] if user_bound else default


def _user_conditions(op: Operator) -> list[Condition]:
    """The operator's conditions and the terms of its ``OrConditionCombiner`` resources."""
    found = list(op.conditions.values())
    terms = [term for combiner in _combiners(op) for term in combiner.terms]
    found.extend(term for term in terms if term not in found)
    return found


def _combined_terms(op: Operator) -> dict[int, str]:
    """id of each term of the operator's ``OrConditionCombiner`` resources → the combiner's name."""
    return {id(term): combiner.name for combiner in _combiners(op) for term in combiner.terms}


def _combiners(op: Operator) -> list[OrConditionCombiner]:
    return [r for r in op.resources.values() if isinstance(r, OrConditionCombiner)]


def _edge_label(queue: str, queue_text: str, rx: Iterable[str], tx: Iterable[str]) -> tuple[str, ...]:
    lines = [f"{queue}, {queue_text}" if queue else queue_text]
    lines.extend(f"rx {text}" for text in rx)
    lines.extend(f"tx {text}" for text in tx)
    return tuple(lines)


# -- text ----------------------------------------------------------------------------------------
def _kind_text(kind: ConditionType) -> str:
    """``MESSAGE_AVAILABLE`` → ``MessageAvailable``."""
    return "".join(part.capitalize() for part in kind.name.split("_"))


def _declared_text(kind: ConditionType, kwargs: dict[str, Any]) -> str:
    args = ", ".join(f"{key}={_value_text(value)}" for key, value in sorted(kwargs.items()))
    return f"{_kind_text(kind)}({args})"


def _value_text(value: Any) -> str:
    if isinstance(value, Component):
        return value.name
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value_text(item) for item in value) + "]"
    text = str(value) if isinstance(value, str) else repr(value)
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 3] + "..."


def _is_plain(value: Any) -> bool:
    """Whether a parameter's value reads well in a label: a number, text, enum, duration, another
    component (shown by name), or a short list of those."""
    if isinstance(value, (bool, int, float, str, enum.Enum, timedelta, Component)):
        return True
    return isinstance(value, (list, tuple)) and len(value) <= 8 and all(_is_plain(v) for v in value)


def _component_text(component: Any) -> str:
    """``name: Class(param=value, ...)``: the plain values among the constructor's parameters
    and the declared ones, read back from the component's attributes."""
    names: list[str] = []
    try:
        signature = inspect.signature(type(component).__init__)
    except (TypeError, ValueError):  # a constructor Python cannot describe
        signature = None
    if signature is not None:
        names.extend(
            p.name
            for p in signature.parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in _SKIPPED_PARAMETERS
        )
    names.extend(n for n in component.spec.params if n not in names and n not in _SKIPPED_PARAMETERS)
    args = []
    for name in names:
        value = _read_back(component, name)
        if value is not _MISSING:
            args.append(f"{name}={_value_text(value)}")
    return f"{component.name}: {type(component).__name__}({', '.join(args)})"


def _read_back(component: Any, name: str) -> Any:
    """The plain value of parameter ``name``: its attribute, or (where Holoscan's API makes
    ``name`` a setter method, as ``PeriodicCondition.recess_period``) what the getter method
    ``<name>_ns()`` returns, shown in ns; else ``_MISSING``."""
    try:
        value = getattr(component, name)
        if callable(value):
            getter = getattr(component, f"{name}_ns")
            value = f"{getter()}ns" if callable(getter) else _MISSING
    except Exception:  # no such attribute, or one that cannot answer outside a run
        return _MISSING
    return value if _is_plain(value) else _MISSING


def _port_text(spec: IOSpec) -> str:
    size = spec.queue_size
    notes = []
    if size == IOSpec.ANY_SIZE:
        notes.append("ANY_SIZE")
    elif size == IOSpec.PRECEDING_COUNT:
        notes.append("PRECEDING_COUNT")
    elif size > 1:
        notes.append(f"size {size}")
    if spec.connector_type is IOSpec.ConnectorType.ASYNC_BUFFER:
        notes.append("async")
    return f"{spec.name} [{', '.join(notes)}]" if notes else spec.name


def _port_id(side: str, name: str, index: int) -> str:
    """The cell's PORT: ``i_in`` / ``o_out``, or ``i#2`` by position for a name that DOT and
    HTML would spell differently (``#`` keeps the two forms apart)."""
    return f"{side}_{name}" if _SAFE_PORT.fullmatch(name) else f"{side}#{index}"


def _sorted_ports(ports: dict[str, IOSpec]) -> list[IOSpec]:
    """Data ports by name, then the execution port."""
    return sorted(ports.values(), key=lambda spec: (spec.name in EXEC_PORTS, spec.name))


def _port_ids(op: Operator) -> dict[tuple[str, str], str]:
    ids = {}
    for side, ports in (("i", op.spec.inputs), ("o", op.spec.outputs)):
        for index, spec in enumerate(_sorted_ports(ports)):
            ids[(side, spec.name)] = _port_id(side, spec.name, index)
    return ids


def _node_table(op: Operator, connected: set[tuple[str, str]]) -> str:
    """The node's HTML-like label: name and class, then inputs (left) beside outputs (right),
    then the operator's conditions (but those that watch a port an edge reaches: the edge shows
    them), resources and OR-combined ports."""
    inputs, outputs = _sorted_ports(op.spec.inputs), _sorted_ports(op.spec.outputs)
    ids = _port_ids(op)
    details = [
        _component_text(c)
        for c in sorted(op.conditions.values(), key=lambda c: c.name)
        if ("i", c.receiver_name) not in connected and ("o", c.transmitter_name) not in connected
    ]
    details.extend(_component_text(r) for r in sorted(op.resources.values(), key=lambda r: r.name))
    details.extend(f"OR({', '.join(group)})" for group in op.spec._or_groups())
    columns = max((1 if inputs else 0) + (1 if outputs else 0), 1)
    cells = [
        '<table border="0" cellborder="1" cellspacing="0" cellpadding="3">',
        f'<tr><td colspan="{columns}" bgcolor="{_HEADER_COLOR}"><b>{_html(op.name)}</b><br/>'
        f'<font point-size="8"><i>{_html(type(op).__qualname__)}</i></font></td></tr>',
    ]
    for row in range(max(len(inputs), len(outputs))):
        left = _port_cell(inputs, row, ids, "i", "left") if inputs else ""
        right = _port_cell(outputs, row, ids, "o", "right") if outputs else ""
        cells.append(f"<tr>{left}{right}</tr>")
    if details:
        text = "".join(f'{_html(line)}<br align="left"/>' for line in details)
        cells.append(f'<tr><td colspan="{columns}" align="left"><font point-size="8">{text}</font></td></tr>')
    cells.append("</table>")
    return "".join(cells)


def _port_cell(ports: list[IOSpec], row: int, ids: dict[tuple[str, str], str], side: str, align: str) -> str:
    if row >= len(ports):
        return '<td border="0"></td>'
    spec = ports[row]
    return f'<td port="{_html(ids[(side, spec.name)])}" align="{align}">{_html(_port_text(spec))}</td>'


def _edge_line(edge: _Edge, indent: str) -> str:
    attributes = [f"label={_quote(chr(10).join(edge.label))}"]
    if edge.control:
        attributes.append("style=dashed")
    if edge.link:
        attributes.extend(("style=bold", f"color={_quote(_LINK_COLOR)}"))
    return (
        f"{indent}{_quote(edge.source)}:{_quote(edge.source_port)} -> "
        f"{_quote(edge.target)}:{_quote(edge.target_port)} [{', '.join(attributes)}];"
    )


def _quote(text: str) -> str:
    """A DOT double-quoted string: backslash, quote and line breaks escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def _html(text: str) -> str:
    """Text inside an HTML-like label: markup characters as entities; characters XML cannot
    hold at all (control characters) as U+FFFD."""
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return "".join(ch if ch >= " " or ch == "\t" else "\ufffd" for ch in out)
