"""Control messages: schema, limits, hostile input; heartbeat bookkeeping, also over real sockets."""

from __future__ import annotations

import json
import threading
import time

import pytest
import zmq
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.distributed._control import (
    KINDS,
    MAX_CONTROL_BYTES,
    ControlMessage,
    Heartbeats,
    decode_control,
    encode_control,
    heartbeat_settings,
    make_control,
)
from holoflow.errors import CodecError, ConfigError

EDGE = {"edge_id": 3, "src": ["tx_fragment", "tx", "out"], "dst": ["rx_fragment", "rx", "in"],
        "capacity": 1, "policy": "fault", "window": 64}  # fmt: skip
SAMPLES = {
    "JOIN": {"proto": 1, "app_fingerprint": "ab" * 32, "fragments": ["f1"], "data_endpoint": "tcp://1.2.3.4:5",
             "host": "h", "pid": 42, "caps": {"cuda": False, "ucxx": False, "encrypt": False}},
    "ACCEPT": {"worker_id": "w1", "run_id": "r"},
    "REJECT": {"reason": "fragment 'f1' is already assigned"},
    "PORT_INFO": {"run_id": "r", "ports": {"f1": {"tx": {"inputs": [], "outputs": ["out"], "any_size": []}}}},
    "ASSIGN": {"run_id": "r", "fragments": ["f1"], "edges": [EDGE],
               "links": [{"link_id": "w1>w2", "direction": "out", "peer_endpoint": "tcp://1.2.3.4:5",
                          "token": "00" * 32, "transport": "zmq", "edges": [3]}],
               "scheduler_env": {"HOLOSCAN_DISTRIBUTED_APP_SCHEDULER": "greedy"}},
    "READY": {"run_id": "r", "worker_id": "w1"},
    "START": {"run_id": "r"},
    "SCHEDULE": {"run_id": "r", "fragments": ["f1"]},
    "STATE": {"run_id": "r", "fragment": "f1", "passive": True, "finished": False, "sent": {"3": 10},
              "received": {}, "epoch": 1},
    "PROBE": {"run_id": "r", "epoch": 2},
    "STOP": {"run_id": "r"},
    "DONE": {"run_id": "r", "fragment": "f1", "sent": {"3": 10}, "received": {}, "dropped": {},
             "rejected": {"auth": 2}},
    "FAILED": {"run_id": "r", "fragment": "f1", "error": {"type": "ZeroDivisionError", "message": "x"}},
    "ABORT": {"run_id": "r", "reason": "lost worker w2", "error": None},
    "EXIT": {"run_id": "r", "ok": True},
    "HEARTBEAT": {"run_id": "r"},
}  # fmt: skip


def test_every_kind_has_a_sample():
    assert set(SAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_round_trip(kind):
    message = make_control(kind, **SAMPLES[kind])
    data = encode_control(message)
    assert json.loads(data)["kind"] == kind
    back = decode_control(data)
    assert back.kind == kind
    expected = {k: v for k, v in SAMPLES[kind].items()}
    assert dict(back.fields) == expected
    assert back == ControlMessage(kind, expected)


def test_optional_fields():
    assert decode_control(b'{"kind":"ABORT","run_id":"r","reason":"x"}').get("error") is None
    assert decode_control(b'{"kind":"STATE","run_id":"r","fragment":"f","passive":false,"finished":false,'
                          b'"sent":{},"received":{},"epoch":4}').get("probe") is None  # fmt: skip


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1]", "not an object"),
        (b'{"kind":"NOPE"}', "unknown kind"),
        (b'{"run_id":"r"}', "unknown kind"),
        (b'{"kind":"START"}', "missing field 'run_id'"),
        (b'{"kind":"START","run_id":5}', r"START.run_id: expected str"),
        (b'{"kind":"START","run_id":"r","extra":1}', "unexpected field 'extra'"),
        (b'{"kind":"START","run_id":"r","run_id":"s"}', "duplicate key"),
        (b'{"kind":"PROBE","run_id":"r","epoch":NaN}', "NaN"),
        (b'{"kind":"PROBE","run_id":"r","epoch":true}', "64-bit integer"),
        (b'{"kind":"PROBE","run_id":"r","epoch":1.5}', "64-bit integer"),
        (b'{"kind":"PROBE","run_id":"r","epoch":99999999999999999999}', "64-bit integer"),
        (b'{"kind":"EXIT","run_id":"r","ok":1}', "expected bool"),
        (
            b'{"kind":"JOIN","proto":1,"app_fingerprint":"a","fragments":"f","data_endpoint":"e","host":"h",'
            b'"pid":1,"caps":{"cuda":false,"ucxx":false,"encrypt":false}}',
            r"JOIN.fragments: expected a list",
        ),
        (
            b'{"kind":"STATE","run_id":"r","fragment":"f","passive":true,"finished":false,"sent":{"1":"x"},'
            b'"received":{},"epoch":1}',
            r"STATE.sent\['1'\]",
        ),
        (
            b'{"kind":"FAILED","run_id":"r","fragment":"f","error":' + b'{"a":' * 40 + b"1" + b"}" * 41,
            "deeper",
        ),
        (b"[" * 200000 + b"]" * 200000, "not JSON|not an object"),
    ],
)
def test_bad_messages_are_clear_codec_errors(data, match):
    with pytest.raises(CodecError, match=match):
        decode_control(data)


def test_assign_edge_shape_is_checked():
    bad = dict(SAMPLES["ASSIGN"], edges=[dict(EDGE, src=["a", "b"])])
    with pytest.raises(CodecError, match=r"ASSIGN.edges\[0\].src: expected a list of 3"):
        make_control("ASSIGN", **bad)


def test_size_limit_both_ways():
    with pytest.raises(CodecError, match="over"):
        decode_control(b" " * (MAX_CONTROL_BYTES + 1))
    huge = make_control("REJECT", reason="x" * MAX_CONTROL_BYTES)
    with pytest.raises(CodecError, match="over"):
        encode_control(huge)


def test_make_rejects_non_json_values():
    with pytest.raises(CodecError, match="set is not a JSON value"):
        make_control("PORT_INFO", run_id="r", ports={"f": {1, 2}})
    with pytest.raises(CodecError, match="not a string"):
        make_control("PORT_INFO", run_id="r", ports={1: 2})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(data):
    try:
        decode_control(data)
    except CodecError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(KINDS)), st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_random_json_never_crashes(kind, fields):
    document = {**fields, "kind": kind}
    try:
        message = decode_control(json.dumps(document).encode())
    except CodecError:
        return
    assert decode_control(encode_control(message)) == message


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_mutated_samples_never_crash(kind, data):
    fields = dict(SAMPLES[kind])
    if fields:
        name = data.draw(st.sampled_from(sorted(fields)))
        fields[name] = data.draw(json_values)
    try:
        decode_control(json.dumps({"kind": kind, **fields}).encode())
    except CodecError:
        pass


def test_heartbeat_settings():
    assert heartbeat_settings({}) == (0.5, 1.5)
    assert heartbeat_settings({"HOLOFLOW_HEARTBEAT_MS": "100", "HOLOFLOW_HEARTBEAT_TIMEOUT_MS": "400"}) == (
        0.1,
        0.4,
    )
    with pytest.raises(ConfigError, match="HOLOFLOW_HEARTBEAT_MS"):
        heartbeat_settings({"HOLOFLOW_HEARTBEAT_MS": "-1"})
    with pytest.raises(ConfigError, match="must exceed"):
        heartbeat_settings({"HOLOFLOW_HEARTBEAT_TIMEOUT_MS": "500"})


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_heartbeats_due_and_lost_on_a_fake_clock():
    clock = FakeClock()
    beats = Heartbeats(0.5, 1.5, clock)
    assert beats.due() == ([], []) and beats.wait_s() == 0.5
    beats.add("a")
    beats.add("b")
    clock.now += 0.4
    assert beats.due() == ([], [])
    assert beats.wait_s() == pytest.approx(0.1)
    clock.now += 0.1
    assert beats.due() == (["a", "b"], [])
    beats.sent("a")
    beats.sent("b")
    beats.seen("a")
    clock.now += 1.0
    to_send, lost = beats.due()
    assert lost == ["b"] and to_send == ["a"]
    assert list(beats.peers) == ["a"]
    clock.now += 0.5
    assert beats.due() == ([], ["a"]), "a lost peer is owed nothing"
    assert not list(beats.peers)
    beats.seen("gone")  # unknown peers are ignored
    with pytest.raises(ValueError, match="below timeout"):
        Heartbeats(1.0, 1.0)


def test_heartbeats_over_sockets_detect_a_silent_peer():
    """A ROUTER loop answers heartbeats; the peer stops beating and is reported lost once."""
    ctx = zmq.Context()
    router, dealer = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
    for sock in (router, dealer):
        sock.linger = 0
    router.bind("tcp://127.0.0.1:*")
    dealer.connect(router.last_endpoint.decode())
    beats = Heartbeats(0.05, 0.3)
    lost_at: list[float] = []
    stop = threading.Event()
    seen = []

    def peer():
        for _ in range(5):
            dealer.send(encode_control(make_control("HEARTBEAT", run_id="r")))
            time.sleep(0.05)

    def loop():
        while not stop.is_set():
            if router.poll(int(beats.wait_s() * 1000) + 1):
                peer_id, data = router.recv_multipart()
                message = decode_control(data)
                if peer_id not in beats.peers:
                    beats.add(peer_id)
                beats.seen(peer_id)
                seen.append(message.kind)
            _, lost = beats.due()
            if lost:
                lost_at.append(time.monotonic())
                return

    watcher = threading.Thread(target=loop)
    watcher.start()
    peer()
    last_beat = time.monotonic()
    watcher.join(10)
    stop.set()
    router.close()
    dealer.close()
    ctx.term()
    assert seen == ["HEARTBEAT"] * 5
    assert len(lost_at) == 1 and lost_at[0] - last_beat >= 0.2
