"""A test-only codec with the frozen ``encode``/``decode`` signatures, for links tested before the
real codec exists: bytes travel inline, numpy arrays as a JSON descriptor plus one buffer."""

from __future__ import annotations

import json

import numpy as np

from holoflow.errors import CodecError


def encode(obj, *, where=""):
    if isinstance(obj, (bytes, bytearray)):
        return [b"b" + bytes(obj)]
    if isinstance(obj, np.ndarray):
        array = np.ascontiguousarray(obj)
        head = json.dumps({"dtype": array.dtype.str, "shape": array.shape}).encode()
        return [b"A" + head, memoryview(array).cast("B")]
    if isinstance(obj, int):
        return [b"i" + str(obj).encode()]
    raise CodecError(f"{where}: the stand-in codec cannot encode {type(obj)}")


def decode(frames, limits=None):
    body = bytes(frames[0])
    tag, rest = body[:1], body[1:]
    if tag == b"b" and len(frames) == 1:
        return rest
    if tag == b"i" and len(frames) == 1:
        return int(rest)
    if tag == b"A" and len(frames) == 2:
        head = json.loads(rest)
        return np.frombuffer(frames[1], dtype=head["dtype"]).reshape(head["shape"])
    raise CodecError("the stand-in codec cannot decode this")
