"""The shared secret of a distributed application, and the keys derived from it.

Every process of one application holds the same secret; nothing else authenticates a peer. It
comes from, in order:

1. ``HOLOFLOW_DISTRIBUTED_SECRET``: hex or base64 text decoding to at least 32 bytes;
2. ``HOLOFLOW_DISTRIBUTED_SECRET_FILE``: a file holding such text;
3. ``~/.config/holoflow/distributed.key``, created with 32 random bytes (as hex) on first use.

A file must belong to the current user and give no access to group or others (mode 0600), as
ssh requires of private keys; anything else is refused. There is deliberately no command-line
option: arguments are visible to every user of the host.

Keys are derived with HKDF-SHA256 (RFC 5869) under a label per use, so no key is ever the secret
itself; CURVE keypairs are a derived 32-byte secret key and its Curve25519 public key, both in
Z85 text, the form libzmq's ``CURVE_*KEY`` options take.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from holoflow.errors import ConfigError

__all__ = [
    "DATA_LINK_LABEL",
    "DATA_SERVER_LABEL",
    "DRIVER_LABEL",
    "MIN_SECRET_BYTES",
    "PEER_LABEL",
    "curve_keypair",
    "default_secret_path",
    "derive_key",
    "load_secret",
]

MIN_SECRET_BYTES = 32
DRIVER_LABEL = "holoflow/v1/driver"
"""The driver's CURVE server keypair."""
PEER_LABEL = "holoflow/v1/peer"
"""The keypair every worker presents to the driver."""
DATA_SERVER_LABEL = "holoflow/v1/data"
"""Every data listener's CURVE server keypair (encrypted links)."""
DATA_LINK_LABEL = "holoflow/v1/link"
"""A data link's CURVE client keypair, derived from the link's one-time token (encrypted links)."""

_SECRET_VAR = "HOLOFLOW_DISTRIBUTED_SECRET"
_FILE_VAR = "HOLOFLOW_DISTRIBUTED_SECRET_FILE"
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def default_secret_path(home: Path | None = None) -> Path:
    """``<home>/.config/holoflow/distributed.key`` (``home`` defaults to the user's home)."""
    return (Path.home() if home is None else home) / ".config" / "holoflow" / "distributed.key"


def load_secret(environ: Mapping[str, str] | None = None, home: Path | None = None) -> bytes:
    """The application secret, from the variable, the named file or the default file.

    Takes ``environ`` (default ``os.environ``) and ``home`` (default the user's home) so callers
    and tests can pass their own. The default file is created (and its folder, mode 0700) when
    missing; two processes creating it at once end up with the same secret.

    Raises :class:`ConfigError` naming the variable or file when the text does not decode, is
    shorter than 32 bytes, or a file is missing, unreadable, not the user's own, or readable or
    writable by group or others.
    """
    env = os.environ if environ is None else environ
    text = env.get(_SECRET_VAR, "").strip()
    if text:
        return _decode(text, f"${_SECRET_VAR}")
    named = env.get(_FILE_VAR, "").strip()
    if named:
        return _read_file(Path(named).expanduser(), f"${_FILE_VAR}={named}")
    path = default_secret_path(home)
    if not path.exists():
        _create(path)
    return _read_file(path, str(path))


def _decode(text: str, where: str) -> bytes:
    """Hex (when every character is a hex digit) or base64 (standard or URL-safe) text."""
    raw: bytes | None = None
    if len(text) % 2 == 0 and set(text) <= _HEX_DIGITS:
        raw = bytes.fromhex(text)
    else:
        padded = text + "=" * (-len(text) % 4)
        for alphabet in (None, b"-_"):
            try:
                raw = base64.b64decode(padded, altchars=alphabet, validate=True)
                break
            except (binascii.Error, ValueError):
                continue
    if raw is None:
        raise ConfigError(f"distributed secret from {where} is neither hex nor base64 text")
    if len(raw) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"distributed secret from {where} is {len(raw)} bytes; at least {MIN_SECRET_BYTES} are "
            "needed (make one with: python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return raw


def _read_file(path: Path, where: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        raise ConfigError(f"cannot read the distributed secret file {where}: {error.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ConfigError(f"the distributed secret file {where} is not a regular file")
    with os.fdopen(fd, "rb") as file:
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise ConfigError(f"the distributed secret file {where} belongs to another user")
        if info.st_mode & 0o077:
            raise ConfigError(
                f"the distributed secret file {where} is accessible by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}"
            )
        data = file.read(64 * 1024)
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise ConfigError(f"the distributed secret file {where} does not hold hex or base64 text") from None
    return _decode(text, where)


def _create(path: Path) -> None:
    """Write a fresh secret to ``path`` atomically: a complete file appears, or none."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(MIN_SECRET_BYTES) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first: both use that one
    finally:
        temporary.unlink()


def derive_key(secret: bytes, label: str, length: int = 32) -> bytes:
    """HKDF-SHA256 of ``secret`` with an all-zero salt and ``label`` as the info string.

    Returns ``length`` bytes (at most 8160); distinct labels give independent keys.
    """
    if not 0 < length <= 255 * 32:
        raise ValueError(f"derive_key length must be 1..8160, not {length}")
    prk = hmac.new(b"\0" * 32, secret, hashlib.sha256).digest()
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.new(prk, block + label.encode() + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def curve_keypair(secret: bytes, label: str) -> tuple[bytes, bytes]:
    """``(public, secret)`` CURVE keys in Z85 (40 bytes each) derived from ``secret`` under ``label``."""
    import zmq
    from zmq.utils import z85

    secret_key = z85.encode(derive_key(secret, label))
    return zmq.curve_public(secret_key), secret_key
