"""Parsing ``[ip][:port]`` as Holoscan does, endpoints, and binding listeners without probing."""

from __future__ import annotations

import socket

import pytest
import zmq

from holoflow.distributed._addresses import (
    Address,
    bind_listener,
    connect_endpoint,
    parse_address,
    route_source_ip,
    tcp_endpoint,
)
from holoflow.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Address("0.0.0.0", 57777)),
        ("10.1.2.3", Address("10.1.2.3", 57777)),
        ("10.1.2.3:5000", Address("10.1.2.3", 5000)),
        (":5000", Address("0.0.0.0", 5000)),
        ("10.1.2.3:", Address("10.1.2.3", 57777)),
        ("[::1]:5", Address("::1", 5)),
        ("[::1]", Address("::1", 57777)),
        ("::1", Address("::1", 57777)),
        ("[fe80::1:2]:65535", Address("fe80::1:2", 65535)),
        ("[]:7", Address("0.0.0.0", 7)),
        ("localhost:9", Address("127.0.0.1", 9)),
        (" 127.0.0.1:0 ", Address("127.0.0.1", 0)),
    ],
)
def test_holoscan_forms(text, expected):
    assert parse_address(text, "0.0.0.0", 57777) == expected


def test_defaults_and_str():
    assert parse_address("") == Address("127.0.0.1", None)
    assert str(Address("::1", 5)) == "[::1]:5"
    assert str(Address("10.0.0.1", None)) == "10.0.0.1"
    assert Address("::1", 5).is_ipv6 and not Address("1.2.3.4", 5).is_ipv6


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("1.2.3.4:http", "port 'http'"),
        ("1.2.3.4:70000", "0..65535"),
        ("1.2.3.4:-1", "0..65535"),
        ("[::1", "without"),
        ("[::1]x", "after"),
        ("no_such_host.invalid:5", "cannot resolve|not an IP"),
        ("1.2.3.4.5:5", "cannot resolve"),
        ("bad host:5", "not an IP"),
    ],
)
def test_bad_addresses_name_the_option(text, match):
    with pytest.raises(ConfigError, match=match) as info:
        parse_address(text, what="--worker-address")
    assert "--worker-address" in str(info.value)


def test_endpoints():
    assert tcp_endpoint("1.2.3.4", 5) == "tcp://1.2.3.4:5"
    assert tcp_endpoint("::1", None) == "tcp://[::1]:*"
    assert connect_endpoint(Address("1.2.3.4", 5)) == "tcp://1.2.3.4:5"
    assert connect_endpoint(Address("1.2.3.4", 5), "10.0.0.2") == "tcp://10.0.0.2:0;1.2.3.4:5"
    assert connect_endpoint(Address("::1", 5), "::1") == "tcp://[::1]:0;[::1]:5"
    with pytest.raises(ConfigError, match="no port"):
        connect_endpoint(Address("1.2.3.4", None))


def test_route_source_ip_of_loopback():
    assert route_source_ip("127.0.0.1") == "127.0.0.1"


class _Sockets:
    """Makes ROUTER sockets on a private context and closes them all afterwards."""

    def __init__(self):
        self.context = zmq.Context()
        self.made = []

    def socket(self, kind=zmq.ROUTER):
        sock = self.context.socket(kind)
        sock.linger = 0
        self.made.append(sock)
        return sock


@pytest.fixture
def context():
    sockets = _Sockets()
    yield sockets
    for sock in sockets.made:
        sock.close()
    sockets.context.term()


def test_bind_reads_back_the_os_chosen_port(context):
    first, second = context.socket(zmq.ROUTER), context.socket(zmq.ROUTER)
    a = bind_listener(first)
    b = bind_listener(second)
    assert a.ip == b.ip == "127.0.0.1"
    assert a.port and b.port and a.port != b.port
    assert first.getsockopt(zmq.LAST_ENDPOINT).decode() == f"tcp://127.0.0.1:{a.port}"


def test_busy_explicit_port_is_an_error_not_a_move(context):
    first, second = context.socket(zmq.ROUTER), context.socket(zmq.ROUTER)
    taken = bind_listener(first)
    with pytest.raises(ConfigError, match=f"tcp://127.0.0.1:{taken.port}"):
        bind_listener(second, "127.0.0.1", taken.port)


def test_preferred_ports_take_the_first_free_one(context):
    first, second = context.socket(zmq.ROUTER), context.socket(zmq.ROUTER)
    taken = bind_listener(first)
    with socket.socket() as probe:  # a port free now (the test's own choice, not the code's)
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert bind_listener(second, "127.0.0.1", None, [taken.port, free]).port == free
    with pytest.raises(ConfigError, match="cannot listen"):
        bind_listener(context.socket(zmq.ROUTER), "127.0.0.1", None, [taken.port])


def test_ipv6_loopback_binds(context):
    sock = context.socket(zmq.ROUTER)
    try:
        bound = bind_listener(sock, "::1")
    except ConfigError:
        pytest.skip("no IPv6 loopback here")
    assert bound.ip == "::1" and bound.port
