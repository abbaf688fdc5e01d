"""Network addresses of a distributed application: parsing, endpoints and binding.

Addresses take Holoscan's ``[ip][:port]`` forms: ``10.0.0.1:5000``, ``10.0.0.1``, ``:5000``,
``host:5000``, ``[::1]:5000``, ``[::1]`` and a bare ``::1``; a missing part takes the caller's
default. Hostnames are resolved once, here.

Listeners are bound, never probed: a port chosen by the OS (``tcp://ip:*``) is read back from
``LAST_ENDPOINT``, so two processes starting together can never pick the same port, and a port
the user named that is busy is a loud error, not a silent move to another.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from holoflow.errors import ConfigError

__all__ = [
    "LOOPBACK",
    "Address",
    "bind_listener",
    "connect_endpoint",
    "parse_address",
    "route_source_ip",
    "tcp_endpoint",
]

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Address:
    """An IP literal (v4 or v6, no brackets) and a port (``None``: let the OS choose)."""

    ip: str
    port: int | None

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.ip

    def __str__(self) -> str:
        host = f"[{self.ip}]" if self.is_ipv6 else self.ip
        return host if self.port is None else f"{host}:{self.port}"


def parse_address(
    text: str, default_ip: str = LOOPBACK, default_port: int | None = None, *, what: str = "address"
) -> Address:
    """Parse ``[ip][:port]`` as Holoscan's ``CLIOptions::parse_address`` splits it.

    Takes the text, the IP and port used where the text has none, and ``what`` (the option's
    name, for messages). Returns an :class:`Address` whose IP is a literal (a hostname is
    resolved to its first address). Raises :class:`ConfigError` naming ``what`` for a port that
    is not an integer in 0..65535, an unknown host or a malformed IP.
    """
    text = text.strip()
    port_text: str | None
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ConfigError(f"{what} {text!r}: '[' without ']'")
        host, rest = text[1:close], text[close + 1 :]
        if rest and not rest.startswith(":"):
            raise ConfigError(f"{what} {text!r}: expected ':port' after ']'")
        port_text = rest[1:] if rest else None
    elif text.count(":") > 1:
        host, port_text = text, None  # a bare IPv6 address cannot carry a port
    elif ":" in text:
        host, port_text = text.split(":", 1)
    else:
        host, port_text = text, None
    return Address(_ip(host or default_ip, text, what), _port(port_text, default_port, text, what))


def _port(port_text: str | None, default: int | None, text: str, what: str) -> int | None:
    if port_text is None or port_text == "":
        return default
    if not port_text.isdigit() or int(port_text) > 65535:
        raise ConfigError(f"{what} {text!r}: port {port_text!r} is not a number in 0..65535")
    return int(port_text)


def _ip(host: str, text: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if ":" in host or not host.replace("-", "").replace(".", "").isalnum():
        raise ConfigError(f"{what} {text!r}: {host!r} is not an IP address or a hostname")
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as error:
        raise ConfigError(f"{what} {text!r}: cannot resolve host {host!r} ({error})") from None
    return str(infos[0][4][0])


def tcp_endpoint(ip: str, port: int | None) -> str:
    """The libzmq endpoint ``tcp://ip:port`` (IPv6 in brackets; ``*`` for an OS-chosen port)."""
    host = f"[{ip}]" if ":" in ip else ip
    return f"tcp://{host}:{'*' if port is None else port}"


def connect_endpoint(address: Address, source_ip: str | None = None) -> str:
    """The endpoint to dial ``address`` from, optionally, the local ``source_ip``
    (libzmq's ``tcp://source:0;destination`` form)."""
    if address.port is None:
        raise ConfigError(f"cannot connect to {address}: no port")
    target = tcp_endpoint(address.ip, address.port)
    if source_ip is None:
        return target
    source = f"[{source_ip}]" if ":" in source_ip else source_ip
    return f"tcp://{source}:0;{target[len('tcp://') :]}"


def route_source_ip(destination: str) -> str:
    """The local IP the kernel would use to reach ``destination`` (no packet is sent)."""
    family = socket.AF_INET6 if ":" in destination else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((destination, 9))
        except OSError as error:
            raise ConfigError(f"no route to {destination}: {error.strerror}") from None
        return str(probe.getsockname()[0])


def bind_listener(
    sock: Any, ip: str = LOOPBACK, port: int | None = None, preferred_ports: Iterable[int] = ()
) -> Address:
    """Bind the ZeroMQ socket ``sock`` on ``ip`` and return the address it is bound to.

    The port is ``port`` when given; else the first of ``preferred_ports`` (``HOLOSCAN_UCX_PORTS``)
    that binds; else one the OS picks. IPv6 is enabled on the socket for an IPv6 ``ip``. Raises
    :class:`ConfigError` naming the endpoint when an explicit ``port`` is busy or the address
    is not local, or when every preferred port is busy.
    """
    import zmq

    if ":" in ip:
        sock.setsockopt(zmq.IPV6, 1)
    if port is not None:
        candidates: list[int | None] = [port]
    else:
        preferred = list(preferred_ports)
        candidates = list(preferred) if preferred else [None]
    errors = []
    for candidate in candidates:
        endpoint = tcp_endpoint(ip, candidate)
        try:
            sock.bind(endpoint)
        except zmq.ZMQError as error:
            errors.append(f"{endpoint}: {error.strerror}")
            continue
        bound = sock.getsockopt(zmq.LAST_ENDPOINT).decode()
        return Address(ip, int(bound.rsplit(":", 1)[1]))
    raise ConfigError("cannot listen on " + "; ".join(errors))
