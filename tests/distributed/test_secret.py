"""Loading the distributed secret (variable, file, default file) and deriving keys from it."""

from __future__ import annotations

import base64
import os
import stat

import pytest
import zmq

from holoflow.distributed._secret import (
    DRIVER_LABEL,
    PEER_LABEL,
    curve_keypair,
    default_secret_path,
    derive_key,
    load_secret,
)
from holoflow.errors import ConfigError

SECRET = bytes(range(32))


def _write(path, text, mode=0o600):
    path.write_text(text)
    path.chmod(mode)
    return path


def test_variable_in_hex_and_base64(tmp_path):
    assert load_secret({"HOLOFLOW_DISTRIBUTED_SECRET": SECRET.hex()}, tmp_path) == SECRET
    assert load_secret({"HOLOFLOW_DISTRIBUTED_SECRET": base64.b64encode(SECRET).decode()}, tmp_path) == SECRET
    urlsafe = base64.urlsafe_b64encode(b"\xff" * 40).decode().rstrip("=")
    assert load_secret({"HOLOFLOW_DISTRIBUTED_SECRET": urlsafe}, tmp_path) == b"\xff" * 40
    assert not (tmp_path / ".config").exists(), "a secret from the variable creates no file"


@pytest.mark.parametrize("text", ["ab" * 31, base64.b64encode(b"x" * 31).decode(), "not a secret!"])
def test_short_or_undecodable_variable_is_refused(tmp_path, text):
    with pytest.raises(ConfigError, match="HOLOFLOW_DISTRIBUTED_SECRET"):
        load_secret({"HOLOFLOW_DISTRIBUTED_SECRET": text}, tmp_path)


def test_variable_wins_over_file(tmp_path):
    path = _write(tmp_path / "key", (b"\1" * 32).hex())
    env = {"HOLOFLOW_DISTRIBUTED_SECRET": SECRET.hex(), "HOLOFLOW_DISTRIBUTED_SECRET_FILE": str(path)}
    assert load_secret(env, tmp_path) == SECRET
    del env["HOLOFLOW_DISTRIBUTED_SECRET"]
    assert load_secret(env, tmp_path) == b"\1" * 32


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o660, 0o644])
def test_file_open_to_group_or_others_is_refused(tmp_path, mode):
    path = _write(tmp_path / "key", SECRET.hex(), mode)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_secret({"HOLOFLOW_DISTRIBUTED_SECRET_FILE": str(path)}, tmp_path)


def test_missing_or_bad_file_names_the_file(tmp_path):
    with pytest.raises(ConfigError, match="nowhere"):
        load_secret({"HOLOFLOW_DISTRIBUTED_SECRET_FILE": str(tmp_path / "nowhere")}, tmp_path)
    binary = tmp_path / "binary"
    binary.write_bytes(os.urandom(64) + b"\xff")
    binary.chmod(0o600)
    with pytest.raises(ConfigError, match="binary"):
        load_secret({"HOLOFLOW_DISTRIBUTED_SECRET_FILE": str(binary)}, tmp_path)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_secret({"HOLOFLOW_DISTRIBUTED_SECRET_FILE": str(tmp_path)}, tmp_path)


def test_symlinked_file_is_refused(tmp_path):
    real = _write(tmp_path / "real", SECRET.hex())
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(ConfigError, match="link"):
        load_secret({"HOLOFLOW_DISTRIBUTED_SECRET_FILE": str(link)}, tmp_path)


def test_default_file_is_created_once_private_and_reused(tmp_path):
    first = load_secret({}, tmp_path)
    path = default_secret_path(tmp_path)
    assert path == tmp_path / ".config" / "holoflow" / "distributed.key"
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_secret({}, tmp_path) == first
    assert sorted(p.name for p in path.parent.iterdir()) == ["distributed.key"], "no temporary file left"
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="group or others"):
        load_secret({}, tmp_path)


def test_hkdf_matches_rfc5869_test_case_3():
    okm = derive_key(b"\x0b" * 22, "", 42)
    assert okm.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )


def test_labels_give_independent_keys_and_valid_curve_pairs():
    assert derive_key(SECRET, DRIVER_LABEL) != derive_key(SECRET, PEER_LABEL)
    assert derive_key(SECRET, DRIVER_LABEL) != derive_key(b"\xff" + SECRET[1:], DRIVER_LABEL)
    public, secret = curve_keypair(SECRET, DRIVER_LABEL)
    assert len(public) == len(secret) == 40
    assert zmq.curve_public(secret) == public
    assert curve_keypair(SECRET, DRIVER_LABEL) == (public, secret), "deterministic"
    assert curve_keypair(SECRET, PEER_LABEL)[0] != public
    with pytest.raises(ValueError, match="length"):
        derive_key(SECRET, "x", 0)


def test_no_command_line_option_reads_the_secret():
    import inspect

    from holoflow.distributed import _secret

    assert "argv" not in inspect.getsource(_secret)
