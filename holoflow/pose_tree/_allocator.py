"""First-fit bookkeeping of a fixed pool, in chunks: the pose tree's capacity limits.

Holoscan's pose tree preallocates its edge lists and pose histories and hands out runs of
chunks, first fit (the lowest-addressed free run that is long enough). Requests are rounded up to
whole chunks, so a frame or edge gets at least what it asked for, and a request fails with "Out of
Memory" when no free run is long enough, even if the free chunks add up to enough. This class
keeps the same accounting without allocating the memory.
"""

from __future__ import annotations

import bisect

__all__ = ["ChunkAllocator"]


class ChunkAllocator:
    """Runs of chunks from a pool of ``size`` items, ``chunk`` items per chunk."""

    __slots__ = ("_free", "_used", "chunk", "size")

    def __init__(self, size: int, chunk: int) -> None:
        self.size = size
        self.chunk = chunk
        chunks = -(-size // chunk)
        self._free: list[tuple[int, int]] = [(0, chunks)] if chunks > 0 else []
        """Free runs ``(first chunk, length)``, by address."""
        self._used: dict[int, int] = {}
        """Length of each run handed out, by its first chunk."""

    def acquire(self, items: int) -> tuple[int, int] | None:
        """A run for ``items`` (> 0) items: ``(handle, items it holds)``, or ``None`` when no free
        run is long enough."""
        needed = -(-items // self.chunk)
        for index, (start, length) in enumerate(self._free):
            if length >= needed:
                if length == needed:
                    del self._free[index]
                else:
                    self._free[index] = (start + needed, length - needed)
                self._used[start] = needed
                return start, needed * self.chunk
        return None

    def release(self, handle: int) -> None:
        """Give back the run ``handle``, merging it with free neighbours."""
        start, length = handle, self._used.pop(handle)
        index = bisect.bisect_left(self._free, (start, 0))
        if index < len(self._free) and self._free[index][0] == start + length:
            length += self._free.pop(index)[1]
        if index > 0 and sum(self._free[index - 1]) == start:
            start, previous = self._free[index - 1]
            length += previous
            index -= 1
            del self._free[index]
        self._free.insert(index, (start, length))
