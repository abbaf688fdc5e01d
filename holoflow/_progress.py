"""A one-line progress bar on a terminal stream (the CLI's conversions, sample-data generation)."""

from __future__ import annotations

from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Call with ``(done, total)`` to redraw the bar; :meth:`close` ends the line."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream, self.label = stream, label

    def __call__(self, done: int, total: int | None) -> None:
        if total:
            filled = int(30 * done / total)
            bar = "#" * filled + "-" * (30 - filled)
            self.stream.write(f"\r{self.label} [{bar}] {done}/{total}")
        else:
            self.stream.write(f"\r{self.label} {done} frames")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
