"""Interoperability with the real ``openssl cms``, in both directions.

Ours -> OpenSSL: what ``sign_message`` writes must verify with ``openssl cms -verify`` and
give back exactly the signed entity. OpenSSL -> ours: what ``openssl cms -sign`` writes must
open as ``valid`` (and fail the right way when altered, wrongly trusted, weak or
attribute-less).

Time: the test PKI is valid around ``NOW``; OpenSSL is told to check at ``NOW`` with
``-attime`` and our engine gets ``now=NOW``. OpenSSL writes the real clock into its own
signingTime, which neither side checks against certificate validity.
"""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from inbox_app.smime import Report, SignatureStatus, TrustStore, open_message, sign_message
from inbox_app.smime.header_protection import wrap_for_signing
from inbox_app.smime.sign import seven_bit_message
from tests.pki import NOW, Issued, StandardPKI, make_ca, message

pytestmark = pytest.mark.openssl

ATTIME = str(int(NOW.timestamp()))
BODY = b"Hello Bob,\r\n\r\nsee you tomorrow.\r\n"


def signed_entity(raw: bytes) -> bytes:
    """The entity sign_message signs: header-protected (RFC 9788 hp="clear") and 7-bit."""
    return wrap_for_signing(seven_bit_message(raw)).payload


# The entity sign_message builds from tests.pki.message().
OUR_ENTITY = signed_entity(message())
# The entity we hand to `openssl cms -sign` (which signs a MIME entity, not a message).
PEER_ENTITY = b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + BODY
# DER of OID 2.16.840.1.101.3.4.1.46 (id-aes256-GCM).
AES256_GCM_OID_DER = bytes.fromhex("060960864801650304012e")
SENDERS = {
    "alice": "Alice <alice@example.com>",
    "carol": "Carol <carol@example.net>",
    "dave": "Dave <dave@example.com>",
}


@dataclass(frozen=True)
class Files:
    dir: Path
    root: Path
    intermediate: Path
    other_root: Path
    other_root_cert: Issued

    def cert(self, name: str) -> Path:
        return self.dir / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.dir / f"{name}.key"


@pytest.fixture(scope="module")
def files(pki: StandardPKI, tmp_path_factory: pytest.TempPathFactory) -> Files:
    directory = tmp_path_factory.mktemp("openssl")
    (directory / "root.pem").write_bytes(pki.root.pem())
    (directory / "intermediate.pem").write_bytes(pki.intermediate.pem())
    for name in ("alice", "bob", "carol", "dave"):
        issued: Issued = getattr(pki, name)
        (directory / f"{name}.pem").write_bytes(issued.pem())
        (directory / f"{name}.key").write_bytes(issued.key_pem())
    # A root that has nothing to do with the test PKI (P-256: cheap to generate).
    other = make_ca("Unrelated Root", key_kind="p256", slot=40)
    (directory / "other-root.pem").write_bytes(other.pem())
    (directory / "entity.txt").write_bytes(PEER_ENTITY)
    return Files(
        directory,
        directory / "root.pem",
        directory / "intermediate.pem",
        directory / "other-root.pem",
        other,
    )


def run(openssl: str, *args: str | Path) -> bytes:
    """Run openssl; on failure show its stderr in the assertion message."""
    result = subprocess.run(
        [openssl, *map(str, args)], capture_output=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def openssl_verify(openssl: str, files: Files, signed: bytes, name: str) -> bytes:
    """``openssl cms -verify`` against our root at NOW; returns the content it outputs."""
    signed_file = files.dir / f"{name}.eml"
    content_file = files.dir / f"{name}.content"
    signed_file.write_bytes(signed)
    run(
        openssl, "cms", "-verify", "-CAfile", files.root, "-attime", ATTIME,
        "-in", signed_file, "-out", content_file,
    )  # fmt: skip
    return content_file.read_bytes()


def openssl_sign(openssl: str, files: Files, signer: str, md: str, *extra: str) -> bytes:
    """A whole message signed by ``openssl cms -sign`` (detached unless -nodetach)."""
    return run(
        openssl, "cms", "-sign",
        "-signer", files.cert(signer), "-inkey", files.key(signer),
        "-certfile", files.intermediate, "-md", md,
        "-from", SENDERS[signer], "-to", "Bob <bob@example.org>", "-subject", "Meeting",
        "-in", files.dir / "entity.txt", *extra,
    )  # fmt: skip


def open_with(raw: bytes, anchor: Issued) -> Report:
    return open_message(raw, trust=TrustStore([anchor.cert]), now=NOW)


# ---------------------------------------------------------------- ours -> OpenSSL

DIGESTS = ("sha256", "sha384", "sha512")
OUR_SIGNERS = {
    "rsa-pkcs1": ("alice", False),
    "rsa-pss": ("alice", True),
    "ecdsa-p256": ("carol", False),
    "ecdsa-p384": ("dave", False),
}


@pytest.mark.parametrize(
    "variant", [f"{digest}-{mode}" for mode in ("detached", "opaque") for digest in DIGESTS]
)
@pytest.mark.parametrize("kind", list(OUR_SIGNERS))
def test_openssl_verifies_what_we_sign(
    pki: StandardPKI, files: Files, openssl: str, kind: str, variant: str
) -> None:
    digest, mode = variant.split("-")
    opaque = mode == "opaque"
    name, pss = OUR_SIGNERS[kind]
    signer: Issued = getattr(pki, name)
    signed = sign_message(
        message(sender=SENDERS[name]), signer.identity, now=NOW, digest=digest,
        opaque=opaque, pss=pss,
    )  # fmt: skip
    content = openssl_verify(openssl, files, signed, f"ours-{kind}-{digest}-{opaque}")
    assert content == signed_entity(message(sender=SENDERS[name]))


MIXED = (
    b"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Files\r\n"
    b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n'
    b"--XX\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
    b"--XX\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Transfer-Encoding: binary\r\n\r\n\x00\x01\xff\xfe\r\n--XX--\r\n"
)
SHAPES = {
    "lf-line-ends": message().replace(b"\r\n", b"\n"),
    "utf8-body": message(body="Grüße, Bob\r\n".encode()),
    "long-line": message(body=b"x" * 2000 + b"\r\n"),
    "trailing-space": message(body=b"trailing space   \r\nFrom here\r\n"),
    "mixed-binary-attachment": MIXED,
    "no-content-type": b"From: alice@example.com\r\nTo: bob@example.org\r\n\r\nplain\r\n",
}


@pytest.mark.parametrize("opaque", [False, True], ids=["detached", "opaque"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_openssl_verifies_what_we_sign_of_any_shape(
    pki: StandardPKI, files: Files, openssl: str, shape: str, opaque: bool
) -> None:
    """Bodies we must make 7-bit and canonical first (RFC 8551 §3.1) still verify."""
    signed = sign_message(SHAPES[shape], pki.alice.identity, now=NOW, opaque=opaque)
    content = openssl_verify(openssl, files, signed, f"shape-{shape}-{opaque}")
    assert content.endswith(b"\r\n")
    ours = open_with(signed, pki.root)
    assert ours.signature is SignatureStatus.VALID, ours.error
    assert ours.inner is not None
    # Both sides agree on what was signed (the displayed header comes from the same entity).
    assert ours.inner.split(b"\r\n\r\n", 1)[1] == content.split(b"\r\n\r\n", 1)[1]


def test_openssl_rejects_our_signature_when_altered(
    pki: StandardPKI, files: Files, openssl: str
) -> None:
    """A sanity check of the check above: openssl does fail on a changed body."""
    signed = sign_message(message(), pki.alice.identity, now=NOW)
    tampered = signed.replace(b"see you tomorrow", b"see you tomorroW", 1)
    assert tampered != signed
    (files.dir / "ours-tampered.eml").write_bytes(tampered)
    result = subprocess.run(
        [openssl, "cms", "-verify", "-CAfile", str(files.root), "-attime", ATTIME,
         "-in", str(files.dir / "ours-tampered.eml"), "-out", str(files.dir / "ignored")],
        capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0


def _print_cms(openssl: str, files: Files, signed: bytes, name: str) -> tuple[str, bytes]:
    """openssl's dump of our SignedData, and the DER it re-encodes."""
    path = files.dir / f"{name}.eml"
    path.write_bytes(signed)
    printed = run(openssl, "cms", "-cmsout", "-print", "-in", path).decode()
    der = run(openssl, "cms", "-cmsout", "-outform", "DER", "-in", path)
    return printed, der


def test_openssl_sees_our_signed_attributes(pki: StandardPKI, files: Files, openssl: str) -> None:
    signed = sign_message(
        message(), pki.alice.identity, now=NOW, encryption_certificate=pki.bob.cert
    )
    printed, der = _print_cms(openssl, files, signed, "attrs")
    assert "contentType" in printed
    assert "messageDigest" in printed
    assert "signingTime" in printed
    assert "Jun  1 12:00:00 2026 GMT" in printed  # NOW, as UTCTime
    assert "S/MIME Capabilities" in printed
    assert "aes-256-gcm" in printed  # the strongest we can decrypt comes first...
    assert printed.index("aes-256-gcm") < printed.index("aes-128-gcm")
    assert AES256_GCM_OID_DER in der  # ...and is really 2.16.840.1.101.3.4.1.46
    # SMIMEEncryptionKeyPreference names Bob's certificate by issuer and serial.
    assert "id-smime-aa-encrypKeyPref" in printed
    assert format(pki.bob.cert.serial_number, "X") in printed.upper()
    # ...and openssl still verifies it.
    assert openssl_verify(openssl, files, signed, "attrs-verify") == OUR_ENTITY


def test_no_encryption_key_preference_for_the_signing_certificate(
    pki: StandardPKI, files: Files, openssl: str
) -> None:
    signed = sign_message(
        message(), pki.alice.identity, now=NOW, encryption_certificate=pki.alice.cert
    )
    printed, _ = _print_cms(openssl, files, signed, "attrs-self")
    assert "S/MIME Capabilities" in printed
    assert "encrypKeyPref" not in printed


# ---------------------------------------------------------------- OpenSSL -> ours

PEER_CASES = [
    ("alice", "sha256", ()),
    ("alice", "sha384", ()),
    ("alice", "sha512", ()),
    ("alice", "sha256", ("-nodetach",)),
    ("alice", "sha512", ("-nodetach",)),
    ("alice", "sha256", ("-keyopt", "rsa_padding_mode:pss")),
    ("alice", "sha384", ("-nodetach", "-keyopt", "rsa_padding_mode:pss")),
    ("carol", "sha256", ()),
    ("carol", "sha384", ("-nodetach",)),
    ("dave", "sha384", ()),
    ("dave", "sha512", ("-nodetach",)),
]


def _case_id(case: tuple[str, str, tuple[str, ...]]) -> str:
    signer, md, extra = case
    options = [arg.lstrip("-").split(":")[-1] for arg in extra if arg != "-keyopt"]
    return "-".join([signer, md, *options])


@pytest.fixture(scope="module")
def peer_messages(files: Files, openssl: str) -> dict[str, bytes]:
    """Every OpenSSL-made message, signed once for the module."""
    return {
        _case_id(case): openssl_sign(openssl, files, *case[:2], *case[2]) for case in PEER_CASES
    }


@pytest.mark.parametrize("case", PEER_CASES, ids=_case_id)
def test_we_verify_what_openssl_signs(
    pki: StandardPKI, peer_messages: dict[str, bytes], case: tuple[str, str, tuple[str, ...]]
) -> None:
    _signer, md, extra = case
    raw = peer_messages[_case_id(case)]
    report = open_with(raw, pki.root)
    assert report.signature is SignatureStatus.VALID, report.error
    assert report.sender_match is True
    assert report.error is None
    assert report.ok
    assert report.layers == (["signed-opaque"] if "-nodetach" in extra else ["signed"])
    assert [layer.digest for layer in report.signed_layers] == [md]
    assert report.inner is not None
    assert report.inner.endswith(PEER_ENTITY)


def test_openssl_really_used_pss(
    files: Files, openssl: str, peer_messages: dict[str, bytes]
) -> None:
    path = files.dir / "peer-pss.eml"
    path.write_bytes(peer_messages["alice-sha256-pss"])
    assert "rsassaPss" in run(openssl, "cms", "-cmsout", "-print", "-in", path).decode()


def _tamper_opaque(raw: bytes) -> bytes:
    """Change one byte of the content inside an opaque signed-data message."""
    separator = b"\r\n\r\n" if b"\r\n\r\n" in raw else b"\n\n"
    header, _, body = raw.partition(separator)
    der = base64.b64decode(body)
    altered = der.replace(b"see you tomorrow", b"see you tomorroW", 1)
    assert altered != der
    return header + separator + base64.encodebytes(altered)


@pytest.mark.parametrize("case", PEER_CASES, ids=_case_id)
def test_openssl_message_altered_is_invalid(
    pki: StandardPKI, peer_messages: dict[str, bytes], case: tuple[str, str, tuple[str, ...]]
) -> None:
    raw = peer_messages[_case_id(case)]
    if "-nodetach" in case[2]:
        tampered = _tamper_opaque(raw)
    else:
        tampered = raw.replace(b"see you tomorrow", b"see you tomorroW", 1)
        assert tampered != raw
    report = open_with(tampered, pki.root)
    assert report.signature is SignatureStatus.INVALID
    assert not report.ok
    assert report.error


@pytest.mark.parametrize("case_id", ["alice-sha256", "alice-sha512-nodetach", "carol-sha256"])
def test_openssl_message_under_an_unrelated_root_is_untrusted(
    files: Files, peer_messages: dict[str, bytes], case_id: str
) -> None:
    report = open_with(peer_messages[case_id], files.other_root_cert)
    assert report.signature is SignatureStatus.UNTRUSTED
    assert not report.ok
    assert report.error


@pytest.mark.parametrize("extra", [(), ("-nodetach",)], ids=["detached", "opaque"])
def test_openssl_sha1_is_weak(
    pki: StandardPKI, files: Files, openssl: str, extra: tuple[str, ...]
) -> None:
    raw = openssl_sign(openssl, files, "alice", "sha1", *extra)
    # OpenSSL itself accepts SHA-1 signatures: `openssl cms -verify` succeeds on this very
    # message. We report `weak` instead, never `valid` (RFC 8551 §2.1: SHA-1 only for
    # reading old mail, not as grounds for trust).
    assert openssl_verify(openssl, files, raw, f"sha1-{len(extra)}") == PEER_ENTITY
    report = open_with(raw, pki.root)
    assert report.signature is SignatureStatus.WEAK
    assert report.sender_match is True
    assert not report.ok


@pytest.mark.parametrize("extra", [(), ("-nodetach",)], ids=["detached", "opaque"])
def test_openssl_without_signed_attributes_is_an_error(
    pki: StandardPKI, files: Files, openssl: str, extra: tuple[str, ...]
) -> None:
    raw = openssl_sign(openssl, files, "alice", "sha256", "-noattr", *extra)
    # OpenSSL accepts this too; we require signed attributes (contentType and
    # messageDigest bind the signature to MIME content), so nothing can be verified.
    assert openssl_verify(openssl, files, raw, f"noattr-{len(extra)}") == PEER_ENTITY
    report = open_with(raw, pki.root)
    assert report.signature is SignatureStatus.ERROR
    assert report.error
    assert report.inner is None
    assert not report.ok
