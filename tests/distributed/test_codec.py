"""The closed codec: round trips of every carried type, zero copy, and hostile input."""

from __future__ import annotations

import dataclasses
import math
import socket
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from holoflow.core import Envelope
from holoflow.distributed._codec import (
    DEFAULT_LIMITS,
    INLINE_ARRAY_BYTES,
    Limits,
    decode,
    encode,
    register_codec,
)
from holoflow.distributed._codec_types import by_name
from holoflow.errors import CodecError
from holoflow.tensor import Tensor, TensorMap, as_tensor
from holoflow.viz import InputSpec, View

DTYPES = [
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
]


def round_trip(obj, limits=DEFAULT_LIMITS):
    return decode(encode(obj), limits)


def as_wire(frames):
    """The frames as a receiver gets them: fresh writable buffers, nothing shared with the sender."""
    return [bytearray(memoryview(frame).cast("B")) for frame in frames]


def same(a, b):
    """Equal values of exactly equal types, all the way down (NaN equals NaN)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, Tensor):
        same(np.asarray(a), np.asarray(b))
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype
        assert a.tobytes() == b.tobytes()
    elif isinstance(a, float):
        assert (math.isnan(a) and math.isnan(b)) or a == b
    elif isinstance(a, complex):
        same(a.real, b.real)
        same(a.imag, b.imag)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            same(a[key], b[key])
    elif isinstance(a, Envelope):
        same(a.message, b.message)
        same(a.metadata, b.metadata)
        assert a.acq_timestamp == b.acq_timestamp
    else:
        assert a == b


# -- strategies ------------------------------------------------------------------------------------
arrays = hnp.arrays(
    st.sampled_from(DTYPES).map(np.dtype),
    hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
)
big_arrays = st.builds(
    lambda dtype, rows: np.arange(rows * 4096, dtype=dtype).reshape(rows, -1),
    st.sampled_from(["int16", "float32", "float64", "complex128"]),
    st.integers(9, 24),
)
scalars = st.builds(
    lambda dtype, value: np.array(value).astype(dtype)[()], st.sampled_from(DTYPES), st.integers(0, 100)
)


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    name: str


register_codec(Point, "tests.Point", lambda p: [p.x, p.name], lambda value: Point(*value))

registered = st.one_of(
    st.builds(Point, st.integers(), st.text(max_size=5)),
    st.builds(View, st.floats(-16, 16), st.floats(-16, 16), st.floats(0.01, 16), st.floats(0.01, 16)),
    st.builds(InputSpec, st.text(max_size=5), st.sampled_from(["color", "points", "text"])),
)
keys = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(), st.binary()),
    lambda inner: st.tuples(inner, inner),
    max_leaves=4,
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**1000), max_value=2**1000),
    st.floats(),
    st.complex_numbers(),
    st.text(),
    st.binary(max_size=3000),
    arrays,
    big_arrays,
    scalars,
    arrays.map(as_tensor),
    registered,
)


def containers(inner):
    return st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
        st.dictionaries(st.text(max_size=5), arrays.map(as_tensor) | st.integers(), max_size=3).map(
            TensorMap
        ),
        st.builds(
            Envelope,
            inner,
            st.dictionaries(st.text(max_size=5), inner, max_size=3),
            st.none() | st.integers(0, 2**62),
        ),
    )


messages = st.recursive(leaves, containers, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(messages)
def test_every_supported_value_round_trips_with_its_type(message):
    same(round_trip(message), message)
    same(decode(as_wire(encode(message))), message)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-(2**1000), max_value=2**1000))
def test_ints_of_every_size_round_trip(value):
    result = round_trip(value)
    assert type(result) is int and result == value


def test_edges_of_the_small_int_encoding():
    for value in (0, -1, 1, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**1000, -(2**1000)):
        assert round_trip(value) == value


def test_an_int_over_1023_bits_is_refused():
    with pytest.raises(CodecError, match="int of 1024 bits at message"):
        encode(2**1023)


def test_dicts_keep_their_key_order_and_tuple_keys():
    message = {"z": 1, (1, "a"): 2, 3: [4], None: b"x", 2.5: "f"}
    result = round_trip(message)
    assert list(result.items()) == list(message.items())


def test_bools_stay_bools_inside_int_containers():
    assert [type(v) for v in round_trip([True, 1, False, 0])] == [bool, int, bool, int]


def test_every_dtype_round_trips_as_array_and_scalar():
    for name in DTYPES:
        array = (np.arange(24) % 3).astype(name).reshape(2, 3, 4)
        same(round_trip(array), array)
        same(round_trip(array[1, 2, 3]), array[1, 2, 3])


def test_big_endian_arrays_arrive_little_endian_with_the_same_values():
    array = np.arange(10, dtype=">i4")
    result = round_trip(array)
    assert result.dtype == np.dtype("<i4")
    assert result.tolist() == array.tolist()


@pytest.mark.parametrize(
    "value",
    [
        np.array(["a", "b"]),
        np.array([object()], dtype=object),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
        np.zeros(2, dtype=[("x", "f4")]),
        np.zeros(2, dtype=np.longdouble) if np.dtype(np.longdouble).itemsize > 8 else np.zeros(2, "V3"),
        np.ma.masked_array([1, 2], mask=[0, 1]),
        np.datetime64("2020-01-01"),
        np.str_("text"),
    ],
)
def test_values_outside_the_closed_dtype_list_are_refused(value):
    with pytest.raises(CodecError, match="at message"):
        encode(value)


def test_more_than_32_dimensions_are_refused():
    with pytest.raises(CodecError, match="33 dimensions"):
        encode(np.zeros((1,) * 33))


# -- zero copy ---------------------------------------------------------------------------------------
def test_large_arrays_travel_as_views_of_their_memory_both_ways():
    array = np.arange(INLINE_ARRAY_BYTES // 8 * 4, dtype=np.float64).reshape(4, -1)
    frames = encode({"image": array})
    assert len(frames) == 2
    assert np.shares_memory(np.frombuffer(frames[1], dtype=np.uint8), array)
    received = bytearray(frames[1])  # the transport's own receive buffer
    result = decode([frames[0], received])
    assert np.shares_memory(result["image"], np.frombuffer(received, dtype=np.uint8))
    assert result["image"].flags.writeable
    same(result["image"], array)


def test_arrays_decoded_from_read_only_buffers_are_read_only():
    array = np.ones(INLINE_ARRAY_BYTES, dtype=np.uint8)
    body, data = encode(array)
    result = decode([body, bytes(data)])
    assert not result.flags.writeable
    assert decode(as_wire([body, data])).flags.writeable


def test_small_arrays_travel_in_the_body_and_arrive_writable_and_aligned():
    array = np.arange(100, dtype=np.float64)
    frames = encode([array])
    assert len(frames) == 1
    result = decode([bytes(frames[0])])[0]
    assert result.flags.writeable and result.flags.aligned and not np.shares_memory(result, array)


def test_fortran_order_arrives_fortran_without_a_copy():
    array = np.asfortranarray(np.arange(200_000, dtype=np.float32).reshape(400, 500))
    frames = encode(array)
    assert np.shares_memory(np.frombuffer(frames[1], np.uint8), array)
    result = decode(as_wire(frames))
    assert result.flags.f_contiguous and not result.flags.c_contiguous
    same(result, array)


@pytest.mark.parametrize("shape", [(600, 500), (3, 4)])
def test_non_contiguous_arrays_arrive_contiguous_with_the_same_values(shape):
    base = np.arange(np.prod(shape) * 2, dtype=np.int32).reshape(shape[0], shape[1] * 2)
    view = base[::2, ::3]
    result = round_trip(view)
    assert result.flags.c_contiguous
    same(result, view)
    assert not np.shares_memory(result, base)


def test_tensors_and_tensor_maps_keep_their_types_and_share_the_buffers():
    image = np.arange(INLINE_ARRAY_BYTES, dtype=np.uint16).reshape(256, -1)
    message = TensorMap({"image": as_tensor(image), "label": "left", "n": 3})
    received = as_wire(encode(message))
    result = decode(received)
    assert type(result) is TensorMap and type(result["image"]) is Tensor
    assert result["label"] == "left" and result["n"] == 3
    assert np.shares_memory(np.asarray(result["image"]), np.frombuffer(received[1], np.uint8))
    same(result["image"], message["image"])


def test_a_dict_of_arrays_stays_a_dict_and_a_bare_array_stays_numpy():
    result = round_trip({"a": np.ones(3)})
    assert type(result) is dict and type(result["a"]) is np.ndarray


def test_envelopes_carry_metadata_and_the_acquisition_timestamp():
    envelope = Envelope({"frame": np.ones((2, 2))}, {"camera": "left", "index": 7}, 123_456_789)
    result = round_trip(envelope)
    assert type(result) is Envelope
    same(result, envelope)
    assert round_trip(Envelope(1, {})).acq_timestamp is None


def test_bytes_over_1_kib_travel_as_a_buffer():
    payload = bytes(range(256)) * 8
    frames = encode(payload)
    assert len(frames) == 2 and frames[1] is payload
    assert decode(as_wire(frames)) == payload


# -- registered types --------------------------------------------------------------------------------
@dataclasses.dataclass
class Detection:
    label: str
    box: tuple[float, float, float, float]
    mask: np.ndarray


register_codec(
    Detection,
    "tests.Detection",
    lambda d: (d.label, d.box, d.mask),
    lambda value: Detection(*value),
)


def test_registered_types_round_trip_inside_containers():
    detection = Detection("tool", (0.1, 0.2, 0.3, 0.4), np.ones((300, 300), np.uint8))
    result = decode(as_wire(encode({"found": [detection, detection]})))
    assert [type(d) for d in result["found"]] == [Detection, Detection]
    assert result["found"][0].label == "tool" and result["found"][0].box == detection.box
    same(result["found"][1].mask, detection.mask)


def test_registration_errors_are_clear():
    with pytest.raises(CodecError, match="registered already"):
        register_codec(type("Other", (), {}), "tests.Detection", repr, repr)
    with pytest.raises(CodecError, match="registered already"):
        register_codec(Detection, "tests.Other", repr, repr)
    with pytest.raises(CodecError, match="codec owns it"):
        register_codec(list, "tests.list", repr, repr)
    with pytest.raises(CodecError, match="non-empty"):
        register_codec(socket.socket, "", repr, repr)
    with pytest.raises(CodecError, match="callable"):
        register_codec(socket.socket, "tests.socket", repr, None)


class Fragile:
    """A registered type whose encoder always fails."""


def _fail(obj):
    raise RuntimeError("boom")


register_codec(Fragile, "tests.Fragile", _fail, lambda value: Fragile())


def test_a_failing_registered_encoder_names_the_type_and_path():
    with pytest.raises(
        CodecError, match=r"where: the encoder registered as 'tests.Fragile' failed at message\[0\]"
    ):
        encode([Fragile()], where="where")


def test_holoviz_input_specs_and_views_round_trip():
    specs = [
        InputSpec("video", "color"),
        InputSpec(
            "boxes",
            "rectangles",
            opacity=0.5,
            color=(1.0, 0.0, 0.0, 1.0),
            text=("a", "b"),
            views=(View(0.1, 0.2, 0.5, 0.5), View(matrix=tuple(float(i) for i in range(16)))),
        ),
    ]
    result = round_trip(specs)
    assert result == specs
    assert type(result[1].views[0]) is View


def test_a_hostile_input_spec_is_a_codec_error():
    body = encode(InputSpec("x", "color"))[0].replace(b"color", b"bogus")
    with pytest.raises(CodecError, match=r"decoder registered as 'holoflow.viz.InputSpec' failed"):
        decode([body])


def test_builtin_types_are_known_by_name_on_first_use():
    assert by_name("holoflow.viz.View").cls is View


# -- errors at encode ----------------------------------------------------------------------------------
def test_an_unencodable_object_names_where_and_its_path():
    with socket.socket() as conn, pytest.raises(CodecError) as caught:
        encode({"frame": 1, "conn": conn}, where="operator 'tx' output port 'out'")
    assert str(caught.value) == (
        "operator 'tx' output port 'out': cannot encode <class 'socket.socket'> at message['conn'] "
        "(register it with holoflow.distributed.register_codec)"
    )


@pytest.mark.parametrize(
    "label",
    [
        (1_700_000_000_000_000_000, ("tx", "mid")),
        (5, ("tx",), (1, 2, 3, 4)),
        [(5, ("a",)), (6, ("b", "c"))],
    ],
)
def test_envelopes_carry_tracking_labels(label):
    envelope = Envelope("payload", {})
    envelope.label = label
    result = round_trip(envelope)
    assert result.label == label and type(result.label) is type(label)
    assert not hasattr(round_trip(Envelope("payload", {})), "label")


@pytest.mark.parametrize("label", [(5,), ("start", ("a",)), (5, ["a"]), (5, ("a", 3)), [], [(5, ("a",)), 3]])
def test_a_malformed_tracking_label_does_not_decode(label):
    envelope = Envelope("payload", {})
    envelope.label = label
    with pytest.raises(CodecError, match="tracking label"):
        decode(encode(envelope))


def test_paths_reach_into_lists_tuples_envelopes_and_metadata():
    with pytest.raises(CodecError, match=r"at message\['a'\]\[2\]\[0\] "):
        encode({"a": [1, 2, (object(),)]})
    with pytest.raises(CodecError, match=r"at message.metadata\['k'\] "):
        encode(Envelope(1, {"k": object()}))
    with pytest.raises(CodecError, match=r"at message\[1\] "):
        encode(Envelope([0, object()], {}))


def test_bad_dict_keys_and_cycles_are_refused():
    with pytest.raises(CodecError, match="dict key of <class 'frozenset'> at message"):
        encode({frozenset(): 1})
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(CodecError, match="nested deeper than 64 levels"):
        encode(loop)


def test_array_subclasses_arrive_as_plain_arrays(tmp_path):
    class Labelled(np.ndarray):
        pass

    labelled = np.arange(6.0).reshape(2, 3).view(Labelled)
    memmap = np.memmap(tmp_path / "m.bin", dtype=np.float32, mode="w+", shape=(300, 300))
    memmap[:] = 2.0
    for value in (labelled, memmap):
        result = decode(as_wire(encode(value)))
        assert type(result) is np.ndarray
        np.testing.assert_array_equal(result, np.asarray(value))
    del memmap


def test_deeply_nested_tuple_keys_are_refused_not_crashed():
    key: object = 1
    for _ in range(5000):
        key = (key,)
    with pytest.raises(CodecError, match="dict key"):
        encode({key: 1})


def test_a_str_that_is_not_unicode_is_refused():
    with pytest.raises(CodecError, match="surrogates"):
        encode(["\ud800"])


# -- hostile input -------------------------------------------------------------------------------------
SAMPLES = [
    encode(None),
    encode({"a": [1, 2.5, "x", b"y" * 10, (True, None)], 3: {"n": -5}}),
    encode(np.arange(12, dtype=np.int32).reshape(3, 4)),
    encode({"big": np.ones(20_000, np.float64), "b": b"z" * 2000}),
    encode(TensorMap({"t": as_tensor(np.ones(3))})),
    encode(Envelope([1], {"m": 2}, 5)),
    encode([InputSpec("x", "color", views=(View(),))]),
    encode([np.float32(1.5), 2**100, 1 + 2j]),
]


def decodes_or_refuses(frames, limits=DEFAULT_LIMITS):
    try:
        decode(frames, limits)
    except CodecError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300), st.lists(st.binary(max_size=64), max_size=3))
def test_random_bytes_raise_only_codec_errors(body, buffers):
    decodes_or_refuses([body, *buffers])
    decodes_or_refuses([b"hc\x01" + body, *buffers])


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(SAMPLES), st.data())
def test_truncated_bodies_and_frames_raise_only_codec_errors(frames, data):
    wire = as_wire(frames)
    cut = data.draw(st.integers(0, len(wire[0]) - 1))
    decodes_or_refuses([wire[0][:cut], *wire[1:]])
    with pytest.raises(CodecError):
        decode([wire[0][:cut], *wire[1:]])
    if len(wire) > 1:
        index = data.draw(st.integers(1, len(wire) - 1))
        shorter = [*wire]
        shorter[index] = shorter[index][: data.draw(st.integers(0, len(shorter[index]) - 1))]
        decodes_or_refuses(shorter)
        decodes_or_refuses(wire[:-1])


@settings(max_examples=1000, deadline=None)
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 7)), min_size=1, max_size=4),
)
def test_bit_flipped_bodies_raise_only_codec_errors(frames, flips):
    wire = as_wire(frames)
    for position, bit in flips:
        wire[0][position % len(wire[0])] ^= 1 << bit
    decodes_or_refuses(wire)


def test_no_frames_or_non_buffers_are_codec_errors():
    for frames in ([], [object()], [b"hc\x01N", "text"], None, [memoryview(b"hc\x01N\x00")[::2]]):
        with pytest.raises(CodecError):
            decode(frames)  # type: ignore[arg-type]


def test_wrong_magic_version_and_leftovers_are_refused():
    body = encode(1)[0]
    with pytest.raises(CodecError, match="bad magic"):
        decode([b"xx" + body[2:]])
    with pytest.raises(CodecError, match="version 9"):
        decode([body[:2] + b"\x09" + body[3:]])
    with pytest.raises(CodecError, match="left over"):
        decode([body + b"N"])
    with pytest.raises(CodecError, match="not part of the message"):
        decode([body, b"extra"])


def test_buffers_must_be_used_exactly_once():
    big = np.ones(INLINE_ARRAY_BYTES, np.uint8)
    body, first, second = encode([big, big])
    assert body.endswith(b"\x00\x01")  # the second array: flags 0, buffer index 1
    with pytest.raises(CodecError, match="used twice"):
        decode([body[:-1] + b"\x00", first, second])
    with pytest.raises(CodecError, match="buffer index 1, but 1 buffer"):
        decode([body, first])


def _array_body(shape, dtype_code=11, flags=0, buffer=0):
    """A hand-written body declaring an array (dtype code 11 is float64)."""
    out = bytearray(b"hc\x01A")
    out += bytes([dtype_code, len(shape)])
    for extent in shape:
        while extent >= 0x80:
            out.append((extent & 0x7F) | 0x80)
            extent >>= 7
        out.append(extent)
    out.append(flags)
    out.append(buffer)
    return bytes(out)


def test_huge_declared_arrays_are_refused_before_any_allocation():
    tracemalloc.start()
    try:
        for shape in [(2**40,), (2**31, 2**31), (10**6, 10**6), (2**63, 2**63, 2**63)]:
            with pytest.raises(CodecError, match="over the limit"):
                decode([_array_body(shape), b"\x00" * 16])
        with pytest.raises(CodecError, match="needs 8000 bytes, not 16"):
            decode([_array_body((1000,)), b"\x00" * 16])
        with pytest.raises(CodecError, match="array of shape"):
            decode([_array_body((0, 2**62, 2**62)), b""])
        huge_count = b"hc\x01l" + b"\xff" * 9 + b"\x01"
        with pytest.raises(CodecError, match="count of"):
            decode([huge_count])
        huge_str = b"hc\x01s" + b"\xff\xff\xff\xff\x0f" + b"abc"
        with pytest.raises(CodecError, match="past the end"):
            decode([huge_str])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


def test_limits_bound_array_size_depth_and_dimensions():
    array = np.zeros(INLINE_ARRAY_BYTES, np.uint8)
    frames = encode(array)
    with pytest.raises(CodecError, match="over the limit"):
        decode(frames, Limits(max_message_bytes=INLINE_ARRAY_BYTES - 1))
    nested = [[[[1]]]]
    decode(encode(nested), Limits(max_depth=4))
    with pytest.raises(CodecError, match="nested deeper than 3"):
        decode(encode(nested), Limits(max_depth=3))
    with pytest.raises(CodecError, match="3 dimensions"):
        decode(encode(np.zeros((1, 1, 1))), Limits(max_ndim=2))
    deep = b"hc\x01" + b"l\x01" * 100_000 + b"N"
    with pytest.raises(CodecError, match="nested deeper than 64"):
        decode([deep])


def test_the_reserved_trace_tag_is_refused():
    with pytest.raises(CodecError, match="tag Q"):
        decode([b"hc\x01Q"])


def test_unknown_registered_names_are_refused_without_importing_them():
    body = b"hc\x01R" + bytes([9]) + b"os.system" + b"s\x02ls"
    with pytest.raises(CodecError, match="unknown registered type 'os.system'"):
        decode([body])


# -- CUDA (the fake CuPy of tests/_fake_cupy.py) --------------------------------------------------------
def test_cuda_arrays_travel_flagged_and_return_to_the_device(gpu):
    cupy = gpu.module
    device_array = cupy.asarray(np.arange(20_000, dtype=np.float32).reshape(100, 200))
    small = cupy.asarray(np.arange(6, dtype=np.int16))
    frames = encode({"big": device_array, "small": small, "tensor": as_tensor(small)})
    result = decode(as_wire(frames))
    assert type(result["big"]) is cupy.ndarray and type(result["small"]) is cupy.ndarray
    np.testing.assert_array_equal(cupy.asnumpy(result["big"]), cupy.asnumpy(device_array))
    np.testing.assert_array_equal(cupy.asnumpy(result["small"]), [0, 1, 2, 3, 4, 5])
    assert type(result["tensor"]) is Tensor and result["tensor"].is_cuda


def test_a_cuda_array_without_a_device_is_refused_unless_host_staging_is_allowed(gpu, monkeypatch):
    frames = as_wire(encode([gpu.module.asarray(np.arange(4.0))]))
    import holoflow.tensor

    monkeypatch.setattr(holoflow.tensor, "cuda_available", lambda: False)
    with pytest.raises(CodecError, match="without a CUDA device"):
        decode(frames)
    result = decode(frames, Limits(cuda_as_host=True))
    assert type(result[0]) is np.ndarray and result[0].tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"hc\x01i" + b"\xff" * 10 + b"\x01", "longer than 64 bits"),
        (b"hc\x01i" + b"\xff" * 9 + b"\x7f", "longer than 64 bits"),
        (b"hc\x01I\x81\x01" + b"\x00" * 129, "an int of 129 bytes"),
        (_array_body((70_000,), dtype_code=5, flags=4), "inline array of 70000 bytes"),
        (_array_body((4,), dtype_code=14), "unknown dtype code 14"),
        (_array_body((4,), flags=8), "unknown array flags"),
        (b"hc\x01S\x0e", "unknown dtype code 14"),
        (b"hc\x01s\x02\xff\xfe", "invalid UTF-8"),
        (b"hc\x01X" + b"N", "a Tensor must hold an array"),
        (b"hc\x01E" + b"l\x00" + b"N" + b"N", "metadata must be a dict"),
        (b"hc\x01E" + b"m\x00" + b"s\x01x" + b"N", "timestamp must be an int or None"),
        (b"hc\x01m\x01" + b"l\x00" + b"N", "a dict key of type list"),
        (b"hc\x01R\x02\xff\xfeN", "not UTF-8"),
        (b"hc\x01\x00", "unknown tag 0x00"),
    ],
)
def test_each_malformed_field_is_named(body, reason):
    with pytest.raises(CodecError, match=reason):
        decode([body, b"\x00" * 32] if body[3:4] == b"A" else [body])


def test_bytes_buffers_obey_the_size_limit_and_frames_may_be_any_buffer():
    frames = encode(b"x" * 5000)
    with pytest.raises(CodecError, match="over the limit"):
        decode(frames, Limits(max_message_bytes=4096))
    with pytest.raises(CodecError, match="body of"):
        decode([b"hc\x01" + b"N" * 10], Limits(max_message_bytes=4))
    array = np.arange(INLINE_ARRAY_BYTES, dtype=np.int32)
    body, data = encode(array)
    as_2d = np.frombuffer(bytearray(data), np.int32).reshape(256, -1)  # a 2-D int32 buffer
    same(decode([body, as_2d]), array)


def test_frames_received_by_zeromq_decode_in_place():
    zmq = pytest.importorskip("zmq")
    message = {"image": np.arange(300_000, dtype=np.uint16).reshape(500, 600), "meta": {"n": 1}}
    context = zmq.Context()
    try:
        sender, receiver = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
        receiver.bind("inproc://codec")
        sender.connect("inproc://codec")
        # copy=True: a zero-copy send starts pyzmq's process-wide buffer-release thread
        sender.send_multipart(encode(message), copy=True)
        frames = receiver.recv_multipart(copy=False)
        result = decode(frames)
        same(result, message)
        assert result["image"].flags.writeable
        assert np.shares_memory(result["image"], np.frombuffer(frames[1].buffer, np.uint8))
        sender.close(linger=0)
        receiver.close(linger=0)
    finally:
        context.term()
