"""holoflow's built-in stroke font: glyphs as line segments on a 4 x 6 grid, drawn at any size.

Each glyph is a list of polylines given as ``"x,y x,y ...;x,y ..."`` in grid units, origin at the
top left of the cell, y down, baseline at 6 (commas may dip to 7). Lower case is drawn as upper
case; a character with no glyph is drawn as an empty box.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

__all__ = ["text_segments"]

_CELL_HEIGHT = 6.0  # grid units, top to baseline; glyphs are 4 wide
_ADVANCE = 6.0  # grid units from one character to the next

_GLYPHS = {
    " ": "",
    "0": "0,0 4,0 4,6 0,6 0,0;0,6 4,0",
    "1": "1,1 2,0 2,6;1,6 3,6",
    "2": "0,0 4,0 4,3 0,3 0,6 4,6",
    "3": "0,0 4,0 4,6 0,6;1,3 4,3",
    "4": "0,0 0,3 4,3;4,0 4,6",
    "5": "4,0 0,0 0,3 3,3 4,4 4,6 0,6",
    "6": "4,0 0,0 0,6 4,6 4,3 0,3",
    "7": "0,0 4,0 4,6",
    "8": "0,0 4,0 4,6 0,6 0,0;0,3 4,3",
    "9": "4,3 0,3 0,0 4,0 4,6 0,6",
    "A": "0,6 0,2 2,0 4,2 4,6;0,3 4,3",
    "B": "0,0 3,0 4,1 4,2 3,3 0,3;3,3 4,4 4,5 3,6 0,6 0,0",
    "C": "4,0 0,0 0,6 4,6",
    "D": "0,0 3,0 4,1 4,5 3,6 0,6 0,0",
    "E": "4,0 0,0 0,6 4,6;0,3 3,3",
    "F": "4,0 0,0 0,6;0,3 3,3",
    "G": "4,0 0,0 0,6 4,6 4,3 2,3",
    "H": "0,0 0,6;4,0 4,6;0,3 4,3",
    "I": "1,0 3,0;2,0 2,6;1,6 3,6",
    "J": "4,0 4,6 0,6 0,4",
    "K": "0,0 0,6;4,0 0,3 4,6",
    "L": "0,0 0,6 4,6",
    "M": "0,6 0,0 2,3 4,0 4,6",
    "N": "0,6 0,0 4,6 4,0",
    "O": "0,0 4,0 4,6 0,6 0,0",
    "P": "0,6 0,0 4,0 4,3 0,3",
    "Q": "0,0 4,0 4,6 0,6 0,0;2,4 4,6",
    "R": "0,6 0,0 4,0 4,3 0,3;1,3 4,6",
    "S": "4,0 0,0 0,3 4,3 4,6 0,6",
    "T": "0,0 4,0;2,0 2,6",
    "U": "0,0 0,6 4,6 4,0",
    "V": "0,0 2,6 4,0",
    "W": "0,0 1,6 2,3 3,6 4,0",
    "X": "0,0 4,6;4,0 0,6",
    "Y": "0,0 2,3 4,0;2,3 2,6",
    "Z": "0,0 4,0 0,6 4,6",
    ".": "2,5.6 2,6",
    ",": "2,5 1,7",
    ":": "2,1.6 2,2;2,4.6 2,5",
    ";": "2,1.6 2,2;2,4.6 1,6.5",
    "-": "1,3 3,3",
    "+": "0,3 4,3;2,1 2,5",
    "=": "0,2 4,2;0,4 4,4",
    "/": "4,0 0,6",
    "\\": "0,0 4,6",
    "(": "3,0 1,2 1,4 3,6",
    ")": "1,0 3,2 3,4 1,6",
    "[": "3,0 1,0 1,6 3,6",
    "]": "1,0 3,0 3,6 1,6",
    "<": "4,0 0,3 4,6",
    ">": "0,0 4,3 0,6",
    "%": "0,6 4,0;0,0 0.6,0.6;3.4,5.4 4,6",
    "!": "2,0 2,4;2,5.6 2,6",
    "?": "0,0 4,0 4,3 2,3 2,4;2,5.6 2,6",
    "'": "2,0 2,2",
    '"': "1,0 1,2;3,0 3,2",
    "_": "0,6 4,6",
    "#": "1,0 1,6;3,0 3,6;0,2 4,2;0,4 4,4",
    "*": "2,1 2,5;0,2 4,4;4,2 0,4",
}
_MISSING = "0,0 4,0 4,6 0,6 0,0"


@functools.cache
def _glyph(char: str) -> np.ndarray:
    """Segments ``(N, 2, 2)`` of one character, in grid units."""
    spec = _GLYPHS.get(char.upper(), _MISSING)
    segments: list[tuple[tuple[float, ...], tuple[float, ...]]] = []
    for stroke in filter(None, spec.split(";")):
        points = [tuple(float(v) for v in p.split(",")) for p in stroke.split()]
        segments.extend(itertools.pairwise(points))
    return np.array(segments, np.float64).reshape(-1, 2, 2)


def text_segments(text: str, x: float, y: float, height: float) -> np.ndarray:
    """Segments ``(N, 2, 2)`` drawing ``text`` with its cell's top-left corner at ``(x, y)``.

    ``height`` is the cell height (baseline to top) in the units of ``x`` and ``y``.
    """
    scale = height / _CELL_HEIGHT
    parts = [
        _glyph(char) * scale + (x + i * _ADVANCE * scale, y)
        for i, char in enumerate(text)
        if _glyph(char).size
    ]
    return np.concatenate(parts) if parts else np.zeros((0, 2, 2))
