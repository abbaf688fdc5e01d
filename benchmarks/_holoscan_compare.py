"""Comparing two programs' printed output the way Holoscan's own runs can be compared with each other.

Holoscan's examples do not print the same text from one run to the next: wall-clock values, thread
interleaving and rate-dependent sampling vary. This module reduces an output to a multiset of lines
that leaves those out:

- lines starting with ``[`` (log lines) and warning lines are dropped, and so are blank lines;
- a line that two threads glued together (``print`` writes its text and its newline separately) is
  split where a line seen in either output starts;
- floats and integers of six digits or more are masked;
- the lines are compared as a multiset: their order does not matter.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence

__all__ = [
    "FLOAT_MASK",
    "INT_MASK",
    "clean_lines",
    "line_stems",
    "mask_numbers",
    "normalise",
    "normalised_same",
    "same_as_any",
    "split_glued",
]

FLOAT_MASK = "<float>"
INT_MASK = "<int>"

# A warning line as Python's warnings module or a logger writes it ("path.py:12: UserWarning: ...",
# "WARNING: ...", "Warning: ...").
_WARNING = re.compile(r"^(\S+:\d+: )?\w*Warning\b|^WARNING\b|^\s*warnings\.warn\(")
_FLOAT = re.compile(r"(?<![\d.])\d+\.\d+(?:[eE][-+]?\d+)?(?!\d|\.\d)|(?<![\d.\w])\d+[eE][-+]?\d+\b")
_LONG_INT = re.compile(r"\d{6,}")
# A glued-line split needs a stem at least this long, so that a short common word (``rx``) inside
# a line is not taken for the start of another.
_MIN_STEM = 6


def clean_lines(text: str) -> list[str]:
    """The lines of ``text`` that are program output: no log lines, warnings or blank lines.

    Takes the output as one string; returns its lines with trailing whitespace removed, leaving out
    lines whose first non-blank character is ``[`` and lines that are Python or logger warnings.
    """
    kept = []
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.lstrip()
        if not stripped or stripped.startswith("[") or _WARNING.search(stripped):
            continue
        kept.append(line)
    return kept


def mask_numbers(line: str) -> str:
    """``line`` with every float replaced by ``<float>`` and every integer of 6+ digits by ``<int>``.

    A float is digits, a decimal point and digits (``2.5``, ``1.5e-06``), or digits with an exponent
    (``1e-06``); a sign stays outside the mask.
    Integers of fewer than six digits (message counts, indices) are left as they are.
    """
    return _LONG_INT.sub(INT_MASK, _FLOAT.sub(FLOAT_MASK, line))


def line_stems(lines: Iterable[str]) -> set[str]:
    """The texts that mark where a line glued onto another begins: each line of ``lines`` whole, and
    its start up to its first digit or mask (so that ``value: 8`` is found after ``value: 7``).

    Leading whitespace is removed; stems shorter than six characters are left out.
    """
    stems = set()
    for line in lines:
        text = line.lstrip()
        match = re.search(r"\d|<float>|<int>", text)
        stems.update(s for s in (text, text[: match.start()] if match else text) if len(s) >= _MIN_STEM)
    return stems


def split_glued(line: str, stems: Iterable[str]) -> list[str]:
    """``line`` cut into pieces wherever one of ``stems`` starts after its first character.

    Two threads' ``print`` calls can share a line (``"value: 2value: 3"``); cutting at each place
    a known line start appears recovers them. Returns ``[line]`` when no stem appears after the
    first character. Pieces keep their text exactly (no stripping beyond trailing whitespace).
    """
    pattern = _stem_pattern(frozenset(s for s in stems if s))
    if pattern is None:
        return [line]
    cuts = [m.start() for m in pattern.finditer(line, 1)]
    if not cuts:
        return [line]
    pieces = []
    start = 0
    for cut in cuts:
        if line[start:cut].strip():
            pieces.append(line[start:cut].rstrip())
            start = cut
    pieces.append(line[start:].rstrip())
    return [p for p in pieces if p.strip()]


@functools.lru_cache(maxsize=64)
def _stem_pattern(stems: frozenset[str]) -> re.Pattern[str] | None:
    """A pattern matching (without consuming) wherever one of ``stems`` starts."""
    if not stems:
        return None
    return re.compile("(?=" + "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)) + ")")


def normalise(text: str, stems: Iterable[str] = ()) -> Counter[str]:
    """The multiset of ``text``'s cleaned, masked and unglued lines.

    ``stems`` are extra line starts to cut glued lines at (those of the output being compared
    with); the stems of ``text`` itself are always used.
    """
    masked = [mask_numbers(line) for line in clean_lines(text)]
    known = line_stems(masked) | set(stems)
    result: Counter[str] = Counter()
    for line in masked:
        result.update(split_glued(line, known))
    return result


def normalised_same(ours: str, theirs: str) -> bool:
    """True when the two outputs are the same multiset of lines after normalisation.

    The glued-line stems come from both outputs, so a line split on one side is split the same way
    on the other.
    """
    stems = line_stems(mask_numbers(line) for line in clean_lines(ours) + clean_lines(theirs))
    return normalise(ours, stems) == normalise(theirs, stems)


def same_as_any(ours: str, references: Sequence[str]) -> tuple[bool, bool]:
    """(strict, normalised): whether ``ours`` equals any of ``references`` byte for byte, and after
    normalisation."""
    strict = any(ours == ref for ref in references)
    return strict, strict or any(normalised_same(ours, ref) for ref in references)
