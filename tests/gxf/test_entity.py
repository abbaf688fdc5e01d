"""The entity codec: the hand-worked vectors of the format note, round trips, hostile input."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from holoflow.errors import CodecError, GXFFormatError
from holoflow.gxf import Component, GXFReader, StorageType, Timestamp, decode_entity, encode_entity
from holoflow.gxf._types import ELEMENT_DTYPES

CONFORMANCE = Path(__file__).resolve().parents[1] / "data" / "gxf-holoscan-4.6"

VECTOR_200 = bytes.fromhex(
    "0000000000000000"
    "00000000"
    "0000000000000000"
    "00000000"
    "0100000000000000"
    "0000000000000000"
    "0000000000000000"
    "7c44bf9ad6017537"
    "b83af3d4140117a6"
    "0000000000000000"
    "01000000"
    "02000000"
    "0100000000000000"
    "03000000"
    "02000000"
    "02000000"
    "03000000" + "01000000" * 5 + "0600000000000000"
    "0300000000000000"
    "0100000000000000" + "00" * 40 + "000102030405060708090a0b"
)


def join(chunks):
    return b"".join(bytes(c) for c in chunks)


def test_the_200_byte_converter_vector():
    frame = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    encoded = join(encode_entity([Component("", frame, StorageType.DEVICE)], 0))
    assert len(encoded) == 200
    assert encoded == VECTOR_200
    entity, end = decode_entity(VECTOR_200, 0, 200, path="vector", frame=0)
    assert end == 200
    (component,) = entity.components
    assert (component.name, component.storage) == ("", StorageType.DEVICE)
    np.testing.assert_array_equal(component.value, frame)


def test_the_timestamp_variant_is_257_bytes():
    frame = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    acq = 1_700_000_000_123_456_789
    encoded = join(
        encode_entity(
            [Component("", frame, StorageType.DEVICE), Component("timestamp", Timestamp(0, acq))], 0
        )
    )
    assert len(encoded) == 257
    assert encoded[:200] == VECTOR_200[:24] + struct.pack("<Q", 2) + VECTOR_200[32:]
    tail = encoded[200:]
    assert tail[8:24] == bytes.fromhex("bc4b905c105b09d1034ecb34116089bc")
    assert tail[24:32] == struct.pack("<Q", 9) and tail[32:41] == b"timestamp"
    assert tail[41:] == struct.pack("<qq", 0, acq)
    entity, _ = decode_entity(encoded, 0, 257, path="ts", frame=0)
    assert entity.timestamp == Timestamp(0, acq)


@pytest.mark.parametrize("recording", ["rgb_u8", "named_f32", "multi", "scalar_u32"])
def test_holoscan_recordings_decode_exactly(manifest, recording):
    with GXFReader(CONFORMANCE, recording) as reader:
        frames = manifest[recording]["frames"]
        assert len(reader) == len(frames)
        for entity, expected in zip(reader, frames, strict=True):
            tensors = entity.tensors()
            assert set(tensors) == set(expected)
            for name, spec in expected.items():
                array = tensors[name]
                assert str(array.dtype) == spec["dtype"] and list(array.shape) == spec["shape"]
                digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
                assert digest == spec["sha256_of_c_order_bytes"]
        sizes = reader.index["data_size"].astype(int)
        offsets = reader.index["data_offset"].astype(int)
        assert sizes.sum() == reader.entities_size
        assert list(offsets) == [0, *np.cumsum(sizes)[:-1]]


@pytest.mark.parametrize("dtype", sorted({d.name for d in ELEMENT_DTYPES.values()}))
def test_every_element_type_round_trips(dtype):
    rng = np.random.default_rng(0)
    array = (rng.random((3, 4)) * 100).astype(dtype)
    if np.dtype(dtype).kind == "c":
        array = array + 1j * array
    encoded = join(encode_entity({"t": array}, 5))
    entity, _ = decode_entity(encoded, 0, len(encoded), path="x", frame=0)
    assert entity.sequence_number == 5
    np.testing.assert_array_equal(entity.tensors()["t"], array)


def test_scalars_and_zero_rank_and_empty_tensors():
    values = {
        "i": np.int16(-3),
        "u": np.uint64(7),
        "f": 1.5,
        "b": True,
        "n": 42,
        "scalar": np.array(2.5),
        "empty": np.zeros((0, 3), np.float32),
    }
    encoded = join(encode_entity(values, 0))
    entity, _ = decode_entity(encoded, 0, len(encoded), path="x", frame=0)
    decoded = {c.name: c.value for c in entity.components}
    assert decoded["i"] == -3 and decoded["i"].dtype == np.int16
    assert decoded["u"] == 7 and decoded["f"] == 1.5 and decoded["b"] is np.True_ and decoded["n"] == 42
    assert decoded["scalar"].shape == () and decoded["scalar"] == 2.5
    assert decoded["empty"].shape == (0, 3)


def test_values_gxf_cannot_store():
    with pytest.raises(CodecError, match="GXF cannot store dtype bool"):
        encode_entity({"mask": np.zeros(3, bool)}, 0)
    with pytest.raises(CodecError, match="at most 8 dimensions, got 9"):
        encode_entity({"deep": np.zeros((1,) * 9)}, 0)


def test_non_contiguous_input_is_written_contiguous():
    base = np.arange(24, dtype=np.int32).reshape(4, 6)
    encoded = join(encode_entity({"v": base[:, ::2]}, 0))
    entity, _ = decode_entity(encoded, 0, len(encoded), path="x", frame=0)
    np.testing.assert_array_equal(entity.tensors()["v"], base[:, ::2])
    assert entity.tensors()["v"].strides == (12, 4)


def patched(offset, fmt, value):
    data = bytearray(VECTOR_200)
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (VECTOR_200[:30], "entity header"),
        (patched(0x18, "<Q", 2**62), "component_count"),
        (patched(0x40, "<Q", 2**40), "component 0 name_size"),
        (patched(0x30, "<Q", 1), "component 0 tid"),
        (patched(0x48, "<i", 9), "storage_type"),
        (patched(0x4C, "<i", 0), "element_type"),
        (patched(0x4C, "<i", 77), "element_type"),
        (patched(0x50, "<Q", 4), "bytes_per_element"),
        (patched(0x58, "<I", 9), "rank"),
        (patched(0x5C, "<i", -2), "dims"),
        (patched(0x5C, "<i", 2**31 - 1), "data"),
        (patched(0x7C, "<Q", 2**60), "strides"),
        (patched(0x7C, "<Q", 2**63 + 4), "strides"),  # found by the fuzzer: a stride numpy cannot hold
        (VECTOR_200[:190], "data"),
        (VECTOR_200[:100], "header"),
    ],
)
def test_hostile_bytes_raise_a_named_error(data, field):
    with pytest.raises(GXFFormatError, match=field) as info:
        decode_entity(data, 0, len(data), path="evil.gxf_entities", frame=3)
    assert info.value.path == "evil.gxf_entities" and info.value.frame == 3
    assert str(info.value).startswith("evil.gxf_entities, frame 3: ")


def test_a_huge_declared_tensor_is_never_allocated():
    """Dims claiming ~8 GiB in a 200-byte entity fail on the size check, instantly."""
    data = bytearray(VECTOR_200)
    struct.pack_into("<3i", data, 0x5C, 2**20, 2**20, 8)
    with pytest.raises(GXFFormatError, match=r"needs 8796093022208 bytes"):
        decode_entity(bytes(data), 0, len(data), path="big", frame=0)
