"""The ZAP authenticator and the refused-connection counts, with real hostile peers."""

from __future__ import annotations

import os
import socket
import threading
import time

import numpy as np
import pytest
import zmq

from holoflow.distributed._codec import encode
from holoflow.distributed._secret import DRIVER_LABEL, PEER_LABEL, curve_keypair
from holoflow.distributed._zmq_auth import (
    CONTROL_DOMAIN,
    ZAP_ENDPOINT,
    Authenticator,
    HandshakeCounter,
)
from holoflow.errors import DistributedError

SECRET = b"k" * 32


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def _host_port(endpoint):
    host, port = endpoint[len("tcp://") :].rsplit(":", 1)
    return host, int(port)


def test_one_authenticator_per_context(zmq_context, authenticator):
    second = Authenticator(zmq_context)
    with pytest.raises(DistributedError, match="ZAP"):
        second.start()
    second.close()  # never started: nothing to do


def test_control_admits_only_the_peer_key(links):
    """A CURVE ROUTER as the driver's: the peer keypair gets in; a wrong secret, NULL and PLAIN
    clients are refused inside libzmq and counted."""
    server_public, server_secret = curve_keypair(SECRET, DRIVER_LABEL)
    peer_public, peer_secret = curve_keypair(SECRET, PEER_LABEL)
    links.authenticator.allow_curve(CONTROL_DOMAIN, peer_public)
    router = links.socket(zmq.ROUTER)
    router.curve_server = True
    router.curve_secretkey = server_secret
    router.zap_domain = CONTROL_DOMAIN.encode()
    router.bind("tcp://127.0.0.1:*")
    endpoint = router.last_endpoint.decode()
    counter = HandshakeCounter()
    monitor = router.get_monitor_socket()

    def client(public, secret):
        dealer = links.socket(zmq.DEALER)
        dealer.curve_serverkey = server_public
        dealer.curve_publickey = public
        dealer.curve_secretkey = secret
        dealer.connect(endpoint)
        dealer.send(b"hello")
        return dealer

    wrong_public, wrong_secret = curve_keypair(b"w" * 32, PEER_LABEL)
    client(wrong_public, wrong_secret)
    null = links.socket(zmq.DEALER)
    null.connect(endpoint)
    null.send(b"null")
    good = client(peer_public, peer_secret)
    frames = router.recv_multipart(copy=False)
    assert frames[1].bytes == b"hello" and frames[1].get("User-Id") == "peer"
    counter.admit(frames[1].get(zmq.SRCFD))
    good.close()  # an admitted connection closing is not a refusal

    def read_events():
        from holoflow.distributed._zmq_auth import read_monitor_event

        while monitor.poll(0):
            counter.on_event(*read_monitor_event(monitor))
        return counter.counts()

    _wait_for(lambda: read_events()["refused"] >= 2 and read_events()["protocol"] >= 1)
    counts = read_events()
    assert counts["auth"] >= 1, counts  # the wrong key
    assert counts["protocol"] >= 1, counts  # NULL against CURVE
    assert not router.poll(100), "no refused client's message ever reaches the socket"
    router.disable_monitor()
    monitor.close()
    stats = links.authenticator.stats()
    assert stats["admitted"] == 1 and stats["key"] >= 1


def test_tokens_are_spent_once(links):
    auth = links.authenticator
    auth.add_token("l1", b"t" * 32)
    requests = links.socket(zmq.REQ)
    requests.connect(ZAP_ENDPOINT)

    def ask(*credentials, mechanism=b"PLAIN", domain=b"holoflow-data"):
        requests.send_multipart([b"1.0", b"7", domain, b"127.0.0.1", b"", mechanism, *credentials])
        reply = requests.recv_multipart()
        assert reply[:2] == [b"1.0", b"7"]
        return reply[2], reply[4]

    assert ask(b"l1", b"x" * 32) == (b"400", b"")
    assert ask(b"l1", b"t" * 32) == (b"200", b"l1")
    assert ask(b"l1", b"t" * 32) == (b"400", b""), "a replayed token is refused"
    assert ask(b"l2", b"t" * 32) == (b"400", b"")
    assert ask(mechanism=b"NULL") == (b"400", b"")
    assert ask(b"l1", b"t" * 32, domain=CONTROL_DOMAIN.encode()) == (b"400", b"")
    auth.add_token("l3", b"u" * 32)
    auth.revoke_token("l3")
    assert ask(b"l3", b"u" * 32) == (b"400", b"")
    requests.send_multipart([b"9.9", b"8"])
    assert requests.recv_multipart()[2] == b"500"
    assert auth.stats() == {"admitted": 1, "mechanism": 2, "key": 0, "token": 4}


def test_counter_bookkeeping_without_sockets():
    counter = HandshakeCounter()
    counter.on_event(zmq.EVENT_ACCEPTED, 10)
    counter.on_event(zmq.EVENT_ACCEPTED, 11)
    counter.on_event(zmq.EVENT_ACCEPTED, 12)
    counter.on_event(zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)
    counter.admit(12)
    assert counter.on_event(zmq.EVENT_DISCONNECTED, 10) is False
    assert counter.on_event(zmq.EVENT_DISCONNECTED, 11) is False
    assert counter.on_event(zmq.EVENT_DISCONNECTED, 12) is True, "an admitted connection closed"
    assert counter.counts() == {"refused": 2, "auth": 1, "protocol": 0, "no_detail": 0, "dropped": 1}


@pytest.mark.slow
def test_hostile_peers_are_refused_while_a_link_delivers_everything(links):
    """Garbage, a truncated greeting, an idle socket, NULL, CURVE against PLAIN, a wrong token
    and a replayed one hit the data listener during a stream: the stream loses nothing, the
    attackers are counted, none of their bytes is delivered."""
    listener = links.listener()
    received = []
    token = links.token()
    inbound = listener.expect("good", token, {1: 16}, lambda edge, m: (received.append(m), inbound.credit(1)))
    link = links.link(listener, "good", token, {1: 16})
    link.wait_ready(5)
    count = 3000
    done = threading.Event()

    def stream():
        for i in range(count):
            while not link.has_credit(1):
                link.wait_credit(1, 10)
            link.send(1, encode(np.full(128, i, np.int64)))
        done.set()

    sender = threading.Thread(target=stream)
    sender.start()
    host, port = _host_port(listener.endpoint)
    raw = []
    garbage = socket.create_connection((host, port))
    garbage.sendall(os.urandom(200))
    truncated = socket.create_connection((host, port))
    truncated.sendall(b"\xff\0\0\0\0\0\0\0\1\x7f\3")
    idle = socket.create_connection((host, port))
    raw += [garbage, truncated, idle]
    null = links.socket(zmq.DEALER)
    null.connect(listener.endpoint)
    null.send(b"x")
    curve = links.socket(zmq.DEALER)
    public, secret = curve_keypair(b"z" * 32, PEER_LABEL)
    curve.curve_serverkey, curve.curve_publickey, curve.curve_secretkey = public, public, secret
    curve.connect(listener.endpoint)
    curve.send(b"x")
    for password in (b"wrong" * 7, token):  # a wrong token, then the link's own (spent) token
        plain = links.socket(zmq.DEALER)
        plain.plain_username, plain.plain_password = b"good", password
        plain.connect(listener.endpoint)
        plain.send(b"x")
    sender.join()
    assert done.is_set()
    _wait_for(lambda: len(received) == count)
    counts = listener.rejections()
    _wait_for(
        lambda: (
            listener.rejections()["auth"] >= 2
            and listener.rejections()["protocol"] >= 2
            and listener.rejections()["no_detail"] >= 2
        ),
        timeout=15,  # the idle socket is dropped after HANDSHAKE_IVL (2 s)
    )
    for sock in raw:
        sock.close()
    _wait_for(lambda: listener.rejections()["dropped"] >= 1)
    counts = listener.rejections()
    assert counts["refused"] >= 7, counts
    assert [int(m[0]) for m in received] == list(range(count))
    assert link.failure is None and inbound.failure is None
