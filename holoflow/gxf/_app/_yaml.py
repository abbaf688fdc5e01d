"""Parse GXF application files: multi-document YAML, one entity per document, with the line of
every entity, component and parameter kept for messages."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from holoflow.errors import GXFAppError

__all__ = ["ComponentDecl", "EntityDecl", "Where", "parse_files"]

_ENTITY_KEYS = {"name", "components", "dependencies"}
_COMPONENT_KEYS = {"name", "type", "parameters"}


@dataclass(frozen=True)
class Where:
    """A place in a file, for messages: file, document index (from 0), entity, component, line."""

    file: str
    document: int | None = None
    entity: str | None = None
    component: str | None = None
    line: int | None = None

    def at(self, line: int | None) -> Where:
        """The same place on another line (``None`` keeps this one)."""
        return Where(self.file, self.document, self.entity, self.component, line or self.line)

    def error(self, detail: str) -> GXFAppError:
        """A :class:`GXFAppError` at this place."""
        return GXFAppError(detail, self.file, self.document, self.entity, self.component, self.line)


@dataclass
class ComponentDecl:
    """One component: ``name`` ("" when unnamed), ``type``, ``parameters``, and where each is."""

    name: str
    type: str
    parameters: dict[str, Any]
    where: Where
    lines: dict[str, int] = field(default_factory=dict)
    """The line of each parameter."""

    @property
    def label(self) -> str:
        """The name, or ``#i`` (its position in the entity) when unnamed."""
        return self.where.component or self.name

    def at(self, key: str) -> Where:
        """Where parameter ``key`` is (the component when it has no line of its own)."""
        return self.where.at(self.lines.get(key))


@dataclass
class EntityDecl:
    """One entity: its name ("" when unnamed; see :attr:`label`) and components."""

    name: str
    components: list[ComponentDecl]
    where: Where

    @property
    def label(self) -> str:
        """The name, or ``entity<document>`` of its file for an unnamed entity."""
        return self.where.entity or self.name


def parse_files(paths: list[Path]) -> list[EntityDecl]:
    """Read every file's entities in order.

    A document naming an entity that an earlier document (of any file) named adds its
    components to that entity. Empty documents and documents holding only ``dependencies``
    (the extension list of a ``gxe`` manifest) are skipped.

    Raises
    ------
    holoflow.errors.GXFAppError
        For a missing file, a YAML syntax error (with its line), or a document that is not an
        entity (unknown keys, a component without a type, parameters that are not a mapping).
    """
    entities: dict[str, EntityDecl] = {}
    ordered: list[EntityDecl] = []
    for path in paths:
        for entity in _parse_file(path):
            earlier = entities.get(entity.name) if entity.name else None
            if earlier is None:
                ordered.append(entity)
                if entity.name:
                    entities[entity.name] = entity
            else:
                earlier.components.extend(entity.components)
    return ordered


def _parse_file(path: Path) -> list[EntityDecl]:
    file = os.fspath(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GXFAppError(f"cannot read the file: {exc.strerror or exc}", file) from None
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise GXFAppError(f"YAML syntax error: {problem}", file, line=line) from None
    except yaml.YAMLError as exc:
        raise GXFAppError(f"YAML error: {exc}", file) from None
    found = []
    for index, node in enumerate(documents):
        if node is None:
            continue
        entity = _entity(node, Where(file, index, line=node.start_mark.line + 1))
        if entity is not None:
            found.append(entity)
    return found


def _value(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _entity(node: yaml.Node, where: Where) -> EntityDecl | None:
    if not isinstance(node, yaml.MappingNode):
        raise where.error("a document must be a mapping with 'name' and 'components'")
    keys = _mapping(node, where, "the document")
    unknown = sorted(set(keys) - _ENTITY_KEYS)
    if unknown:
        raise where.at(keys[unknown[0]][0].start_mark.line + 1).error(
            f"unknown key {unknown[0]!r} in an entity; an entity has 'name' and 'components'"
        )
    if "components" not in keys:
        if "dependencies" in keys:
            return None
        raise where.error("the entity has no 'components' list")
    name = ""
    if "name" in keys:
        name_node = keys["name"][1]
        name = _value(name_node)
        if not isinstance(name, str) or not name or "/" in name:
            raise where.at(name_node.start_mark.line + 1).error(
                f"entity name must be a non-empty string without '/', got {name!r}"
            )
    where = Where(where.file, where.document, name or f"entity{where.document}", None, where.line)
    components_node = keys["components"][1]
    if not isinstance(components_node, yaml.SequenceNode):
        raise where.at(components_node.start_mark.line + 1).error("'components' must be a list")
    components = [_component(item, where, i) for i, item in enumerate(components_node.value)]
    return EntityDecl(name, components, where)


def _mapping(node: yaml.MappingNode, where: Where, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    keys: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        key = _value(key_node)
        if not isinstance(key, str):
            raise where.at(key_node.start_mark.line + 1).error(f"keys of {what} must be strings, got {key!r}")
        if key in keys:
            raise where.at(key_node.start_mark.line + 1).error(f"{what} has the key {key!r} twice")
        keys[key] = (key_node, value_node)
    return keys


def _component(node: yaml.Node, entity: Where, index: int) -> ComponentDecl:
    line = node.start_mark.line + 1
    where = Where(entity.file, entity.document, entity.entity, f"#{index}", line)
    if not isinstance(node, yaml.MappingNode):
        raise where.error("a component must be a mapping with 'type' (and 'name', 'parameters')")
    keys = _mapping(node, where, "a component")
    name = ""
    if "name" in keys:
        name = _value(keys["name"][1])
        if not isinstance(name, str) or not name or "/" in name:
            raise where.error(f"component name must be a non-empty string without '/', got {name!r}")
        where = Where(entity.file, entity.document, entity.entity, name, line)
    unknown = sorted(set(keys) - _COMPONENT_KEYS)
    if unknown:
        raise where.at(keys[unknown[0]][0].start_mark.line + 1).error(
            f"unknown key {unknown[0]!r} in a component; a component has 'name', 'type' and 'parameters'"
        )
    if "type" not in keys:
        raise where.error("the component has no 'type'")
    type_name = _value(keys["type"][1])
    if not isinstance(type_name, str) or not type_name:
        raise where.error(f"'type' must be a type name, got {type_name!r}")
    parameters: dict[str, Any] = {}
    lines: dict[str, int] = {}
    if "parameters" in keys:
        params_node = keys["parameters"][1]
        if isinstance(params_node, yaml.ScalarNode) and _value(params_node) is None:
            pass
        elif not isinstance(params_node, yaml.MappingNode):
            raise where.at(params_node.start_mark.line + 1).error("'parameters' must be a mapping")
        else:
            for key, (key_node, value_node) in _mapping(params_node, where, "'parameters'").items():
                parameters[key] = _value(value_node)
                lines[key] = key_node.start_mark.line + 1
    return ComponentDecl(name, type_name, parameters, where, lines)
