"""Encryption interoperability with the real ``openssl cms``, in both directions.

Ours -> OpenSSL: what ``encrypt_message`` writes (every cipher, every recipient type) must
decrypt with ``openssl cms -decrypt`` to exactly the entity we encrypted, and a
sign-then-encrypt message must decrypt and then verify with ``openssl cms -verify``.

OpenSSL -> ours: what ``openssl cms -encrypt`` writes (AES-GCM AuthEnvelopedData, AES-CBC,
3DES, RSA v1.5, RSA-OAEP, ECDH) must open with ``open_message`` with the right encryption
status, the right ``decrypted_with`` and the right layers; ``cms -sign | cms -encrypt``
must open as ``encrypted > signed`` with a valid signature.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from inbox_app.smime import (
    EncryptionStatus,
    Report,
    SignatureStatus,
    TrustStore,
    open_message,
)
from inbox_app.smime.decrypt import decrypt_envelope
from inbox_app.smime.encrypt import encrypt_message
from inbox_app.smime.mime import parse_entity
from tests.pki import NOW, Issued, StandardPKI, message

pytestmark = pytest.mark.openssl

ATTIME = str(int(NOW.timestamp()))
BODY = b"Hello Bob,\r\n\r\nsee you tomorrow.\r\n"
# The entity we hand to `openssl cms -encrypt` / `-sign`.
PEER_ENTITY = b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + BODY
CIPHERS = ("aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-128-cbc")
# recipient kind -> (name in the test PKI, OAEP?)
RECIPIENTS = {
    "rsa-v1.5": ("bob", False),
    "rsa-oaep": ("bob", True),
    "ecdh-p256": ("carol", False),
    "ecdh-p384": ("dave", False),
}


def sha256_of(issued: Issued) -> str:
    return hashlib.sha256(issued.cert.public_bytes(Encoding.DER)).hexdigest()


@dataclass(frozen=True)
class Files:
    dir: Path

    def cert(self, name: str) -> Path:
        return self.dir / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.dir / f"{name}.key"

    @property
    def root(self) -> Path:
        return self.dir / "root.pem"

    @property
    def intermediate(self) -> Path:
        return self.dir / "intermediate.pem"

    @property
    def entity(self) -> Path:
        return self.dir / "entity.txt"


@pytest.fixture(scope="module")
def files(pki: StandardPKI, tmp_path_factory: pytest.TempPathFactory) -> Files:
    directory = tmp_path_factory.mktemp("openssl-encrypt")
    (directory / "root.pem").write_bytes(pki.root.pem())
    (directory / "intermediate.pem").write_bytes(pki.intermediate.pem())
    for name in ("alice", "bob", "carol", "dave"):
        issued: Issued = getattr(pki, name)
        (directory / f"{name}.pem").write_bytes(issued.pem())
        (directory / f"{name}.key").write_bytes(issued.key_pem())
    (directory / "entity.txt").write_bytes(PEER_ENTITY)
    return Files(directory)


def run(openssl: str, *args: str | Path, stdin: bytes | None = None) -> bytes:
    """Run openssl; on failure show its stderr in the assertion message."""
    result = subprocess.run(
        [openssl, *map(str, args)], input=stdin, capture_output=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def openssl_decrypt(openssl: str, files: Files, encrypted: bytes, who: str, name: str) -> bytes:
    path = files.dir / f"{name}.eml"
    path.write_bytes(encrypted)
    return run(
        openssl, "cms", "-decrypt", "-in", path, "-recip", files.cert(who), "-inkey", files.key(who)
    )


def open_as(raw: bytes, pki: StandardPKI, *holders: Issued) -> Report:
    return open_message(
        raw,
        trust=TrustStore([pki.root.cert]),
        now=NOW,
        identities=[holder.identity for holder in holders],
    )


# ---------------------------------------------------------------- ours -> OpenSSL


def our_plaintext(encrypted: bytes, holder: Issued) -> bytes:
    """What we encrypted (with or without header protection), as our engine decrypts it."""
    plain = decrypt_envelope(parse_entity(encrypted).decoded_body(), [holder.identity]).content
    assert plain.endswith(BODY)
    return plain


@pytest.mark.parametrize("kind", list(RECIPIENTS))
@pytest.mark.parametrize("cipher", CIPHERS)
def test_openssl_decrypts_what_we_encrypt(
    pki: StandardPKI, files: Files, openssl: str, cipher: str, kind: str
) -> None:
    name, oaep = RECIPIENTS[kind]
    recipient: Issued = getattr(pki, name)
    encrypted = encrypt_message(message(), [recipient.cert], now=NOW, cipher=cipher, oaep=oaep)
    smime_type = b"authEnveloped-data" if "gcm" in cipher else b"enveloped-data"
    assert b"smime-type=" + smime_type in encrypted
    plain = openssl_decrypt(openssl, files, encrypted, name, f"ours-{cipher}-{kind}")
    assert plain == our_plaintext(encrypted, recipient)


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "aes-128-cbc"])
def test_openssl_decrypts_as_a_recipient_that_is_not_first(
    pki: StandardPKI, files: Files, openssl: str, cipher: str
) -> None:
    recipients = [pki.alice.cert, pki.carol.cert, pki.dave.cert, pki.bob.cert]
    encrypted = encrypt_message(message(), recipients, now=NOW, cipher=cipher)
    expected = our_plaintext(encrypted, pki.bob)
    for who in ("bob", "dave", "carol"):
        plain = openssl_decrypt(openssl, files, encrypted, who, f"several-{cipher}-{who}")
        assert plain == expected


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "aes-256-cbc"])
def test_openssl_decrypts_then_verifies_our_sign_then_encrypt(
    pki: StandardPKI, files: Files, openssl: str, cipher: str
) -> None:
    encrypted = encrypt_message(
        message(), [pki.bob.cert], now=NOW, cipher=cipher, sign_with=pki.alice.identity
    )
    signed = openssl_decrypt(openssl, files, encrypted, "bob", f"signed-{cipher}")
    assert b"application/pkcs7-signature" in signed or b"signed-data" in signed
    signed_path = files.dir / f"signed-{cipher}.inner"
    signed_path.write_bytes(signed)
    content = run(
        openssl, "cms", "-verify", "-CAfile", files.root, "-attime", ATTIME, "-in", signed_path
    )
    assert content.endswith(BODY)
    assert content in signed  # detached: the signed part is inside what openssl decrypted
    # And our own engine agrees on every layer.
    report = open_as(encrypted, pki, pki.bob)
    assert report.layers[0] == "encrypted"
    assert report.signature is SignatureStatus.VALID, report.error
    assert report.decrypted_with == sha256_of(pki.bob)


# ---------------------------------------------------------------- OpenSSL -> ours


def openssl_encrypt(openssl: str, files: Files, *options: str | Path, source: Path | None = None):
    return run(
        openssl, "cms", "-encrypt", "-in", source or files.entity,
        "-from", "Alice <alice@example.com>", "-to", "Bob <bob@example.org>",
        "-subject", "Meeting", *options,
    )  # fmt: skip


PEER_CASES = {
    "aes-128-gcm": (["-aes-128-gcm"], "bob", EncryptionStatus.AEAD),
    "aes-256-gcm": (["-aes-256-gcm"], "bob", EncryptionStatus.AEAD),
    "aes-128-cbc": (["-aes-128-cbc"], "bob", EncryptionStatus.UNAUTHENTICATED),
    "aes-256-cbc": (["-aes-256-cbc"], "bob", EncryptionStatus.UNAUTHENTICATED),
    "des3": (["-des3"], "bob", EncryptionStatus.WEAK),
    "oaep-sha1": (
        ["-aes-256-gcm", "-recip", "@bob", "-keyopt", "rsa_padding_mode:oaep"],
        "bob",
        EncryptionStatus.AEAD,
    ),
    "oaep-sha256": (
        [
            "-aes-256-cbc",
            "-recip",
            "@bob",
            "-keyopt",
            "rsa_padding_mode:oaep",
            "-keyopt",
            "rsa_oaep_md:sha256",
        ],
        "bob",
        EncryptionStatus.UNAUTHENTICATED,
    ),
    "ecdh-p256-sha1kdf": (["-aes-128-gcm"], "carol", EncryptionStatus.AEAD),
    "ecdh-p256-sha256kdf": (
        ["-aes-256-gcm", "-recip", "@carol", "-keyopt", "ecdh_kdf_md:sha256"],
        "carol",
        EncryptionStatus.AEAD,
    ),
    "ecdh-p384-sha256kdf": (
        ["-aes-256-cbc", "-recip", "@dave", "-keyopt", "ecdh_kdf_md:sha256"],
        "dave",
        EncryptionStatus.UNAUTHENTICATED,
    ),
}


def _expand(options: list[str], files: Files, who: str) -> list[str | Path]:
    expanded: list[str | Path] = [files.cert(o[1:]) if o.startswith("@") else o for o in options]
    if "-recip" not in options:
        expanded.append(files.cert(who))  # a plain recipient certificate at the end
    return expanded


@pytest.mark.parametrize("case", list(PEER_CASES))
def test_we_open_what_openssl_encrypts(
    pki: StandardPKI, files: Files, openssl: str, case: str
) -> None:
    options, who, status = PEER_CASES[case]
    encrypted = openssl_encrypt(openssl, files, *_expand(options, files, who))
    holder: Issued = getattr(pki, who)
    report = open_as(encrypted, pki, holder)
    assert report.error is None, report.error
    assert report.encryption is status
    assert report.layers == ["encrypted"]
    assert report.decrypted_with == sha256_of(holder)
    assert report.historic_key is False
    assert report.signature is SignatureStatus.UNSIGNED
    assert report.inner is not None
    assert report.inner.endswith(BODY)
    assert b"charset=us-ascii" in report.inner
    if status is not EncryptionStatus.AEAD:
        assert any("does not detect tampering" in warning for warning in report.warnings)
    if case.startswith("aes") and "gcm" in case:
        assert b"authEnveloped-data" in encrypted


@pytest.mark.parametrize("cipher", ["-aes-256-gcm", "-aes-128-cbc"])
def test_we_open_openssl_encryption_to_several_recipients_ours_last(
    pki: StandardPKI, files: Files, openssl: str, cipher: str
) -> None:
    encrypted = openssl_encrypt(
        openssl, files, cipher, files.cert("alice"), files.cert("carol"), files.cert("dave"),
        files.cert("bob"),
    )  # fmt: skip
    for holder in (pki.bob, pki.dave):
        report = open_as(encrypted, pki, holder)
        assert report.error is None, report.error
        assert report.layers == ["encrypted"]
        assert report.decrypted_with == sha256_of(holder)
        assert report.inner is not None
        assert report.inner.endswith(BODY)


@pytest.mark.parametrize("cipher", ["-aes-256-gcm", "-aes-128-cbc"])
def test_we_open_openssl_sign_then_encrypt(
    pki: StandardPKI, files: Files, openssl: str, cipher: str
) -> None:
    signed = run(
        openssl, "cms", "-sign", "-signer", files.cert("alice"), "-inkey", files.key("alice"),
        "-certfile", files.intermediate, "-md", "sha256", "-in", files.entity,
    )  # fmt: skip
    signed_path = files.dir / f"peer-signed{cipher}.eml"
    signed_path.write_bytes(signed)
    encrypted = openssl_encrypt(openssl, files, cipher, files.cert("bob"), source=signed_path)
    report = open_as(encrypted, pki, pki.bob)
    assert report.error is None, report.error
    assert report.layers == ["encrypted", "signed"]
    assert report.signature is SignatureStatus.VALID
    assert report.sender_match is True
    assert report.decrypted_with == sha256_of(pki.bob)
    expected = EncryptionStatus.AEAD if "gcm" in cipher else EncryptionStatus.UNAUTHENTICATED
    assert report.encryption is expected
    assert [signer.addresses for signer in report.signers] == [("alice@example.com",)]


def test_openssl_encryption_to_someone_else_fails_cleanly(
    pki: StandardPKI, files: Files, openssl: str
) -> None:
    encrypted = openssl_encrypt(openssl, files, "-aes-256-gcm", files.cert("alice"))
    report = open_as(encrypted, pki, pki.bob, pki.carol)
    assert report.encryption is EncryptionStatus.FAILED
    assert report.inner is None
    assert report.malformed is False
    assert report.error is not None
    assert "encrypted to" in report.error
    assert "Inbox Test Mail CA" in report.error
