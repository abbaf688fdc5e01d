"""Numbers printed the way Holoscan's pose types print them (C++ streams and Eigen matrices).

Holoscan's ``repr`` of ``SO3``, ``Pose2`` and ``Pose3`` writes Eigen vectors and matrices to a C++
stream: each coefficient with ``%g``-style formatting (6 significant digits unless a precision is
given), right-aligned to the width of the widest coefficient. Reproducing that keeps printed
lines of ported programs identical.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["cpp_number", "eigen_matrix", "eigen_row"]


def cpp_number(value: float, precision: int = 6) -> str:
    """``value`` as a C++ stream writes a double with that precision (``-0``, ``inf``, ``-nan``)."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    return f"{value:.{precision}g}"


def eigen_row(values: Sequence[float], precision: int = 6) -> str:
    """A vector as Eigen prints its transpose: coefficients right-aligned, one space apart."""
    texts = [cpp_number(v, precision) for v in values]
    width = max(len(t) for t in texts)
    return " ".join(t.rjust(width) for t in texts)


def eigen_matrix(rows: Sequence[Sequence[float]], precision: int) -> str:
    """A matrix as Eigen's ``IOFormat(precision, 0, ", ", ";\\n", "", "", "[", "]")`` prints it."""
    texts = [[cpp_number(v, precision) for v in row] for row in rows]
    width = max(len(t) for row in texts for t in row)
    lines = [", ".join(t.rjust(width) for t in row) for row in texts]
    return "[" + ";\n ".join(lines) + "]"
