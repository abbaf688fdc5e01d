"""CUDA IPC on a machine without a GPU: descriptor checks, the codec's IPC path, and the exporter
and importer over the fake CuPy of ``tests/_fake_cupy.py``.

The real CUDA behaviour (handles opened in another process, mapping sizes) is proven by
``tests/gpu/test_distributed_cupy.py`` on a GPU. Here:

- hand-written bodies show that a decoder refuses every malformed descriptor with a
  ``CodecError``, CuPy or not;
- :class:`CodecRing` is a test double *for the codec* (a host-memory stand-in with the
  exporter/importer interface), so the codec's handling of descriptors is checked apart from
  CUDA;
- :class:`IpcExporter` and :class:`IpcImporter` themselves run over the fake CuPy, whose IPC
  calls open a handle in the same process (real CUDA only opens it in another one).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.distributed import _cuda_ipc
from holoflow.distributed._codec import Limits, decode, encode
from holoflow.distributed._control import decode_control, encode_control, make_control
from holoflow.distributed._cuda_ipc import (
    HANDLE_BYTES,
    MAX_PARTS,
    MAX_RING,
    IpcDescriptor,
    IpcExporter,
    IpcImporter,
    cuda_ipc_enabled,
    descriptor_problem,
    stats,
)
from holoflow.distributed._driver import _Peer, _transport
from holoflow.distributed._edges import EdgeSpec
from holoflow.distributed._remote_ends import RemoteOutbound
from holoflow.errors import CodecError, DistributedError
from holoflow.tensor import Tensor, TensorMap, as_tensor

IPC, CUDA, INLINE, FORTRAN = 16, 2, 4, 1
FLOAT32 = 10  # the codec's dtype code for float32


def uleb(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def good_fields(nbytes: int = 4096) -> dict[str, int | bytes]:
    return {
        "pid": 4321,
        "exporter": 99,
        "ring": 8,
        "slot": 3,
        "part": 0,
        "generation": 1,
        "capacity": 65536,
        "nbytes": nbytes,
        "device": 0,
        "handle": bytes(range(64)),
    }


def ipc_body(shape=(1024,), flags=CUDA | IPC, code=FLOAT32, handle_len=HANDLE_BYTES, **changes) -> bytes:
    """A hand-written body: one float32 array sent as a CUDA IPC descriptor."""
    fields = {**good_fields(), **changes}
    out = bytearray(b"hc\x01A")
    out += bytes([code, len(shape)])
    for extent in shape:
        out += uleb(extent)
    out.append(flags)
    out += uleb(fields["device"])  # type: ignore[arg-type]
    for name in ("pid", "exporter", "ring", "slot", "part", "generation", "capacity", "nbytes"):
        out += uleb(fields[name])  # type: ignore[arg-type]
    out += bytes(fields["handle"])[:handle_len]  # type: ignore[arg-type]
    return bytes(out)


class CodecRing:
    """A test double for the codec's side of CUDA IPC (not for IPC itself): ``export`` keeps a
    host copy of the array under a made-up descriptor, ``import_array`` hands back a copy on the
    (fake) device. Records what it saw."""

    def __init__(self, cupy, decline=False, fail=False):
        self.cupy = cupy
        self.decline = decline
        self.fail = fail
        self.store: dict[int, np.ndarray] = {}
        self.exported: list[tuple[tuple[int, ...], bool, int]] = []
        self.imported: list[tuple[tuple[int, ...], np.dtype]] = []

    def export(self, array, device):
        if self.fail:
            raise RuntimeError("out of device memory")
        if self.decline:
            return None
        host = self.cupy.asnumpy(array)
        self.exported.append((host.shape, array.flags.c_contiguous, device))
        slot = len(self.store)
        self.store[slot] = host
        return IpcDescriptor(os.getpid(), 7, 64, slot, 0, 1, host.nbytes, host.nbytes, device, bytes(64))

    def import_array(self, descriptor, dtype, shape, max_bytes):
        self.imported.append((shape, dtype))
        data = self.store[descriptor.slot]
        assert data.nbytes == descriptor.nbytes <= max_bytes
        return self.cupy.asarray(data.view(dtype).reshape(shape))


# -- descriptor checks ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"handle": b"\x00" * 63}, "handle must be 64 bytes"),
        ({"handle": bytearray(64)}, "handle must be 64 bytes"),
        ({"pid": 0}, "pid 0 is out of range"),
        ({"pid": 1 << 31}, "out of range"),
        ({"ring": 0}, "ring of 0 slots"),
        ({"ring": MAX_RING + 1}, f"ring of {MAX_RING + 1} slots"),
        ({"slot": 8}, "slot 8 outside a ring of 8"),
        ({"part": MAX_PARTS}, f"part {MAX_PARTS}"),
        ({"generation": 0}, "generation 0"),
        ({"device": 1024}, "device id 1024"),
        ({"nbytes": 4095}, "buffer of 4095 bytes for an array of 4096"),
        ({"capacity": 4095}, "allocation of 4095 bytes for 4096"),
        ({"capacity": 1 << 41}, "allocation of"),
    ],
)
def test_each_bad_descriptor_field_is_named(changes, reason):
    descriptor = IpcDescriptor(**{**good_fields(), **changes})  # type: ignore[arg-type]
    assert reason in (descriptor_problem(descriptor, 4096, 1 << 30) or "")


def test_a_good_descriptor_passes_and_limits_bound_it():
    descriptor = IpcDescriptor(**good_fields())  # type: ignore[arg-type]
    assert descriptor_problem(descriptor, 4096, 1 << 30) is None
    assert "1 to 4000" in (descriptor_problem(descriptor, 4096, 4000) or "")
    empty = dataclasses.replace(descriptor, nbytes=0)
    assert "0 bytes" in (descriptor_problem(empty, 0, 1 << 30) or "")


# -- hand-written bodies: refused before anything touches a device ------------------------------
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (ipc_body(flags=IPC), "must be flagged CUDA and not inline"),
        (ipc_body(flags=CUDA | IPC | INLINE), "must be flagged CUDA and not inline"),
        (ipc_body(handle_len=10), "past the end of the body"),
        (ipc_body(ring=4, slot=4), "slot 4 outside a ring of 4"),
        (ipc_body(ring=0, slot=0), "ring of 0 slots"),
        (ipc_body(part=200), "part 200"),
        (ipc_body(generation=0), "generation 0"),
        (ipc_body(nbytes=4000), "buffer of 4000 bytes for an array of 4096"),
        (ipc_body(capacity=100), "allocation of 100 bytes"),
        (ipc_body(pid=0), "pid 0"),
        (ipc_body(device=5000), "device id 5000"),
        (ipc_body(shape=(0,), nbytes=0), "array of 0 bytes"),
        (ipc_body()[:-70], "truncated"),
    ],
)
def test_malformed_ipc_descriptors_are_codec_errors(body, reason):
    for importer in (None, IpcImporter()):
        with pytest.raises(CodecError, match=reason):
            decode([body], cuda_import=importer)


def test_an_ipc_array_without_an_importer_is_refused():
    with pytest.raises(CodecError, match="does not import them"):
        decode([ipc_body()])
    with pytest.raises(CodecError, match="does not import them"):
        decode([ipc_body()], Limits(cuda_as_host=True))


def test_the_limit_applies_to_ipc_arrays():
    with pytest.raises(CodecError, match="over the limit"):
        decode([ipc_body()], Limits(max_message_bytes=4000), cuda_import=IpcImporter())


def test_without_cupy_a_valid_descriptor_is_a_codec_error():
    pytest.importorskip("zmq")  # any environment; CuPy is absent on a CPU machine
    if _cuda_ipc.cuda_available():
        pytest.skip("CuPy is importable here")
    with pytest.raises(CodecError, match="needs CuPy|this needs CuPy"):
        decode([ipc_body()], cuda_import=IpcImporter())


@settings(max_examples=300, deadline=None)
@given(
    fields=st.fixed_dictionaries(
        {
            name: st.one_of(st.integers(0, 3), st.integers(0, 1 << 64 - 1))
            for name in (
                "pid",
                "exporter",
                "ring",
                "slot",
                "part",
                "generation",
                "capacity",
                "nbytes",
                "device",
            )
        }
    ),
    flags=st.sampled_from([IPC, CUDA | IPC, CUDA | IPC | FORTRAN, CUDA | IPC | INLINE, 0xFF]),
    shape=st.lists(st.integers(0, 1 << 20), max_size=4),
    cut=st.integers(0, 120),
    tail=st.binary(max_size=8),
)
def test_garbage_descriptors_raise_only_codec_errors(fields, flags, shape, cut, tail):
    body = ipc_body(shape=tuple(shape), flags=flags, **fields)
    body = body[: len(body) - cut] + tail
    for importer in (None, IpcImporter()):
        _decode_or_codec_error(body, importer)


def _decode_or_codec_error(body, importer):
    try:
        decode([body], cuda_import=importer)
    except CodecError:
        pass


# -- the codec's IPC path, with its test double ---------------------------------------------------
def test_cuda_arrays_travel_as_descriptors_and_come_back_through_the_importer(gpu):
    cupy = gpu.module
    ring = CodecRing(cupy)
    big = cupy.asarray(np.arange(20_000, dtype=np.float32).reshape(100, 200))
    small = cupy.asarray(np.arange(6, dtype=np.int16))
    fortran = cupy.asarray(np.arange(12.0).reshape(4, 3)).T
    message = {"big": big, "small": small, "tensor": as_tensor(small), "f": fortran, "n": 3}
    frames = encode(message, cuda_export=ring)
    assert len(frames) == 1  # nothing staged: every array is a descriptor in the body
    assert [shape for shape, _, _ in ring.exported] == [
        (100, 200),
        (6,),
        (6,),
        (4, 3),
    ]  # F order: sent as its C-ordered transpose
    assert all(contiguous for _, contiguous, _ in ring.exported)
    result = decode(frames, cuda_import=ring)
    assert type(result["big"]) is cupy.ndarray
    np.testing.assert_array_equal(cupy.asnumpy(result["big"]), cupy.asnumpy(big))
    np.testing.assert_array_equal(cupy.asnumpy(result["small"]), [0, 1, 2, 3, 4, 5])
    assert type(result["tensor"]) is Tensor and result["tensor"].is_cuda
    assert result["f"].shape == (3, 4) and result["f"].flags.f_contiguous
    np.testing.assert_array_equal(cupy.asnumpy(result["f"]), np.arange(12.0).reshape(4, 3).T)
    assert result["n"] == 3
    assert ring.imported[-1] == ((4, 3), np.dtype(np.float64))  # C order, transposed back


def test_arrays_the_exporter_declines_are_staged_through_the_host(gpu):
    cupy = gpu.module
    ring = CodecRing(cupy, decline=True)
    array = cupy.asarray(np.arange(100_000, dtype=np.uint8))
    frames = encode(TensorMap({"x": array}), cuda_export=ring)
    assert len(frames) == 2 and not ring.exported  # one host buffer
    result = decode(frames)
    np.testing.assert_array_equal(cupy.asnumpy(result["x"]), np.arange(100_000, dtype=np.uint8))


def test_a_failing_export_names_the_port_and_path(gpu):
    cupy = gpu.module
    with pytest.raises(
        CodecError, match=r"operator 'tx' output port 'out': .*message\['x'\].*out of device memory"
    ):
        encode(
            {"x": cupy.asarray(np.ones(4))},
            where="operator 'tx' output port 'out'",
            cuda_export=CodecRing(cupy, fail=True),
        )


def test_host_arrays_never_reach_the_exporter(gpu):
    ring = CodecRing(gpu.module)
    frames = encode([np.arange(100_000), np.float32(2)], cuda_export=ring)
    assert not ring.exported and len(frames) == 2


def test_an_importer_failure_is_a_codec_error(gpu):
    class Failing(CodecRing):
        def import_array(self, descriptor, dtype, shape, max_bytes):
            raise RuntimeError("cudaErrorMapBufferObjectFailed")

    frames = encode([gpu.module.asarray(np.ones(4))], cuda_export=CodecRing(gpu.module))
    with pytest.raises(CodecError, match="cudaErrorMapBufferObjectFailed"):
        decode(frames, cuda_import=Failing(gpu.module))


# -- IpcExporter and IpcImporter over the fake CuPy ----------------------------------------------
def pattern(n: int, seq: int) -> np.ndarray:
    return (np.arange(n, dtype=np.uint32) * np.uint32(2654435761)) ^ np.uint32(seq)


def test_a_ring_reuses_its_slots_and_reopens_only_grown_parts(gpu):
    cupy = gpu.module
    exporter, importer = IpcExporter(window=3), IpcImporter()
    before = stats()
    sizes = [1000, 1000, 1000, 1000, 50_000, 1000, 1000, 1000]
    live = []
    for seq, n in enumerate(sizes):
        exporter.begin(seq)
        frames = encode([cupy.asarray(pattern(n, seq))], cuda_export=exporter)
        (result,) = decode(frames, cuda_import=importer)
        assert type(result) is cupy.ndarray
        np.testing.assert_array_equal(cupy.asnumpy(result), pattern(n, seq))
        if seq >= 1:
            live.append(gpu.is_live(gpu.calls("ipcGetMemHandle")[1][1]))  # slot 1's first part
    # slot 1 grew for message 4: its first allocation outlives that message and is freed when
    # the slot is next used (message 7), after the receiver closed its mapping
    assert live == [True] * 6 + [False]
    after = {key: value - before[key] for key, value in stats().items()}
    assert after == {"exported": 8, "imported": 8, "allocated": 4, "opened": 4, "closed": 1}
    assert importer.open_mappings == 3
    opened = [entry[1] for entry in gpu.calls("ipcOpenMemHandle")]
    closed = [entry[1] for entry in gpu.calls("ipcCloseMemHandle")]
    assert len(set(opened)) == 4 and closed == [opened[1]]
    importer.close()
    assert importer.open_mappings == 0 and len(gpu.calls("ipcCloseMemHandle")) == 4
    exporter.begin(8)
    frames = encode([cupy.asarray(pattern(10, 8))], cuda_export=exporter)
    with pytest.raises(CodecError, match="after the importer closed"):
        decode(frames, cuda_import=importer)


def test_every_array_of_a_message_has_its_own_part_and_copies_wait_for_the_device(gpu):
    cupy = gpu.module
    exporter, importer = IpcExporter(window=2), IpcImporter()
    exporter.begin(0)
    message = {f"t{i}": cupy.asarray(pattern(100 + i, i)) for i in range(3)}
    frames = encode(message, cuda_export=exporter)
    result = decode(frames, cuda_import=importer)
    for i in range(3):
        np.testing.assert_array_equal(cupy.asnumpy(result[f"t{i}"]), pattern(100 + i, i))
    copies = gpu.calls("memcpyAsync", "streamSynchronize")
    # each copy (into the slot, then out of it) is waited for before the other side reads
    assert [entry[0] for entry in copies] == ["memcpyAsync", "streamSynchronize"] * 6
    assert len({entry[1] for entry in gpu.calls("ipcGetMemHandle")}) == 3


def test_past_max_parts_arrays_are_staged_and_empty_ones_too(gpu):
    cupy = gpu.module
    exporter = IpcExporter(window=1)
    exporter.begin(0)
    arrays = [cupy.asarray(np.full(4, i, np.int32)) for i in range(MAX_PARTS + 2)]
    frames = encode([*arrays, cupy.asarray(np.zeros(0, np.float32))], cuda_export=exporter)
    before = stats()["imported"]
    result = decode(frames, cuda_import=IpcImporter())
    assert stats()["imported"] - before == MAX_PARTS
    assert [int(cupy.asnumpy(a)[0]) for a in result[:-1]] == list(range(MAX_PARTS + 2))
    assert result[-1].shape == (0,)


class Recording(IpcExporter):
    """An exporter that keeps the descriptors it made."""

    def __init__(self, window):
        super().__init__(window)
        self.seen = []

    def export(self, array, device):
        descriptor = super().export(array, device)
        self.seen.append(descriptor)
        return descriptor


def test_the_importer_refuses_a_mapping_the_sender_overstates(gpu):
    cupy = gpu.module
    exporter, importer = Recording(window=1), IpcImporter()
    exporter.begin(0)
    frames = encode([cupy.asarray(np.ones(1000, np.uint8))], cuda_export=exporter)
    decode(frames, cuda_import=importer)
    (descriptor,) = exporter.seen
    assert (descriptor.pid, descriptor.ring, descriptor.slot, descriptor.nbytes) == (os.getpid(), 1, 0, 1000)
    assert descriptor.capacity == 65536 and len(descriptor.handle) == HANDLE_BYTES
    bigger = dataclasses.replace(descriptor, nbytes=2 << 20, capacity=2 << 20)
    with pytest.raises(CodecError, match="mapping of"):
        importer.import_array(bigger, np.dtype(np.uint8), (2 << 20,), 1 << 30)
    older = dataclasses.replace(descriptor, generation=0)
    assert descriptor_problem(older, 1000, 1 << 30) == "CUDA IPC generation 0"


def test_a_bad_handle_is_a_codec_error_and_the_mapping_limit_holds(gpu):
    importer = IpcImporter(max_mappings=1)
    bad = IpcDescriptor(**{**good_fields(), "handle": secrets.token_bytes(64)})  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="not an IPC handle"):
        importer.import_array(bad, np.dtype(np.float32), (1024,), 1 << 30)
    cupy = gpu.module
    exporter = IpcExporter(window=2)
    for seq in range(2):
        exporter.begin(seq)
        frames = encode([cupy.asarray(np.ones(10))], cuda_export=exporter)
        if seq == 0:
            decode(frames, cuda_import=importer)
    with pytest.raises(CodecError, match="more than 1 CUDA IPC mappings"):
        decode(frames, cuda_import=importer)


# -- an edge: the window protects the slots --------------------------------------------------------
class _Producer:
    def poke(self, op_name):
        pass


def test_a_push_without_window_room_never_overwrites_a_slot(gpu, links):
    from tests.distributed.test_zmq_links import Sink, expect

    cupy = gpu.module
    importer = IpcImporter()
    listener = links.listener(decode=lambda frames: decode(frames, cuda_import=importer))
    sink, token = Sink(credit=False), links.token()
    expect(listener, sink, "a>b", token, {1: 2})
    link = links.link(listener, "a>b", token, {1: 2})
    link.wait_ready(10)
    exporter = IpcExporter(window=2)
    outbound = RemoteOutbound(
        EdgeSpec(1, ("f", "tx", "out"), ("g", "rx", "in"), window=2), link, _Producer(), exporter
    )
    for seq in range(2):
        outbound.push(cupy.asarray(pattern(5000, seq)), 0)
    sink.wait(lambda s: len(s.items) == 2)
    slots = [part.memory.ptr for slot in exporter._slots for part in slot]
    kept = [
        gpu.host_view(
            cupy.ndarray(
                (5000,), np.uint32, cupy.cuda.MemoryPointer(cupy.cuda.UnownedMemory(p, 20000, None), 0)
            )
        ).copy()
        for p in slots
    ]
    with pytest.raises(DistributedError, match="window of 2 messages is full"):
        outbound.push(cupy.asarray(pattern(5000, 2)), 0)
    for pointer, before in zip(slots, kept, strict=True):
        now = gpu.host_view(
            cupy.ndarray(
                (5000,), np.uint32, cupy.cuda.MemoryPointer(cupy.cuda.UnownedMemory(pointer, 20000, None), 0)
            )
        )
        np.testing.assert_array_equal(now, before)
    for seq, (edge, message) in enumerate(sink.items):
        assert edge == 1
        np.testing.assert_array_equal(cupy.asnumpy(message), pattern(5000, seq))
    sink.link.credit(1, 2, flush=True)
    assert link.wait_credit(1, 10)
    outbound.push(cupy.asarray(pattern(5000, 2)), 0)  # slot 0 again, now free
    sink.wait(lambda s: len(s.items) == 3)
    np.testing.assert_array_equal(cupy.asnumpy(sink.items[2][1]), pattern(5000, 2))
    outbound.close()
    assert exporter._slots == [[], []]
    importer.close()


# -- switches and the driver's choice ------------------------------------------------------------
def test_cuda_ipc_needs_the_variable_and_a_device(monkeypatch, make_gpu):
    for value, device, expected in [
        ("", True, True),
        ("0", True, False),
        ("0", False, False),
        ("1", False, False),
        ("1", True, True),
    ]:
        monkeypatch.setenv("HOLOFLOW_CUDA_IPC", value)
        make_gpu(device_count=1 if device else 0)
        cuda_ipc_enabled.cache_clear()
        assert cuda_ipc_enabled() is expected
    cuda_ipc_enabled.cache_clear()


def _peer(name, host="h", **caps):
    return _Peer(
        name.encode(), name, [], "", host, 1, -1, {"cuda": True, "ucxx": False, "encrypt": False, **caps}
    )


@pytest.mark.parametrize(
    ("a", "b", "transport"),
    [
        (_peer("a", cuda_ipc=True, host_id="x"), _peer("b", cuda_ipc=True, host_id="x"), "zmq+cuda_ipc"),
        (_peer("a", cuda_ipc=True, host_id="x"), _peer("b"), "zmq"),
        (_peer("a", cuda_ipc=True, host_id="x"), _peer("b", cuda_ipc=True, host_id="y"), "zmq"),
        (_peer("a", cuda_ipc=True, host_id="x"), _peer("b", "other", cuda_ipc=True, host_id="x"), "zmq"),
        (_peer("a", cuda=False, cuda_ipc=True), _peer("b", cuda_ipc=True), "zmq"),
    ],
)
def test_the_driver_picks_cuda_ipc_only_for_two_cuda_ipc_workers_on_one_host(a, b, transport):
    assert _transport(a, b) == transport == _transport(b, a)


def test_join_carries_the_new_caps_and_still_takes_the_old_ones():
    common = {
        "proto": 1,
        "app_fingerprint": "f",
        "fragments": [],
        "data_endpoint": "e",
        "host": "h",
        "pid": 1,
    }
    for caps in (
        {"cuda": True, "ucxx": False, "encrypt": False, "cuda_ipc": True, "host_id": "b"},
        {"cuda": False, "ucxx": False, "encrypt": True},
    ):
        message = decode_control(encode_control(make_control("JOIN", **common, caps=caps)))
        assert message["caps"] == caps
    with pytest.raises(CodecError, match="cuda_ipc"):
        make_control(
            "JOIN", **common, caps={"cuda": True, "ucxx": False, "encrypt": False, "cuda_ipc": "yes"}
        )


def test_importer_close_is_safe_from_two_threads(gpu):
    importer = IpcImporter()
    exporter = IpcExporter(window=1)
    exporter.begin(0)
    decode(encode([gpu.module.asarray(np.ones(8))], cuda_export=exporter), cuda_import=importer)
    threads = [threading.Thread(target=importer.close) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(gpu.calls("ipcCloseMemHandle")) == 1


@pytest.mark.timeout(120)
def test_cuda_ipc_asked_for_without_a_device_leaves_links_on_zeromq(tmp_path):
    pytest.importorskip("zmq")
    from tests.distributed.test_processes import Cluster, received

    if _cuda_ipc.cuda_available():
        pytest.skip("a CUDA device is present; tests/gpu/test_distributed_cupy.py covers this")
    run = Cluster(tmp_path, HOLOFLOW_CUDA_IPC="1")
    try:
        common = ("--count", "50", "--payload", "array", "--out", str(tmp_path / "rx.json"))
        run.start("driver", *common, "--driver", "--worker", "--fragments", "tx")
        run.start("worker", *common, "--worker", "--fragments", "rx")
        assert run.wait("worker") == 0, run.stderr("worker")
        assert run.wait("driver") == 0, run.stderr("driver")
    finally:
        run.close()
    assert received(tmp_path) == list(range(50))
    assert "cuda_ipc" not in run.stderr("driver")
