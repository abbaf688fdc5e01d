"""Port connectivity maps of a flow graph and their YAML description.

A port is named ``node.port`` (``fragment.operator.port`` when the fragment has a name). The two
maps go from each input to the outputs feeding it and from each output to the inputs it feeds;
keys and lists are sorted and lists hold no repeats. :func:`describe` renders them as Holoscan
does (yaml-cpp's block style, quoting only what cannot stay a plain scalar), so the text matches
Holoscan's ``port_map_description()`` byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PortMaps", "connectivity_maps", "describe"]

PortMaps = tuple[dict[str, list[str]], dict[str, list[str]]]


def connectivity_maps(links: Iterable[tuple[str, str]]) -> PortMaps:
    """``(input_to_output, output_to_input)`` for ``(output_id, input_id)`` links."""
    to_output: dict[str, set[str]] = {}
    to_input: dict[str, set[str]] = {}
    for output, input_ in links:
        to_output.setdefault(input_, set()).add(output)
        to_input.setdefault(output, set()).add(input_)
    return _sorted(to_output), _sorted(to_input)


def describe(maps: PortMaps) -> str:
    """The YAML text of both maps (``~`` for an empty one), without a final newline."""
    lines: list[str] = []
    for title, mapping in zip(("input_to_output", "output_to_input"), maps, strict=True):
        if not mapping:
            lines.append(f"{title}: ~")
            continue
        lines.append(f"{title}:")
        for key, values in mapping.items():
            items = [_scalar(value) for value in values]
            if len(key.encode()) > _LONG_KEY:
                lines.append(f"  ? {_scalar(key)}")
                lines.append(f"  : - {items[0]}")
                items = items[1:]
            else:
                lines.append(f"  {_scalar(key)}:")
            lines.extend(f"    - {item}" for item in items)
    return "\n".join(lines)


def _sorted(mapping: dict[str, set[str]]) -> dict[str, list[str]]:
    return {key: sorted(mapping[key]) for key in sorted(mapping)}


_LONG_KEY = 1024
"""Keys longer than this (in UTF-8 bytes) are written in the explicit ``? key`` form."""

# yaml-cpp's rules for a plain (unquoted) scalar in block context.
_BAD_START = set(",[]{}#&*!|>'\"%@`")
_INDICATORS = set("-?:")
_NULLS = {"", "~", "null", "Null", "NULL"}
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}


def _is_plain(text: str) -> bool:
    if text in _NULLS or text[0] in _BAD_START or text[0] in " \t\r\n":
        return False
    if text[0] in _INDICATORS and (len(text) == 1 or text[1] in " \t\r\n"):
        return False
    if text.endswith((" ", ":")) or ": " in text or " #" in text or "&" in text:
        return False
    return not any(_unprintable(ch) for ch in text)


def _unprintable(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or code == 0x7F or (0x80 <= code <= 0x9F and code != 0x85) or code == 0xFEFF


def _scalar(text: str) -> str:
    if _is_plain(text):
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or 0x80 <= code <= 0xA0 or code == 0xFEFF:
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'
