"""The command-line contract of ``inbox-app smime encrypt`` and ``smime open --key``.

Exit codes: 0 everything checks out; 1 a security failure (no matching key, tampered
GCM, bad signature); 2 corrupt input or unusable options. Errors are one line on stderr,
never a traceback, and ``-o`` is only written on exit code 0.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from inbox_app.cli.main import main
from tests.pki import NOW, Issued, StandardPKI, message

AT = NOW.isoformat()
BODY = b"Hello Bob,\r\n\r\nsee you tomorrow.\r\n"
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Env:
    dir: Path
    home: Path

    def path(self, name: str) -> str:
        return str(self.dir / name)


@pytest.fixture(scope="module")
def env(pki: StandardPKI, tmp_path_factory: pytest.TempPathFactory) -> Env:
    directory = tmp_path_factory.mktemp("cli-encrypt")
    home = directory / "home"
    home.mkdir()
    for name, password in (("alice", b"alice-pw"), ("bob", b"bob-pw"), ("carol", b"carol-pw")):
        issued: Issued = getattr(pki, name)
        (directory / f"{name}.pem").write_bytes(issued.pem())
        (directory / f"{name}.p12").write_bytes(issued.p12(password))
        (directory / f"{name}.pw").write_bytes(password + b"\n")
    # The same password for both: one --password-file for every --key.
    (directory / "bob-shared.p12").write_bytes(pki.bob.p12(b"shared"))
    (directory / "alice-shared.p12").write_bytes(pki.alice.p12(b"shared"))
    (directory / "shared.pw").write_bytes(b"shared\n")
    (directory / "wrong.pw").write_bytes(b"not the password\n")
    (directory / "root.pem").write_bytes(pki.root.pem())
    (directory / "message.eml").write_bytes(message())
    return Env(directory, home)


@dataclass(frozen=True)
class Result:
    code: int
    out: bytes
    err: bytes

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.out)


def cli(capsysbinary: pytest.CaptureFixture[bytes], env: Env, *argv: str) -> Result:
    try:
        code = main(["--home", str(env.home), *argv])
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    captured = capsysbinary.readouterr()
    assert b"Traceback" not in captured.err
    return Result(code, captured.out, captured.err)


def encrypt(capsysbinary: pytest.CaptureFixture[bytes], env: Env, name: str, *options: str) -> Path:
    out = env.dir / f"{name}.p7m.eml"
    result = cli(
        capsysbinary, env, "smime", "encrypt", *options, env.path("message.eml"), "-o", str(out)
    )
    assert result.code == 0, result.err
    assert result.err == b""
    return out


def open_json(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env, path: Path, *options: str
) -> Result:
    return cli(
        capsysbinary, env, "smime", "open", str(path), "--json", "--at", AT,
        "--ca", env.path("root.pem"), *options,
    )  # fmt: skip


def sha256_of(issued: Issued) -> str:
    return hashlib.sha256(issued.cert.public_bytes(Encoding.DER)).hexdigest()


def bob_key(env: Env) -> tuple[str, ...]:
    return ("--key", env.path("bob.p12"), "--password-file", env.path("bob.pw"))


def alice_key(env: Env) -> tuple[str, ...]:
    return ("--key", env.path("alice.p12"), "--password-file", env.path("alice.pw"))


# ---------------------------------------------------------------- round trips


def test_encrypt_then_open_round_trip(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env, pki: StandardPKI
) -> None:
    encrypted = encrypt(capsysbinary, env, "round-trip", "--to", env.path("bob.pem"))
    data = encrypted.read_bytes()
    assert b"smime-type=authEnveloped-data" in data
    assert b"see you tomorrow" not in data
    out = env.dir / "round-trip.out"
    result = open_json(capsysbinary, env, encrypted, *bob_key(env), "-o", str(out))
    assert result.code == 0, result.err
    report = result.report
    assert report["encryption"] == "aead"
    assert report["decrypted_with"] == sha256_of(pki.bob)
    assert report["historic_key"] is False
    assert report["layers"] == ["encrypted"]
    assert report["signature"] == "unsigned"
    assert report["error"] is None
    # Header protection is being integrated: tolerate it, present or not.
    assert isinstance(report.get("protected_headers", {}), dict)
    assert out.read_bytes().endswith(BODY)


@pytest.mark.parametrize(
    ("cipher", "status"),
    [
        ("aes-256-gcm", "aead"),
        ("aes-128-gcm", "aead"),
        ("aes-256-cbc", "unauthenticated"),
        ("aes-128-cbc", "unauthenticated"),
    ],
)
def test_cipher_variants(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env, cipher: str, status: str
) -> None:
    encrypted = encrypt(
        capsysbinary, env, f"cipher-{cipher}", "--to", env.path("bob.pem"), "--cipher", cipher
    )
    smime_type = b"authEnveloped-data" if "gcm" in cipher else b"enveloped-data"
    assert b"smime-type=" + smime_type in encrypted.read_bytes()
    result = open_json(capsysbinary, env, encrypted, *bob_key(env))
    assert result.code == 0, result.err
    assert result.report["encryption"] == status
    if status != "aead":
        # CBC decrypts, but is reported unauthenticated with a warning.
        assert any("does not detect tampering" in w for w in result.report["warnings"])


def test_unknown_cipher_is_a_usage_error(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env
) -> None:
    result = cli(
        capsysbinary, env, "smime", "encrypt", "--to", env.path("bob.pem"),
        "--cipher", "des-ede3-cbc", env.path("message.eml"),
    )  # fmt: skip
    assert result.code == 2
    assert result.out == b""
    assert len(result.err.splitlines()) == 1


def test_oaep(capsysbinary: pytest.CaptureFixture[bytes], env: Env, pki: StandardPKI) -> None:
    encrypted = encrypt(capsysbinary, env, "oaep", "--to", env.path("bob.pem"), "--oaep")
    data = encrypted.read_bytes()
    body = data.split(b"\r\n\r\n", 1)[1]
    der = base64.b64decode(body)
    assert bytes.fromhex("06092a864886f70d010107") in der  # id-RSAES-OAEP
    result = open_json(capsysbinary, env, encrypted, *bob_key(env))
    assert result.code == 0, result.err
    assert result.report["decrypted_with"] == sha256_of(pki.bob)


def test_sign_key_makes_the_signer_a_recipient(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env, pki: StandardPKI
) -> None:
    encrypted = encrypt(
        capsysbinary, env, "signed", "--to", env.path("bob.pem"),
        "--sign-key", env.path("alice.p12"), "--password-file", env.path("alice.pw"),
    )  # fmt: skip
    for holder, key in ((pki.bob, bob_key(env)), (pki.alice, alice_key(env))):
        result = open_json(capsysbinary, env, encrypted, *key)
        assert result.code == 0, result.err
        report = result.report
        assert report["encryption"] == "aead"
        assert report["decrypted_with"] == sha256_of(holder)
        assert report["layers"][0] == "encrypted"
        assert report["signature"] == "valid"
        assert report["sender_match"] is True
        assert report["signers"][0]["sha256"] == sha256_of(pki.alice)


def test_sign_key_with_the_wrong_password_is_exit_2(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env
) -> None:
    out = env.dir / "never-signed.eml"
    result = cli(
        capsysbinary, env, "smime", "encrypt", "--to", env.path("bob.pem"),
        "--sign-key", env.path("alice.p12"), "--password-file", env.path("wrong.pw"),
        env.path("message.eml"), "-o", str(out),
    )  # fmt: skip
    assert result.code == 2
    assert len(result.err.splitlines()) == 1
    assert not out.exists()


def test_no_header_protection_is_accepted(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env
) -> None:
    encrypted = encrypt(
        capsysbinary, env, "no-hp", "--to", env.path("bob.pem"), "--no-header-protection"
    )
    data = encrypted.read_bytes()
    assert b"Subject: Meeting" in data.split(b"\r\n\r\n", 1)[0]  # left outside, readable
    result = open_json(capsysbinary, env, encrypted, *bob_key(env))
    assert result.code == 0, result.err
    assert result.report["encryption"] == "aead"


# ---------------------------------------------------------------- failures


def test_no_matching_key_is_exit_1_with_one_line_listing_recipients(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env, pki: StandardPKI
) -> None:
    encrypted = encrypt(
        capsysbinary, env, "for-bob-and-carol", "--to", env.path("bob.pem"),
        "--to", env.path("carol.pem"),
    )  # fmt: skip
    out = env.dir / "no-key.out"
    result = open_json(capsysbinary, env, encrypted, *alice_key(env), "-o", str(out))
    assert result.code == 1
    lines = result.err.decode().splitlines()
    assert len(lines) == 1
    assert "encrypted to" in lines[0]
    assert f"{pki.bob.cert.serial_number:#x}" in lines[0]
    assert f"{pki.carol.cert.serial_number:#x}" in lines[0]
    assert result.report["encryption"] == "failed"
    assert result.report["decrypted_with"] is None
    assert not out.exists()


def test_tampered_gcm_is_exit_1_and_writes_nothing(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env
) -> None:
    encrypted = encrypt(capsysbinary, env, "to-tamper", "--to", env.path("bob.pem"))
    header, body = encrypted.read_bytes().split(b"\r\n\r\n", 1)
    der = bytearray(base64.b64decode(body))
    der[-1] ^= 0x01  # the last byte of the GCM tag
    tampered = env.dir / "tampered.eml"
    tampered.write_bytes(header + b"\r\n\r\n" + base64.encodebytes(bytes(der)))
    out = env.dir / "tampered.out"
    result = open_json(capsysbinary, env, tampered, *bob_key(env), "-o", str(out))
    assert result.code == 1
    assert result.report["encryption"] == "failed"
    assert len(result.err.splitlines()) == 1
    assert b"see you tomorrow" not in result.out + result.err
    assert not out.exists()


@pytest.mark.parametrize("damage", ["base64", "cms", "truncated"])
def test_corrupt_input_is_exit_2(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env, damage: str
) -> None:
    encrypted = encrypt(capsysbinary, env, f"to-corrupt-{damage}", "--to", env.path("bob.pem"))
    header, body = encrypted.read_bytes().split(b"\r\n\r\n", 1)
    if damage == "base64":
        body = b"!!!! this is not base64 ****\r\n" + body
    elif damage == "cms":
        body = base64.encodebytes(b"\x30\x03\x02\x01" + b"\xff" * 40)
    else:
        body = base64.encodebytes(base64.b64decode(body)[:200])
    corrupt = env.dir / f"corrupt-{damage}.eml"
    corrupt.write_bytes(header + b"\r\n\r\n" + body)
    out = env.dir / f"corrupt-{damage}.out"
    result = open_json(capsysbinary, env, corrupt, *bob_key(env), "-o", str(out))
    assert result.code == 2, result.out
    assert len(result.err.splitlines()) == 1
    assert not out.exists()


def test_wrong_password_file_for_key_is_exit_2(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env
) -> None:
    encrypted = encrypt(capsysbinary, env, "wrong-pw", "--to", env.path("bob.pem"))
    out = env.dir / "wrong-pw.out"
    result = open_json(
        capsysbinary, env, encrypted, "--key", env.path("bob.p12"),
        "--password-file", env.path("wrong.pw"), "-o", str(out),
    )  # fmt: skip
    assert result.code == 2
    err = result.err.decode()
    assert len(err.splitlines()) == 1
    assert "bob.p12" in err
    assert "not the password" not in err
    assert not out.exists()


# ---------------------------------------------------------------- --key / --password-file pairing


def test_each_key_takes_the_password_file_that_follows_it(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env, pki: StandardPKI
) -> None:
    to_alice = encrypt(capsysbinary, env, "pair-alice", "--to", env.path("alice.pem"))
    to_bob = encrypt(capsysbinary, env, "pair-bob", "--to", env.path("bob.pem"))
    keys = (*alice_key(env), *bob_key(env))
    for path, holder in ((to_alice, pki.alice), (to_bob, pki.bob)):
        result = open_json(capsysbinary, env, path, *keys)
        assert result.code == 0, result.err
        assert result.report["decrypted_with"] == sha256_of(holder)
    # Swapped password files: the first key cannot be opened.
    swapped = (
        "--key", env.path("alice.p12"), "--password-file", env.path("bob.pw"),
        "--key", env.path("bob.p12"), "--password-file", env.path("alice.pw"),
    )  # fmt: skip
    result = open_json(capsysbinary, env, to_bob, *swapped)
    assert result.code == 2
    assert b"alice.p12" in result.err


def test_one_password_file_for_every_key(
    capsysbinary: pytest.CaptureFixture[bytes], env: Env, pki: StandardPKI
) -> None:
    to_alice = encrypt(capsysbinary, env, "shared-alice", "--to", env.path("alice.pem"))
    to_bob = encrypt(capsysbinary, env, "shared-bob", "--to", env.path("bob.pem"))
    options = (
        "--password-file", env.path("shared.pw"),
        "--key", env.path("alice-shared.p12"), "--key", env.path("bob-shared.p12"),
    )  # fmt: skip
    for path, holder in ((to_alice, pki.alice), (to_bob, pki.bob)):
        result = open_json(capsysbinary, env, path, *options)
        assert result.code == 0, result.err
        assert result.report["decrypted_with"] == sha256_of(holder)


# ---------------------------------------------------------------- the real executable


def test_installed_command_round_trip(env: Env, pki: StandardPKI) -> None:
    command = VENV_BIN / "inbox-app"
    if not command.exists():
        pytest.skip("inbox-app is not installed next to this Python")
    out = env.dir / "subprocess.p7m.eml"
    encrypted = subprocess.run(
        [str(command), "--home", str(env.home), "smime", "encrypt", "--to", env.path("bob.pem"),
         "--sign-key", env.path("alice.p12"), "--password-file", env.path("alice.pw"),
         env.path("message.eml"), "-o", str(out)],
        capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert encrypted.returncode == 0, encrypted.stderr
    opened = subprocess.run(
        [str(command), "--home", str(env.home), "smime", "open", str(out), "--json",
         "--at", AT, "--ca", env.path("root.pem"), *bob_key(env)],
        capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    report = json.loads(opened.stdout)
    assert report["encryption"] == "aead"
    assert report["signature"] == "valid"
    assert report["decrypted_with"] == sha256_of(pki.bob)
    # Without the key: exit 1, one line, no traceback.
    failed = subprocess.run(
        [str(command), "--home", str(env.home), "smime", "open", str(out),
         "--at", AT, "--ca", env.path("root.pem")],
        capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert failed.returncode == 1
    assert len(failed.stderr.splitlines()) == 1
    assert b"Traceback" not in failed.stderr


def test_one_password_file_after_the_last_key_serves_every_key(
    tmp_path: Path, pki: StandardPKI, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """With a single --password-file, its position does not matter: it serves all keys."""
    password = tmp_path / "pw"
    password.write_bytes(b"shared\n")
    alice, bob = tmp_path / "alice.p12", tmp_path / "bob.p12"
    alice.write_bytes(pki.alice.p12(b"shared"))
    bob.write_bytes(pki.bob.p12(b"shared"))
    plain = tmp_path / "plain.eml"
    plain.write_bytes(message())
    recipient = tmp_path / "bob.pem"
    recipient.write_bytes(pki.bob.pem())
    encrypted = tmp_path / "enc.eml"
    home = str(tmp_path / "home")
    assert main(["--home", home, "smime", "encrypt", "--to", str(recipient), str(plain),
                 "-o", str(encrypted)]) == 0  # fmt: skip
    code = main(["--home", home, "smime", "open", str(encrypted), "--key", str(alice),
                 "--key", str(bob), "--password-file", str(password), "--json"])  # fmt: skip
    assert code == 0, capsysbinary.readouterr().err
