"""Unit tests of the raw-bytes MIME layer (inbox_app.smime.mime)."""

from __future__ import annotations

import pytest

from inbox_app.smime import MalformedError, mime


def test_split_header_body_crlf_and_lf() -> None:
    assert mime.split_header_body(b"A: 1\r\nB: 2\r\n\r\nbody\r\n") == (
        b"A: 1\r\nB: 2\r\n",
        b"body\r\n",
    )
    assert mime.split_header_body(b"A: 1\nB: 2\n\nbody\n") == (b"A: 1\nB: 2\n", b"body\n")
    assert mime.split_header_body(b"\r\nbody") == (b"", b"body")
    assert mime.split_header_body(b"A: 1\r\n") == (b"A: 1\r\n", b"")


def test_split_header_body_takes_the_first_blank_line() -> None:
    # An LF-only blank line inside a CRLF body must not move the split point.
    raw = b"A: 1\r\n\r\nline\n\nmore"
    assert mime.split_header_body(raw) == (b"A: 1\r\n", b"line\n\nmore")


def test_header_fields_are_unfolded_and_lower_cased() -> None:
    fields = mime.parse_header_block(b"Subject: a\r\n  b\r\nFROM: x@y\r\n")
    assert fields == [("subject", "a  b"), ("from", "x@y")]


@pytest.mark.parametrize(
    "block", [b" continuation first\r\n", b"no colon here\r\n", b"bad name\x01: v\r\n"]
)
def test_malformed_header_lines(block: bytes) -> None:
    with pytest.raises(MalformedError):
        mime.parse_header_block(block)


def test_duplicate_content_type_is_refused() -> None:
    entity = mime.parse_entity(b"Content-Type: text/plain\r\nContent-Type: text/html\r\n\r\nx")
    with pytest.raises(MalformedError, match="occurs 2 times"):
        _ = entity.content_type


@pytest.mark.parametrize(
    ("value", "expected", "params"),
    [
        ("text/plain", "text/plain", {}),
        ("TEXT/Plain; Charset=UTF-8", "text/plain", {"charset": "UTF-8"}),
        (
            'multipart/signed; boundary="a b"; micalg=sha-256',
            "multipart/signed",
            {"boundary": "a b", "micalg": "sha-256"},
        ),
        ("text/plain; name*=utf-8''%e2%82%ac.txt", "text/plain", {"name": "€.txt"}),
        ("text/plain; (comment) charset=us-ascii", "text/plain", {}),
    ],
)
def test_content_type(value: str, expected: str, params: dict[str, str]) -> None:
    parsed = mime.parse_content_type(value)
    assert parsed.value == expected
    for key, param in params.items():
        assert parsed.param(key) == param


def test_split_multipart_exact_bytes() -> None:
    body = (
        b"preamble\r\n--B\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
        b"--B \t\r\nsecond\n--B--\r\nepilogue"
    )
    assert mime.split_multipart(body, "B") == [b"Content-Type: text/plain\r\n\r\nfirst", b"second"]


def test_split_multipart_ignores_boundary_prefixes_and_mid_line_markers() -> None:
    body = b"--B\r\nx --B\r\n--Bx\r\ny\r\n--B--"
    assert mime.split_multipart(body, "B") == [b"x --B\r\n--Bx\r\ny"]


@pytest.mark.parametrize(
    "body",
    [b"no delimiter", b"--B\r\npart without end", b"--B--\r\n"],
    ids=["none", "truncated", "closes-first"],
)
def test_split_multipart_malformed(body: bytes) -> None:
    with pytest.raises(MalformedError):
        mime.split_multipart(body, "B")


def test_invalid_boundary() -> None:
    with pytest.raises(MalformedError):
        mime.split_multipart(b"--\x00\r\n", "\x00")


def test_canonical_line_endings() -> None:
    assert mime.canonicalize_line_endings(b"a\nb\r\nc\n") == b"a\r\nb\r\nc\r\n"
    data = b"a\r\nb\r\n"
    assert mime.canonicalize_line_endings(data) is data


@pytest.mark.parametrize(
    ("encoding", "body", "decoded"),
    [
        ("base64", b"aGVs\r\nbG8=\r\n", b"hello"),
        ("quoted-printable", b"caf=C3=A9=\r\n!", b"caf\xc3\xa9!"),
        ("7bit", b"plain", b"plain"),
    ],
)
def test_transfer_encodings(encoding: str, body: bytes, decoded: bytes) -> None:
    assert mime.decode_transfer_encoding(body, encoding) == decoded


def test_unknown_transfer_encoding() -> None:
    with pytest.raises(MalformedError):
        mime.decode_transfer_encoding(b"x", "x-uuencode")


def test_non_content_fields_keep_order_and_folding() -> None:
    block = (
        b"From: a@b\r\nContent-Type: text/plain;\r\n charset=x\r\n"
        b"Subject: s\r\n t\nMIME-Version: 1.0\r\n"
    )
    assert mime.non_content_fields(block) == b"From: a@b\r\nSubject: s\r\n t\r\n"
