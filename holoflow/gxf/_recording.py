"""Reading and writing ``<basename>.gxf_index`` / ``<basename>.gxf_entities`` pairs.

The reader memory-maps both files (no whole-file load), reads the index as a numpy record array
and decodes entity ``i`` on demand from its ``data_offset``/``data_size`` — random access in O(1).
The writer streams: each entity is appended to the entities file and its index record to the
index file as it comes.
"""

from __future__ import annotations

import mmap
import os
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from holoflow.errors import GXFFormatError
from holoflow.gxf._entity import Component, RecordedEntity, decode_entity, encode_entity
from holoflow.gxf._types import ENTITY_HEADER, INDEX_DTYPE

__all__ = ["GXFReader", "GXFWriter", "recording_paths"]

INDEX_SUFFIX = ".gxf_index"
ENTITIES_SUFFIX = ".gxf_entities"


def recording_paths(directory: str | os.PathLike[str], basename: str) -> tuple[Path, Path]:
    """The index and entities paths of a recording."""
    root = Path(directory)
    return root / f"{basename}{INDEX_SUFFIX}", root / f"{basename}{ENTITIES_SUFFIX}"


def _map(path: Path, sequential: bool = False) -> Any:
    with open(path, "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        if size == 0:
            return b""
        mapped = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    if sequential and hasattr(mmap, "MADV_SEQUENTIAL"):
        mapped.madvise(mmap.MADV_SEQUENTIAL)  # aggressive read-ahead, early reclaim behind
    return mapped


class GXFReader:
    """Random access to the entities of a recording.

    Parameters
    ----------
    directory : str or PathLike
        Folder holding the pair.
    basename : str
        Name of the pair without extension.
    sequential : bool
        Tell the OS the entities will be read front to back (playback): more read-ahead.

    Raises
    ------
    FileNotFoundError
        If either file is missing.
    holoflow.errors.GXFFormatError
        If the index is not a whole number of 24-byte records.
    """

    def __init__(self, directory: str | os.PathLike[str], basename: str, sequential: bool = False) -> None:
        self.index_path, self.entities_path = recording_paths(directory, basename)
        for path in (self.index_path, self.entities_path):
            if not path.is_file():
                raise FileNotFoundError(f"GXF recording file not found: {path}")
        self._index_map = _map(self.index_path)
        self._entities = _map(self.entities_path, sequential)
        self._fd = -1
        self._closer: weakref.finalize[[int], GXFReader] | None = None
        if len(self._index_map) % INDEX_DTYPE.itemsize:
            raise GXFFormatError(
                str(self.index_path),
                None,
                "index size",
                f"{len(self._index_map)} bytes is not a multiple of {INDEX_DTYPE.itemsize}",
            )
        self.index = (
            np.frombuffer(self._index_map, INDEX_DTYPE) if len(self._index_map) else np.empty(0, INDEX_DTYPE)
        )

    def __len__(self) -> int:
        return len(self.index)

    @property
    def entities_size(self) -> int:
        """Size of the entities file in bytes."""
        return len(self._entities)

    def extent(self, frame: int) -> tuple[int, int]:
        """``(start, end)`` byte offsets of entity ``frame``, checked against the file."""
        if not 0 <= frame < len(self.index):
            raise IndexError(f"frame {frame} out of range for a recording of {len(self.index)} frames")
        record = self.index[frame]
        start, size = int(record["data_offset"]), int(record["data_size"])
        if size < ENTITY_HEADER.size or start + size > len(self._entities):
            raise GXFFormatError(
                str(self.index_path),
                frame,
                "index data_offset/data_size",
                f"entity at {start}+{size} does not fit in the {len(self._entities)}-byte entities file",
            )
        return start, start + size

    def __getitem__(self, frame: int) -> RecordedEntity:
        """Decode entity ``frame`` (tensors are views of the memory map)."""
        if frame < 0:
            frame += len(self.index)
        start, end = self.extent(frame)
        entity, _ = decode_entity(self._entities, start, end, path=str(self.entities_path), frame=frame)
        return entity

    def __iter__(self) -> Iterator[RecordedEntity]:
        for frame in range(len(self)):
            yield self[frame]

    def read(self, frame: int, buffer: np.ndarray | None = None) -> RecordedEntity:
        """Copy entity ``frame`` out of the file into ``buffer`` and decode it there.

        Unlike ``reader[frame]`` the tensors are writable and independent of the file. The
        copy is a ``pread`` that releases the GIL, so a helper thread can read ahead while the
        graph works. ``buffer`` (uint8, at least the entity's size) is allocated when omitted.
        """
        start, end = self.extent(frame)
        size = end - start
        if buffer is None or buffer.nbytes < size:
            buffer = np.empty(size, np.uint8)
        view = memoryview(buffer.reshape(-1).view(np.uint8))[:size]  # type: ignore[arg-type]
        got = os.preadv(self._descriptor(), [view], start)
        if got != size:
            raise GXFFormatError(str(self.entities_path), frame, "entity", f"read {got} of {size} bytes")
        entity, _ = decode_entity(buffer, 0, size, path=str(self.entities_path), frame=frame)
        return entity

    def _descriptor(self) -> int:
        """The entities file opened for ``read`` once, closed by :meth:`close` or collection."""
        if self._closer is None:
            descriptor = os.open(self.entities_path, os.O_RDONLY)
            self._closer = weakref.finalize(self, os.close, descriptor)
            self._fd = descriptor
        return self._fd

    def log_time(self, frame: int) -> int:
        """The recorder's timestamp (ns) of entity ``frame``."""
        return int(self.index[frame]["log_time"])

    def close(self) -> None:
        """Drop the reader's hold on the files.

        The maps are not closed here: numpy views keep a reference to their map but no buffer
        export, so closing a map under a live view would leave the view dangling. Each map is
        unmapped when its last view is garbage collected.
        """
        self.index = np.empty(0, INDEX_DTYPE)
        self._index_map = self._entities = b""
        if self._closer is not None:
            self._closer()
            self._closer = None

    def __enter__(self) -> GXFReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GXFReader({str(self.entities_path)!r}, {len(self)} frames)"


class GXFWriter:
    """Append entities to a new recording (existing files are truncated).

    ``write({"": frame})`` writes one entity; tensor names are the mapping's keys. Files are
    flushed on :meth:`flush` and :meth:`close`.
    """

    def __init__(self, directory: str | os.PathLike[str], basename: str) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.index_path, self.entities_path = recording_paths(directory, basename)
        self._index = open(self.index_path, "wb")  # noqa: SIM115 - closed in close()
        self._entities = open(self.entities_path, "wb")  # noqa: SIM115
        self._offset = 0
        self.frames_written = 0

    def write(self, components: Mapping[str, Any] | Iterable[Component], log_time: int | None = None) -> int:
        """Append one entity; returns its size in bytes."""
        chunks = encode_entity(components, self.frames_written)
        size = 0
        for chunk in chunks:
            self._entities.write(chunk)
            size += len(chunk) if not isinstance(chunk, np.ndarray) else chunk.nbytes
        record = np.array(
            [(time.time_ns() if log_time is None else log_time, size, self._offset)], INDEX_DTYPE
        )
        self._index.write(record.tobytes())
        self._offset += size
        self.frames_written += 1
        return size

    def flush(self) -> None:
        """Push written data to the operating system."""
        self._entities.flush()
        self._index.flush()

    def close(self) -> None:
        """Flush and close both files."""
        if not self._index.closed:
            self.flush()
            self._entities.close()
            self._index.close()

    def __enter__(self) -> GXFWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
