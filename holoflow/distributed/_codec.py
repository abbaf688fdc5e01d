"""The closed codec that carries messages between fragments: a small body plus raw buffers.

``encode(obj)`` returns ``[body, *buffers]``. The body is a tree of one-byte tags with LEB128
lengths; array data of 64 KiB or more travels as its own buffer, a ``memoryview`` of the array's
memory (no copy), smaller arrays inside the body. ``decode(frames)`` rebuilds the message; large
arrays are ``np.frombuffer`` views of the received buffers (writable when the buffer is), so a
transport that hands over its frames gives the receiver the data without a copy.

What travels (anything else is a :class:`~holoflow.errors.CodecError` naming where it sits):

=====  ===============================================================================
tag    value
=====  ===============================================================================
N T F  None, True, False
i I    int: zigzag LEB128 up to 64 bits; a larger one as up to 128 signed bytes
d c    float (float64), complex (complex128)
s      str (UTF-8)
b B    bytes: inline under 1 KiB, else as a buffer
l t m  list, tuple, dict (keys: None, bool, int, float, str, bytes, or tuples of those)
A      numpy array (or CuPy, flagged CUDA): dtype code, shape, order (C or Fortran), device,
       then the data inline, a buffer index, or a CUDA IPC descriptor (see below)
S      numpy scalar of a listed dtype
X M    holoflow ``Tensor`` (an ``A`` inside), ``TensorMap``
E      ``Envelope``: metadata dict, acquisition timestamp, tracking label, message
R      a registered type (``register_codec``): its name, then its encoder's value
Q      reserved for cross-fragment tracking; rejected by this version
=====  ===============================================================================

Dtypes form a closed list: bool, int8-64, uint8-64, float16/32/64, complex64/128, sent
little-endian. Shared references are not preserved (an object reached twice travels twice) and
nesting is limited to 64 levels, so a cycle is an error. A non-contiguous array is made
contiguous at encode (one copy); a Fortran-ordered one travels as it is, flagged.

``decode`` checks every declared size against what arrived before allocating anything: counts
and lengths against the bytes left in the body, array sizes (exact Python integers) against
their buffer and ``Limits.max_message_bytes``, buffer indices against the frames (each used
once), and nesting against ``Limits.max_depth``. It raises only ``CodecError`` and never imports
a name taken from the wire.

A CUDA array is staged through the host unless ``encode`` is given an exporter
(``cuda_export``, an :class:`~holoflow.distributed._cuda_ipc.IpcExporter`): then it travels as
a CUDA IPC descriptor (array flag ``IPC``) naming a copy in the sender's device memory, and
``decode`` rebuilds it through its importer (``cuda_import``, an
:class:`~holoflow.distributed._cuda_ipc.IpcImporter`); such an array with no importer is a
``CodecError``. The descriptor follows the device id: sender pid, exporter id, ring size, slot,
part, generation, capacity and byte count (LEB128), then the 64-byte handle.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from holoflow.core import Envelope
from holoflow.distributed._codec_types import by_name, by_type, register_codec
from holoflow.distributed._cuda_ipc import HANDLE_BYTES, IpcDescriptor, descriptor_problem
from holoflow.errors import CodecError
from holoflow.tensor import Tensor, TensorMap, as_tensor

__all__ = ["DEFAULT_LIMITS", "Limits", "decode", "encode", "register_codec"]

VERSION = 1
MAGIC = b"hc"
INLINE_ARRAY_BYTES = 64 * 1024
"""Arrays smaller than this travel inside the body (copied); larger ones as their own buffer."""
INLINE_BYTES = 1024
"""``bytes`` smaller than this travel inside the body."""
MAX_DEPTH = 64
MAX_NDIM = 32
MAX_BIG_INT_BYTES = 128


@dataclass(frozen=True)
class Limits:
    """What ``decode`` accepts.

    ``max_depth``: nesting of containers; ``max_ndim``: dimensions of an array;
    ``max_message_bytes``: the largest array or bytes value (the transport bounds frames the
    same way before receiving them); ``cuda_as_host``: a CUDA-flagged array arriving in a
    process without a CUDA device is delivered as a numpy array instead of raising.
    """

    max_depth: int = MAX_DEPTH
    max_ndim: int = MAX_NDIM
    max_message_bytes: int = 2 * 1024**3
    cuda_as_host: bool = False


DEFAULT_LIMITS = Limits()

# -- dtypes ---------------------------------------------------------------------------------------
_DTYPES = tuple(
    np.dtype(name).newbyteorder("<")
    for name in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
)
_DTYPE_CODES = {dtype.str: code for code, dtype in enumerate(_DTYPES)}

# Array flags (one byte after the shape).
_FORTRAN = 1
_CUDA = 2
_INLINE = 4
_IPC = 16  # 8 is left unassigned
_KNOWN_FLAGS = _FORTRAN | _CUDA | _INLINE | _IPC

_pack_double = struct.Struct("<d").pack
_unpack_double = struct.Struct("<d").unpack_from
_pack_complex = struct.Struct("<dd").pack
_unpack_complex = struct.Struct("<dd").unpack_from
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


# =================================================================================================
# encode
# =================================================================================================
class _Unencodable(Exception):
    """Raised while encoding; collects the path to the offending value as it unwinds."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []


class _ExportingBuffers(list):  # type: ignore[type-arg]
    """The buffer list of an encode with a CUDA exporter, which rides along with it (so the
    encoders keep one signature and an encode without one pays nothing)."""

    __slots__ = ("cuda_export",)

    def __init__(self, cuda_export: Any) -> None:
        super().__init__()
        self.cuda_export = cuda_export


def encode(obj: Any, *, where: str = "", cuda_export: Any = None) -> list[bytes | memoryview]:
    """Encode ``obj`` as ``[body, *buffers]``; buffers are views of the arrays' memory.

    ``where`` prefixes error messages (e.g. "operator 'tx' output port 'out'"). The arrays must
    not be changed until the frames are sent. ``cuda_export`` (an object with
    ``export(array, device) -> IpcDescriptor | None``, such as an ``IpcExporter`` after its
    ``begin``) carries CUDA arrays as IPC descriptors instead of host copies; an array it
    declines (None) is staged through the host.

    Raises
    ------
    holoflow.errors.CodecError
        If something in ``obj`` cannot travel; the message names ``where``, the type and its
        path inside the message (``message['conn'][2]``).
    """
    out = bytearray(MAGIC)
    out.append(VERSION)
    buffers: list[bytes | memoryview] = [] if cuda_export is None else _ExportingBuffers(cuda_export)
    try:
        _encode_value(obj, out, buffers, 0)
    except _Unencodable as exc:
        path = "message" + "".join(reversed(exc.path))
        prefix = f"{where}: " if where else ""
        raise CodecError(f"{prefix}{exc.reason.replace('{path}', path)}") from exc.__cause__
    return [bytes(out), *buffers]


def _uleb(out: bytearray, value: int) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _encode_value(obj: Any, out: bytearray, buffers: list[bytes | memoryview], depth: int) -> None:
    encoder = _ENCODERS.get(type(obj))
    if encoder is None:
        encoder = _encoder_for(obj)
    encoder(obj, out, buffers, depth)


def _enc_none(_obj: Any, out: bytearray, _buffers: list[Any], _depth: int) -> None:
    out.append(0x4E)  # N


def _enc_bool(obj: bool, out: bytearray, _buffers: list[Any], _depth: int) -> None:
    out.append(0x54 if obj else 0x46)  # T / F


def _enc_int(obj: int, out: bytearray, _buffers: list[Any], _depth: int) -> None:
    if _INT64_MIN <= obj <= _INT64_MAX:
        out.append(0x69)  # i
        _uleb(out, (obj << 1) ^ (obj >> 63))
        return
    length = (obj.bit_length() + 8) // 8  # room for the sign bit
    if length > MAX_BIG_INT_BYTES:
        raise _Unencodable(f"cannot encode an int of {obj.bit_length()} bits at {{path}} (at most 1023)")
    out.append(0x49)  # I
    _uleb(out, length)
    out += int(obj).to_bytes(length, "little", signed=True)


def _enc_float(obj: float, out: bytearray, _buffers: list[Any], _depth: int) -> None:
    out.append(0x64)  # d
    out += _pack_double(obj)


def _enc_complex(obj: complex, out: bytearray, _buffers: list[Any], _depth: int) -> None:
    out.append(0x63)  # c
    out += _pack_complex(obj.real, obj.imag)


def _enc_str(obj: str, out: bytearray, _buffers: list[Any], _depth: int) -> None:
    try:
        data = obj.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _Unencodable(f"cannot encode a str with lone surrogates at {{path}}: {exc}") from None
    out.append(0x73)  # s
    _uleb(out, len(data))
    out += data


def _enc_bytes(obj: bytes, out: bytearray, buffers: list[Any], _depth: int) -> None:
    if len(obj) < INLINE_BYTES:
        out.append(0x62)  # b
        _uleb(out, len(obj))
        out += obj
    else:
        out.append(0x42)  # B
        _uleb(out, len(buffers))
        buffers.append(obj)


def _items(values: Any, out: bytearray, buffers: list[Any], depth: int, label: Callable[[int], str]) -> None:
    if depth >= MAX_DEPTH:
        raise _Unencodable(f"cannot encode {{path}}: nested deeper than {MAX_DEPTH} levels (a cycle?)")
    _uleb(out, len(values))
    depth += 1
    index = 0
    try:
        for index, item in enumerate(values):  # noqa: B007 - the index names a failing item
            _encode_value(item, out, buffers, depth)
    except _Unencodable as exc:
        exc.path.append(label(index))
        raise


def _index_label(index: int) -> str:
    return f"[{index}]"


def _enc_list(obj: list[Any], out: bytearray, buffers: list[Any], depth: int) -> None:
    out.append(0x6C)  # l
    _items(obj, out, buffers, depth, _index_label)


def _enc_tuple(obj: tuple[Any, ...], out: bytearray, buffers: list[Any], depth: int) -> None:
    out.append(0x74)  # t
    _items(obj, out, buffers, depth, _index_label)


_KEY_TYPES = frozenset({type(None), bool, int, float, str, bytes})


def _valid_key(key: Any, depth: int = 0) -> bool:
    if type(key) in _KEY_TYPES:
        return True
    return type(key) is tuple and depth < MAX_DEPTH and all(_valid_key(part, depth + 1) for part in key)


def _pairs(obj: dict[Any, Any], out: bytearray, buffers: list[Any], depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise _Unencodable(f"cannot encode {{path}}: nested deeper than {MAX_DEPTH} levels (a cycle?)")
    _uleb(out, len(obj))
    depth += 1
    key: Any = None
    try:
        for key, value in obj.items():
            if not _valid_key(key):
                raise _Unencodable(
                    f"cannot encode a dict key of {type(key)!r} at {{path}} "
                    "(keys must be None, bool, int, float, str, bytes or tuples of those)"
                )
            _encode_value(key, out, buffers, depth)
            _encode_value(value, out, buffers, depth)
    except _Unencodable as exc:
        exc.path.append(f"[{key!r}]" if _valid_key(key) else "")
        raise


def _enc_dict(obj: dict[Any, Any], out: bytearray, buffers: list[Any], depth: int) -> None:
    out.append(0x6D)  # m
    _pairs(obj, out, buffers, depth)


def _enc_tensor_map(obj: TensorMap, out: bytearray, buffers: list[Any], depth: int) -> None:
    out.append(0x4D)  # M
    _pairs(obj, out, buffers, depth)


def _enc_envelope(obj: Any, out: bytearray, buffers: list[Any], depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise _Unencodable(f"cannot encode {{path}}: nested deeper than {MAX_DEPTH} levels")
    out.append(0x45)  # E
    metadata = obj.metadata
    try:
        _enc_dict(metadata if type(metadata) is dict else dict(metadata), out, buffers, depth + 1)
    except _Unencodable as exc:
        exc.path.append(".metadata")
        raise
    acquired = obj.acq_timestamp
    if acquired is None:
        out.append(0x4E)
    else:
        _enc_int(int(acquired), out, buffers, depth)
    _encode_value(getattr(obj, "label", None), out, buffers, depth + 1)  # tracking paths
    _encode_value(obj.message, out, buffers, depth + 1)  # the payload keeps the path "message"


def _enc_ndarray(obj: np.ndarray, out: bytearray, buffers: list[Any], _depth: int) -> None:
    _write_array(obj, out, buffers, 0, 0)


def _enc_ndarray_subclass(obj: np.ndarray, out: bytearray, buffers: list[Any], _depth: int) -> None:
    _write_array(np.asarray(obj), out, buffers, 0, 0)  # a matrix or memmap arrives as a plain array


def _write_array(array: np.ndarray, out: bytearray, buffers: list[Any], flags: int, device: int) -> None:
    code = _DTYPE_CODES.get(array.dtype.str)
    if code is None:
        little = array.dtype.newbyteorder("<")
        code = _DTYPE_CODES.get(little.str)
        if code is None or array.dtype.kind not in "biufc":
            raise _Unencodable(
                f"cannot encode an array of dtype {array.dtype} at {{path}} (dtypes: bool, int8-64, "
                "uint8-64, float16/32/64, complex64/128)"
            )
        array = array.astype(little)
    if array.ndim > MAX_NDIM:
        raise _Unencodable(
            f"cannot encode an array of {array.ndim} dimensions at {{path}} (at most {MAX_NDIM})"
        )
    if array.flags.c_contiguous:
        flat = array
    elif array.flags.f_contiguous:
        flat = array.T
        flags |= _FORTRAN
    else:
        flat = np.ascontiguousarray(array)
    out.append(0x41)  # A
    out.append(code)
    out.append(array.ndim)
    for extent in array.shape:
        _uleb(out, extent)
    data = memoryview(flat.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
    if data.nbytes < INLINE_ARRAY_BYTES:
        out.append(flags | _INLINE)
        if flags & _CUDA:
            _uleb(out, device)
        out += data
    else:
        out.append(flags)
        if flags & _CUDA:
            _uleb(out, device)
        _uleb(out, len(buffers))
        buffers.append(data)


def _enc_scalar(obj: np.generic, out: bytearray, _buffers: list[Any], _depth: int) -> None:
    code = _DTYPE_CODES.get(obj.dtype.newbyteorder("<").str)
    if code is None or obj.dtype.kind not in "biufc":
        raise _Unencodable(f"cannot encode a numpy scalar of dtype {obj.dtype} at {{path}}")
    out.append(0x53)  # S
    out.append(code)
    out += np.asarray(obj, dtype=_DTYPES[code]).tobytes()


def _enc_tensor(obj: Tensor, out: bytearray, buffers: list[Any], _depth: int) -> None:
    out.append(0x58)  # X
    if obj.is_cuda:
        _write_cuda(obj, out, buffers, obj.device.device_id)
    else:
        _write_array(np.asarray(obj), out, buffers, 0, 0)


def _enc_cuda(obj: Any, out: bytearray, buffers: list[Any], _depth: int) -> None:
    _write_cuda(obj, out, buffers, as_tensor(obj).device.device_id)


def _write_cuda(obj: Any, out: bytearray, buffers: list[Any], device: int) -> None:
    from holoflow.tensor import to_host

    export = getattr(buffers, "cuda_export", None)
    if export is not None and _write_ipc(obj, out, export, device):
        return
    try:
        host = to_host(obj)
    except Exception as exc:
        raise _Unencodable(f"cannot copy the CUDA array at {{path}} to the host: {exc}") from exc
    _write_array(np.asarray(host), out, buffers, _CUDA, device)


def _write_ipc(obj: Any, out: bytearray, export: Any, device: int) -> bool:
    """Write CUDA ``obj`` as an IPC descriptor; False when the exporter declines it."""
    from holoflow.tensor import device_view

    try:
        array = device_view(obj)
    except Exception as exc:
        raise _Unencodable(f"cannot view the CUDA array at {{path}}: {exc}") from exc
    code = _DTYPE_CODES.get(array.dtype.str)
    if code is None:
        return False  # the host path converts or names the dtype
    if array.ndim > MAX_NDIM:
        raise _Unencodable(
            f"cannot encode an array of {array.ndim} dimensions at {{path}} (at most {MAX_NDIM})"
        )
    flags = _CUDA | _IPC
    if array.flags.c_contiguous:
        flat = array
    elif array.flags.f_contiguous:
        flat = array.T
        flags |= _FORTRAN
    else:
        from holoflow.tensor import cupy_module

        flat = cupy_module().ascontiguousarray(array)
    try:
        descriptor = export.export(flat, device)
    except Exception as exc:
        raise _Unencodable(f"cannot export the CUDA array at {{path}} by CUDA IPC: {exc}") from exc
    if descriptor is None:
        return False
    out.append(0x41)  # A
    out.append(code)
    out.append(array.ndim)
    for extent in array.shape:
        _uleb(out, extent)
    out.append(flags)
    _uleb(out, device)
    d = descriptor
    for value in (d.pid, d.exporter, d.ring, d.slot, d.part, d.generation, d.capacity, d.nbytes):
        _uleb(out, value)
    out += d.handle
    return True


def _enc_registered(obj: Any, out: bytearray, buffers: list[Any], depth: int) -> None:
    entry = by_type(type(obj))
    assert entry is not None
    if depth >= MAX_DEPTH:
        raise _Unencodable(f"cannot encode {{path}}: nested deeper than {MAX_DEPTH} levels (a cycle?)")
    try:
        value = entry.encode(obj)
    except Exception as exc:
        raise _Unencodable(f"the encoder registered as {entry.name!r} failed at {{path}}: {exc!r}") from exc
    out.append(0x52)  # R
    name = entry.name.encode("utf-8")
    _uleb(out, len(name))
    out += name
    _encode_value(value, out, buffers, depth + 1)


def _unencodable(obj: Any, _out: bytearray, _buffers: list[Any], _depth: int) -> None:
    raise _Unencodable(
        f"cannot encode {type(obj)!r} at {{path}} (register it with holoflow.distributed.register_codec)"
    )


_Encoder = Callable[[Any, bytearray, list[Any], int], None]
_ENCODERS: dict[type, _Encoder] = {
    type(None): _enc_none,
    bool: _enc_bool,
    int: _enc_int,
    float: _enc_float,
    complex: _enc_complex,
    str: _enc_str,
    bytes: _enc_bytes,
    list: _enc_list,
    tuple: _enc_tuple,
    dict: _enc_dict,
    np.ndarray: _enc_ndarray,
    Tensor: _enc_tensor,
    TensorMap: _enc_tensor_map,
    Envelope: _enc_envelope,
}


def _encoder_for(obj: Any) -> _Encoder:
    """The encoder for a type outside the fixed table (looked up on every encode, not cached,
    since a type may be registered later)."""
    kind = type(obj)
    if by_type(kind) is not None:
        return _enc_registered
    if isinstance(obj, np.generic):
        return _enc_scalar
    if isinstance(obj, np.ndarray) and not isinstance(obj, np.ma.MaskedArray):
        return _enc_ndarray_subclass
    if hasattr(obj, "__cuda_array_interface__"):
        return _enc_cuda
    return _unencodable


# =================================================================================================
# decode
# =================================================================================================
def decode(frames: Sequence[Any], limits: Limits = DEFAULT_LIMITS, cuda_import: Any = None) -> Any:
    """Rebuild the message from ``[body, *buffers]`` (bytes, memoryviews, or any object with the
    buffer protocol, such as received ZeroMQ frames).

    Arrays that travelled as buffers are views of those buffers (writable when the buffer is).
    ``cuda_import`` (an object with ``import_array(descriptor, dtype, shape, max_bytes)``, such
    as an ``IpcImporter``) rebuilds arrays that travelled as CUDA IPC descriptors.

    Raises
    ------
    holoflow.errors.CodecError
        For anything malformed, truncated, over ``limits`` or unknown; nothing else.
    """
    if type(frames) is list and len(frames) == 1 and type(frames[0]) is bytes:
        data: bytes = frames[0]  # a message with no buffers, as the links' batches hand over
        buffers: list[memoryview] = []
        if len(data) > limits.max_message_bytes:
            raise CodecError(f"cannot decode: a body of {len(data)} bytes is over the limit")
    else:
        try:
            if len(frames) == 0:
                raise CodecError("cannot decode: no frames")
            views = [_as_bytes_view(frame, index) for index, frame in enumerate(frames)]
        except CodecError:
            raise
        except Exception as exc:
            raise CodecError(f"cannot decode: frames must be a sequence of buffers ({exc})") from None
        if views[0].nbytes > limits.max_message_bytes:  # before the body is copied
            raise CodecError(f"cannot decode: a body of {views[0].nbytes} bytes is over the limit")
        data = bytes(views[0])
        buffers = views[1:]
    if len(data) < 3 or not data.startswith(MAGIC):
        raise CodecError("cannot decode: not a holoflow message (bad magic)")
    if data[2] != VERSION:
        raise CodecError(f"cannot decode: codec version {data[2]} (this process speaks {VERSION})")
    reader = _Reader(data, buffers, limits)
    reader.cuda_import = cuda_import
    reader.pos = 3
    try:
        value = reader.value(0)
    except CodecError:
        raise
    except RecursionError:
        raise CodecError("cannot decode: nested too deep") from None
    except Exception as exc:  # a defect, not a message: still reported as undecodable
        raise CodecError(f"cannot decode: {type(exc).__name__}: {exc}") from exc
    if reader.pos != len(reader.data):
        raise CodecError(f"cannot decode: {len(reader.data) - reader.pos} bytes left over after the message")
    if buffers and not all(reader.used):
        unused = [index + 1 for index, used in enumerate(reader.used) if not used]
        raise CodecError(f"cannot decode: frame(s) {unused} are not part of the message")
    return value


def _as_bytes_view(frame: Any, index: int) -> memoryview:
    view = frame if type(frame) is memoryview else memoryview(frame)
    if not view.c_contiguous:
        raise CodecError(f"cannot decode: frame {index} is not contiguous")
    if view.format != "B" or view.ndim != 1:
        view = view.cast("B")
    return view


class _Reader:
    """Walks one body; every read checks it stays inside the body."""

    __slots__ = ("buffers", "cuda_import", "data", "limits", "pos", "used")

    def __init__(self, data: bytes, buffers: list[memoryview], limits: Limits) -> None:
        self.cuda_import: Any = None
        self.data = data
        self.pos = 0
        self.buffers = buffers
        self.used = [False] * len(buffers)
        self.limits = limits

    def fail(self, reason: str) -> NoReturn:
        raise CodecError(f"cannot decode at body offset {self.pos}: {reason}")

    def byte(self) -> int:
        pos = self.pos
        if pos >= len(self.data):
            self.fail("truncated")
        self.pos = pos + 1
        return self.data[pos]

    def uleb(self) -> int:
        data, pos = self.data, self.pos
        if pos < len(data) and data[pos] < 0x80:  # one byte: most lengths and small ints
            self.pos = pos + 1
            return data[pos]
        result = shift = 0
        while True:
            if pos >= len(data):
                self.fail("truncated inside a number")
            b = data[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                break
            shift += 7
            if shift > 63:
                self.fail("a number longer than 64 bits")
        if result >> 64:
            self.fail("a number longer than 64 bits")
        self.pos = pos
        return result

    def take(self, length: int) -> bytes:
        pos = self.pos
        if length > len(self.data) - pos:
            self.fail(f"a length of {length} is past the end of the body")
        self.pos = pos + length
        return self.data[pos : pos + length]

    def count(self) -> int:
        """An element count: each element takes at least one byte of what is left."""
        n = self.uleb()
        if n > len(self.data) - self.pos:
            self.fail(f"a count of {n} is more than the {len(self.data) - self.pos} bytes left")
        return n

    def value(self, depth: int) -> Any:
        data, pos = self.data, self.pos
        if pos + 1 < len(data) and data[pos + 1] < 0x80:
            # The commonest values, a short str or a small int, read here without a call.
            tag = data[pos]
            if tag == 0x73:  # s
                start = pos + 2
                end = start + data[pos + 1]
                if end <= len(data):
                    try:
                        text = data[start:end].decode("utf-8")
                    except UnicodeDecodeError as exc:
                        self.fail(f"invalid UTF-8 in a str: {exc}")
                    self.pos = end
                    return text
            elif tag == 0x69:  # i
                self.pos = pos + 2
                n = data[pos + 1]
                return (n >> 1) ^ -(n & 1)
        if pos >= len(data):
            self.fail("truncated")
        reader = _BY_TAG[data[pos]]
        if reader is None:
            self.fail(f"unknown tag {data[pos]:#04x}")
        self.pos = pos + 1
        return reader(self, depth)

    def nested(self, depth: int) -> int:
        if depth >= self.limits.max_depth:
            self.fail(f"nested deeper than {self.limits.max_depth} levels")
        return depth + 1

    def buffer(self) -> memoryview:
        index = self.uleb()
        if index >= len(self.buffers):
            self.fail(f"buffer index {index}, but {len(self.buffers)} buffer(s) arrived")
        if self.used[index]:
            self.fail(f"buffer {index} used twice")
        self.used[index] = True
        return self.buffers[index]


def _dec_none(_r: _Reader, _depth: int) -> None:
    return None


def _dec_true(_r: _Reader, _depth: int) -> bool:
    return True


def _dec_false(_r: _Reader, _depth: int) -> bool:
    return False


def _dec_int(r: _Reader, _depth: int) -> int:
    n = r.uleb()
    return (n >> 1) ^ -(n & 1)


def _dec_big_int(r: _Reader, _depth: int) -> int:
    length = r.uleb()
    if length > MAX_BIG_INT_BYTES:
        r.fail(f"an int of {length} bytes (at most {MAX_BIG_INT_BYTES})")
    return int.from_bytes(r.take(length), "little", signed=True)


def _dec_float(r: _Reader, _depth: int) -> float:
    value: float = _unpack_double(r.take(8))[0]
    return value


def _dec_complex(r: _Reader, _depth: int) -> complex:
    real, imag = _unpack_complex(r.take(16))
    return complex(real, imag)


def _dec_str(r: _Reader, _depth: int) -> str:
    length = r.uleb()
    pos = r.pos
    if length > len(r.data) - pos:
        r.fail(f"a length of {length} is past the end of the body")
    r.pos = pos + length
    raw = r.data[pos : pos + length]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        r.fail(f"invalid UTF-8 in a str: {exc}")


def _dec_bytes(r: _Reader, _depth: int) -> bytes:
    return r.take(r.uleb())


def _dec_bytes_buffer(r: _Reader, _depth: int) -> bytes:
    data = r.buffer()
    if data.nbytes > r.limits.max_message_bytes:
        r.fail(f"bytes of {data.nbytes} bytes are over the limit")
    return bytes(data)


def _dec_list(r: _Reader, depth: int) -> list[Any]:
    inner = r.nested(depth)
    value = r.value
    return [value(inner) for _ in range(r.count())]


def _dec_tuple(r: _Reader, depth: int) -> tuple[Any, ...]:
    inner = r.nested(depth)
    value = r.value
    return tuple([value(inner) for _ in range(r.count())])


def _fill(r: _Reader, depth: int, target: dict[Any, Any]) -> None:
    inner = r.nested(depth)
    value = r.value
    for _ in range(r.count()):
        key = value(inner)
        if type(key) is not str and not _valid_key(key):
            r.fail(f"a dict key of type {type(key).__name__}")
        target[key] = value(inner)


def _dec_dict(r: _Reader, depth: int) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    _fill(r, depth, result)
    return result


def _dec_tensor_map(r: _Reader, depth: int) -> TensorMap:
    result = TensorMap()
    _fill(r, depth, result)
    return result


def _dec_envelope(r: _Reader, depth: int) -> Any:
    inner = r.nested(depth)
    metadata = r.value(inner)
    if type(metadata) is not dict:
        r.fail(f"envelope metadata must be a dict, got {type(metadata).__name__}")
    acquired = r.value(inner)
    if acquired is not None and type(acquired) is not int:
        r.fail(f"an acquisition timestamp must be an int or None, got {type(acquired).__name__}")
    label = r.value(inner)
    if label is not None and not _is_label(label):
        r.fail("an envelope's tracking label must be (start, names[, times]) entries")
    envelope = Envelope(r.value(inner), metadata, acquired)
    if label is not None:
        envelope.label = label
    return envelope


def _is_entry(entry: Any) -> bool:
    return (
        type(entry) is tuple
        and len(entry) in (2, 3)
        and type(entry[0]) is int
        and type(entry[1]) is tuple
        and all(type(name) is str for name in entry[1])
        and (len(entry) == 2 or (type(entry[2]) is tuple and all(type(t) is int for t in entry[2])))
    )


def _is_label(label: Any) -> bool:
    """A data-flow tracking label: one entry, or a list of entries (``core._tracked_contexts``)."""
    if type(label) is list:
        return bool(label) and all(_is_entry(entry) for entry in label)
    return _is_entry(label)


def _dec_array(r: _Reader, _depth: int) -> Any:
    code = r.byte()
    if code >= len(_DTYPES):
        r.fail(f"unknown dtype code {code}")
    dtype = _DTYPES[code]
    ndim = r.byte()
    if ndim > r.limits.max_ndim:
        r.fail(f"an array of {ndim} dimensions (at most {r.limits.max_ndim})")
    shape = tuple([r.uleb() for _ in range(ndim)])
    nbytes = dtype.itemsize
    for extent in shape:
        nbytes *= extent
    if nbytes > r.limits.max_message_bytes:
        r.fail(f"an array of shape {shape} and dtype {dtype} ({nbytes} bytes) is over the limit")
    flags = r.byte()
    if flags & ~_KNOWN_FLAGS:
        r.fail(f"unknown array flags {flags:#04x}")
    device = r.uleb() if flags & _CUDA else 0
    if flags & _IPC:
        return _read_ipc(r, dtype, shape, nbytes, flags, device)
    if flags & _INLINE:
        if nbytes >= INLINE_ARRAY_BYTES:
            r.fail(f"an inline array of {nbytes} bytes")
        raw = r.take(nbytes)
        array = np.frombuffer(raw, dtype=dtype).copy()
    else:
        data = r.buffer()
        if data.nbytes != nbytes:
            r.fail(f"an array of shape {shape} and dtype {dtype} needs {nbytes} bytes, not {data.nbytes}")
        array = np.frombuffer(data, dtype=dtype)
    try:
        array = array.reshape(shape[::-1]).T if flags & _FORTRAN else array.reshape(shape)
    except (ValueError, OverflowError) as exc:
        r.fail(f"an array of shape {shape}: {exc}")
    if flags & _CUDA:
        return _to_device(r, array, device)
    return array


def _read_ipc(
    r: _Reader, dtype: np.dtype, shape: tuple[int, ...], nbytes: int, flags: int, device: int
) -> Any:
    """An array that travelled as a CUDA IPC descriptor, copied out through the importer."""
    if flags & (_CUDA | _INLINE) != _CUDA:
        r.fail(f"array flags {flags:#04x}: a CUDA IPC array must be flagged CUDA and not inline")
    pid, exporter, ring, slot, part, generation, capacity, count = [r.uleb() for _ in range(8)]
    handle = r.take(HANDLE_BYTES)
    descriptor = IpcDescriptor(pid, exporter, ring, slot, part, generation, capacity, count, device, handle)
    problem = descriptor_problem(descriptor, nbytes, r.limits.max_message_bytes)
    if problem is not None:
        r.fail(problem)
    importer = r.cuda_import
    if importer is None:
        r.fail(
            "a CUDA IPC array arrived in a process that does not import them "
            "(CUDA IPC allowed and a CUDA device on both ends)"
        )
    c_shape = shape[::-1] if flags & _FORTRAN else shape
    try:
        array = importer.import_array(descriptor, dtype, c_shape, r.limits.max_message_bytes)
    except Exception as exc:
        r.fail(f"{exc}")
    return array.T if flags & _FORTRAN else array


def _to_device(r: _Reader, array: np.ndarray, device: int) -> Any:
    """The host copy of a CUDA array, back on this process's current CUDA device."""
    from holoflow.tensor import cuda_available, cupy_module

    if not cuda_available():
        if r.limits.cuda_as_host:
            return array
        r.fail(
            f"a CUDA array (sent from device {device}) arrived in a process without a CUDA device; "
            "decode with Limits(cuda_as_host=True) to receive it as a numpy array"
        )
    try:
        return cupy_module().asarray(array)
    except Exception as exc:
        r.fail(f"cannot copy a CUDA array to the device: {exc}")


def _dec_scalar(r: _Reader, _depth: int) -> np.generic:
    code = r.byte()
    if code >= len(_DTYPES):
        r.fail(f"unknown dtype code {code}")
    dtype = _DTYPES[code]
    scalar: np.generic = np.frombuffer(r.take(dtype.itemsize), dtype=dtype)[0]
    return scalar


def _dec_tensor(r: _Reader, depth: int) -> Tensor:
    if r.byte() != 0x41:
        r.fail("a Tensor must hold an array")
    return as_tensor(_dec_array(r, depth))


def _dec_registered(r: _Reader, depth: int) -> Any:
    raw = r.take(r.uleb())
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        r.fail("a registered type name is not UTF-8")
    entry = by_name(name)
    if entry is None:
        r.fail(f"unknown registered type {name!r} (register it with register_codec in this process too)")
    value = r.value(r.nested(depth))
    try:
        return entry.decode(value)
    except Exception as exc:
        r.fail(f"the decoder registered as {name!r} failed: {type(exc).__name__}: {exc}")


def _dec_reserved(r: _Reader, _depth: int) -> NoReturn:
    r.pos -= 1
    r.fail("tracking data (tag Q) is not supported by this version")


_READERS: dict[int, Callable[[_Reader, int], Any]] = {
    ord("N"): _dec_none,
    ord("T"): _dec_true,
    ord("F"): _dec_false,
    ord("i"): _dec_int,
    ord("I"): _dec_big_int,
    ord("d"): _dec_float,
    ord("c"): _dec_complex,
    ord("s"): _dec_str,
    ord("b"): _dec_bytes,
    ord("B"): _dec_bytes_buffer,
    ord("l"): _dec_list,
    ord("t"): _dec_tuple,
    ord("m"): _dec_dict,
    ord("M"): _dec_tensor_map,
    ord("E"): _dec_envelope,
    ord("A"): _dec_array,
    ord("S"): _dec_scalar,
    ord("X"): _dec_tensor,
    ord("R"): _dec_registered,
    ord("Q"): _dec_reserved,
}
_BY_TAG: list[Callable[[_Reader, int], Any] | None] = [_READERS.get(tag) for tag in range(256)]
