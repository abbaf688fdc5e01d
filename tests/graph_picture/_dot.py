"""A small reader of the DOT text ``Fragment.to_dot()`` writes, for the tests to check it against
the graph: nodes (with their HTML-like labels taken apart), edges with ports, clusters.

It reads the subset of DOT that holoflow writes (statements of one line or many, quoted and HTML
strings, attribute lists, subgraphs) and follows Graphviz's lexer for quoted strings: only ``\\"``
is unescaped in an ID; a label is then read as Graphviz reads an escString (``\\\\``, ``\\n``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

_WORD = re.compile(r"[A-Za-z0-9_.#-]+")


@dataclass
class Node:
    id: str
    attrs: dict[str, str]
    cluster: str | None
    name: str = ""
    cls: str = ""
    inputs: dict[str, str] = field(default_factory=dict)
    """PORT → cell text."""
    outputs: dict[str, str] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)


@dataclass
class Edge:
    source: str
    source_port: str
    target: str
    target_port: str
    attrs: dict[str, str]
    cluster: str | None

    @property
    def label(self) -> list[str]:
        return label_text(self.attrs.get("label", "")).split("\n")


@dataclass
class Dot:
    name: str
    graph: dict[str, str]
    nodes: dict[str, Node]
    edges: list[Edge]
    clusters: dict[str, dict[str, str]]

    def node_named(self, name: str, cluster_label: str | None = None) -> Node:
        found = [
            n
            for n in self.nodes.values()
            if n.name == name
            and (cluster_label is None or self.clusters[n.cluster or ""].get("label") == cluster_label)
        ]
        assert len(found) == 1, (name, [n.name for n in self.nodes.values()])
        return found[0]

    def port_edges(self) -> set[tuple[str, str, str, str]]:
        """Every edge as (source name, output port, target name, input port), read from the nodes'
        labels (the PORT of a cell → the port name printed in it)."""
        out = set()
        for e in self.edges:
            source, target = self.nodes[e.source], self.nodes[e.target]
            out.add(
                (
                    source.name,
                    port_name(source.outputs[e.source_port]),
                    target.name,
                    port_name(target.inputs[e.target_port]),
                )
            )
        return out


def port_name(cell: str) -> str:
    """``in [ANY_SIZE]`` → ``in``."""
    return re.sub(r" \[[^\]]*\]$", "", cell)


def label_text(raw: str) -> str:
    """A quoted label as Graphviz shows it (escString: ``\\\\`` → ``\\``, ``\\n`` → new line)."""
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            out.append("\n" if nxt in "nlr" else nxt)
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == '"':
            j, buf = i + 1, []
            while text[j] != '"':
                if text[j] == "\\" and text[j + 1] in '"\\':
                    buf.append('"' if text[j + 1] == '"' else "\\\\")
                    j += 2
                else:
                    buf.append(text[j])
                    j += 1
            tokens.append(("ID", "".join(buf)))
            i = j + 1
        elif c == "<":
            depth, j = 1, i + 1
            while depth:
                depth += {"<": 1, ">": -1}.get(text[j], 0)
                j += 1
            tokens.append(("HTML", text[i + 1 : j - 1]))
            i = j
        elif text.startswith("->", i):
            tokens.append(("->", "->"))
            i += 2
        elif c in "{}[];=,:":
            tokens.append((c, c))
            i += 1
        else:
            m = _WORD.match(text, i)
            assert m, f"unexpected character {c!r} at {i}: {text[i : i + 40]!r}"
            tokens.append(("ID", m.group()))
            i = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self, k: int = 0) -> tuple[str, str]:
        return self.tokens[self.pos + k] if self.pos + k < len(self.tokens) else ("EOF", "")

    def take(self, kind: str | None = None) -> str:
        tok_kind, value = self.tokens[self.pos]
        assert kind is None or tok_kind == kind, (kind, self.tokens[self.pos : self.pos + 5])
        self.pos += 1
        return value

    def attrs(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.peek()[0] != "[":
            return out
        self.take("[")
        while self.peek()[0] != "]":
            key = self.take("ID")
            self.take("=")
            out[key] = self.take()
            if self.peek()[0] == ",":
                self.take(",")
        self.take("]")
        return out

    def end_point(self) -> tuple[str, str]:
        node = self.take("ID")
        port = ""
        if self.peek()[0] == ":":
            self.take(":")
            port = self.take("ID")
        assert self.peek()[0] != ":", "no compass points expected"
        return node, port


def read_dot(text: str) -> Dot:
    """Parse ``text``; asserts on anything outside the subset holoflow writes."""
    p = _Parser(text)
    assert p.take("ID") == "digraph"
    dot = Dot(p.take("ID"), {}, {}, [], {})
    p.take("{")
    _statements(p, dot, None)
    assert p.peek()[0] == "EOF"
    for node in dot.nodes.values():
        _read_label(node)
    return dot


def _statements(p: _Parser, dot: Dot, cluster: str | None) -> None:
    while p.peek()[0] != "}":
        kind, value = p.peek()
        if kind == "ID" and value == "subgraph":
            p.take()
            name = p.take("ID")
            dot.clusters[name] = {}
            p.take("{")
            _statements(p, dot, name)
        elif kind == "ID" and value in ("graph", "node", "edge") and p.peek(1)[0] == "[":
            p.take()
            attrs = p.attrs()
            if value == "graph":
                (dot.clusters[cluster] if cluster else dot.graph).update(attrs)
        else:
            source, source_port = p.end_point()
            if p.peek()[0] == "->":
                p.take("->")
                target, target_port = p.end_point()
                dot.edges.append(Edge(source, source_port, target, target_port, p.attrs(), cluster))
            else:
                assert source not in dot.nodes, f"node {source!r} defined twice"
                dot.nodes[source] = Node(source, p.attrs(), cluster)
        if p.peek()[0] == ";":
            p.take(";")
    p.take("}")


class _LabelReader(HTMLParser):
    """Takes a node table apart: <b> name, <i> class, port cells, and the details cell's lines."""

    def __init__(self, node: Node) -> None:
        super().__init__(convert_charrefs=True)
        self.node = node
        self.stack: list[str] = []
        self.cell: dict[str, str | None] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        if tag == "td":
            self.cell, self.text = dict(attrs), []

    def handle_startendtag(self, tag, attrs):
        if tag == "br":
            self.text.append("\n")

    def handle_endtag(self, tag):
        assert self.stack.pop() == tag, f"badly nested <{tag}> in {self.node.id!r}"
        if tag == "td" and self.cell is not None:
            text = "".join(self.text)
            port = self.cell.get("port")
            if port:
                (self.node.inputs if port.startswith("i") else self.node.outputs)[port] = text
            elif "bgcolor" not in self.cell and text.strip():
                self.node.details.extend(line for line in text.split("\n") if line)
            self.cell = None

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "b":
            self.node.name += data
        elif self.stack and self.stack[-1] == "i":
            self.node.cls += data
        elif self.cell is not None:
            self.text.append(data)


def _read_label(node: Node) -> None:
    reader = _LabelReader(node)
    reader.feed(node.attrs["label"])
    reader.close()
    assert not reader.stack, f"unclosed tags {reader.stack} in {node.id!r}"
