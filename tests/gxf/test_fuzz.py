"""Fuzzing the decoder with mutated and truncated Holoscan recordings: GXFFormatError or success."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holoflow.errors import GXFFormatError
from holoflow.gxf import GXFReader, decode_entity, recording_paths

CONFORMANCE = Path(__file__).resolve().parents[1] / "data" / "gxf-holoscan-4.6"

RECORDINGS = ["rgb_u8", "named_f32", "multi", "scalar_u32"]


def decode_all(directory, basename):
    try:
        reader = GXFReader(directory, basename)
    except GXFFormatError:
        return
    with reader:
        for frame in range(len(reader)):
            try:
                entity = reader[frame]
            except GXFFormatError:
                continue
            for array in entity.tensors().values():
                array.copy()  # reading every element must stay inside the mapped file


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    recording=st.sampled_from(RECORDINGS),
    which=st.sampled_from(["index", "entities"]),
    mutations=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=8),
    truncate=st.one_of(st.none(), st.integers(0, 1 << 16)),
)
def test_mutated_recordings_fail_only_with_gxf_format_error(
    tmp_path_factory, recording, which, mutations, truncate
):
    directory = tmp_path_factory.mktemp("fuzz")
    for suffix in (".gxf_index", ".gxf_entities"):
        shutil.copy(CONFORMANCE / f"{recording}{suffix}", directory / f"{recording}{suffix}")
    index, entities = recording_paths(directory, recording)
    target = index if which == "index" else entities
    data = bytearray(target.read_bytes())
    for position, value in mutations:
        if data:
            data[position % len(data)] = value
    if truncate is not None:
        data = data[: truncate % (len(data) + 1)]
    target.write_bytes(bytes(data))
    decode_all(directory, recording)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_crash_the_entity_decoder(data):
    try:
        decode_entity(data, 0, len(data), path="random", frame=0)
    except GXFFormatError:
        pass
