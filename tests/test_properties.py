"""Property tests: sign -> open round trips, and no altered signed byte ever verifies.

RFC 8551 §3.1: whatever the body (8-bit text, binary, over-long lines, bare CR or LF, lines
a relay might mangle such as "From " or "-"), the signer makes it 7-bit safe and canonical
before signing, so the reader verifies it and gets back the same content.
"""

from __future__ import annotations

import email
import email.policy
from email.message import Message
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox_app.smime import SignatureStatus, TrustStore, open_message, sign_message
from tests import cms_forge as forge
from tests.pki import NOW, standard_pki

PKI = standard_pki()
TRUST = TrustStore([PKI.root.cert])
SIGNERS = {
    "alice-rsa": (PKI.alice, "Alice <alice@example.com>"),
    "carol-p256": (PKI.carol, "Carol <carol@example.net>"),
    "dave-p384": (PKI.dave, "dave@example.com"),
}

_line_end = st.sampled_from([b"\r\n", b"\n", b"\r"])
_ascii_line = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
_utf8_line = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=60
)
_tricky_line = st.one_of(
    _ascii_line.map(str.encode),
    _utf8_line.map(lambda text: text.encode("utf-8")),
    _ascii_line.map(lambda text: b"From " + text.encode()),
    _ascii_line.map(lambda text: b"-" + text.encode()),
    _ascii_line.map(lambda text: b"--" + text.encode()),
    _ascii_line.map(lambda text: b"." + text.encode()),
    st.integers(999, 3000).map(lambda n: b"x" * n),  # RFC 5322 §2.1.1 allows 998
    st.binary(max_size=40).filter(lambda data: b"\r" not in data and b"\n" not in data),
)


def _no_cr_before_crlf(body: bytes) -> bytes:
    # A bare CR right before CRLF is lost by the signer (see test_bare_cr_before_crlf);
    # that case has its own test so the round trip can check everything else.
    while b"\r\r\n" in body:
        body = body.replace(b"\r\r\n", b"\r\n\r\n")
    return body


text_bodies = st.lists(st.tuples(_tricky_line, _line_end), max_size=12).map(
    lambda lines: _no_cr_before_crlf(b"".join(line + end for line, end in lines))
)
binary_bodies = st.binary(max_size=3000)
header_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60).map(
    lambda text: text.strip()
)


def _message(sender: str, body: bytes, content_type: str, subject: str, to: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        "Date: Mon, 01 Jun 2026 12:00:00 +0000\r\n"
        f"Message-ID: <prop@example.com>\r\nContent-Type: {content_type}\r\n\r\n".encode()
        + body
    )


def _normalise(data: bytes) -> bytes:
    """Line ends compared modulo CRLF/LF/CR (RFC 8551 §3.1.1 canonical text)."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _decoded_body(inner: bytes) -> tuple[Message, bytes]:
    parsed = email.message_from_bytes(inner, policy=email.policy.compat32)
    payload = parsed.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return parsed, payload


def _round_trip(body: bytes, content_type: str, options: dict[str, Any]) -> bytes:
    signer, opaque, digest = options["signer"], options["opaque"], options["digest"]
    subject, to = options["subject"], options["to"]
    issued, sender = SIGNERS[signer]
    raw = _message(sender, body, content_type, subject or "(none)", to or "bob@example.org")
    signed = sign_message(raw, issued.identity, now=NOW, digest=digest, opaque=opaque)
    report = open_message(signed, trust=TRUST, now=NOW)
    assert report.signature is SignatureStatus.VALID, report.error
    assert report.sender_match is True
    assert report.ok
    assert report.inner is not None
    parsed, payload = _decoded_body(report.inner)
    assert parsed["Subject"] == (subject or "(none)")
    assert parsed["To"] == (to or "bob@example.org")
    return payload


@pytest.mark.parametrize("opaque", [False, True])
def test_bare_cr_before_crlf(opaque: bool) -> None:
    # Everywhere else the signer treats a bare CR as a line break ("a\rb" -> "a\r\nb");
    # "a\r\r\nb" must then keep both line breaks rather than silently lose one.
    options = {
        "signer": "alice-rsa",
        "opaque": opaque,
        "digest": "sha256",
        "subject": "s",
        "to": "t@u",
    }
    payload = _round_trip(b"a\r\r\nb", "text/plain; charset=utf-8", options)
    assert _normalise(payload) == b"a\n\nb"


sign_options = st.fixed_dictionaries(
    {
        "signer": st.sampled_from(sorted(SIGNERS)),
        "opaque": st.booleans(),
        "digest": st.sampled_from(["sha256", "sha384", "sha512"]),
        "subject": header_values,
        "to": header_values,
    }
)


@given(body=text_bodies, options=sign_options)
def test_text_round_trip(body: bytes, options: dict[str, Any]) -> None:
    payload = _round_trip(body, "text/plain; charset=utf-8", options)
    assert _normalise(payload) == _normalise(body)


@given(body=binary_bodies, options=sign_options)
def test_binary_round_trip(body: bytes, options: dict[str, Any]) -> None:
    payload = _round_trip(body, "application/octet-stream", options)
    # Bytes that need it are base64-encoded and come back exactly; a 7-bit body is line
    # text to MIME (RFC 2045 §2.7) and only its line ends may have been made canonical.
    assert _normalise(payload) == _normalise(body)
    if any(byte >= 0x80 or byte == 0 for byte in body):
        assert payload == body


@given(
    body=text_bodies,
    opaque=st.booleans(),
    position=st.integers(min_value=0),
    delta=st.integers(min_value=1, max_value=255),
)
@settings(max_examples=60)
def test_any_changed_signed_byte_is_not_valid(
    body: bytes, opaque: bool, position: int, delta: int
) -> None:
    raw = _message("Alice <alice@example.com>", body, "text/plain; charset=utf-8", "x", "y@z")
    signed = sign_message(raw, PKI.alice.identity, now=NOW, opaque=opaque)
    if opaque:
        der = forge.extract_der(signed)
        report = open_message(signed, trust=TRUST, now=NOW)
        assert report.inner is not None
        entity = report.inner.partition(b"MIME-Version: 1.0\r\n")[2]
        start = der.index(entity)
        index = start + position % len(entity)
        changed = bytearray(der)
        changed[index] ^= delta
        tampered = forge.replace_der(signed, der, bytes(changed))
    else:
        boundary = signed.split(b'boundary="', 1)[1].split(b'"', 1)[0]
        start = signed.index(b"--" + boundary + b"\r\n") + len(boundary) + 4
        end = signed.index(b"\r\n--" + boundary + b"\r\n", start)
        index = start + position % (end - start)
        changed = bytearray(signed)
        changed[index] ^= delta
        tampered = bytes(changed)
    report = open_message(tampered, trust=TRUST, now=NOW)
    assert report.signature is not SignatureStatus.VALID
    assert not report.ok
