"""Unit tests of RFC 9788 header protection (inbox_app.smime.header_protection)."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox_app.smime import MalformedError, mime
from inbox_app.smime.header_protection import (
    ProtectedView,
    WrappedMessage,
    protected_header_json,
    read_protected_headers,
    wrap_for_encryption,
    wrap_for_signing,
)

HEADERS = (
    b"From: Alice <alice@example.net>\r\n"
    b"To: Bob <bob@example.net>\r\n"
    b"Cc: Carol <carol@example.net>\r\n"
    b"Subject: Dinner plans\r\n"
    b"Date: Fri, 21 Jan 2022 20:40:48 -0500\r\n"
    b"Message-ID: <dinner@example.net>\r\n"
    b"In-Reply-To: <lunch@example.net>\r\n"
    b"References: <lunch@example.net>\r\n"
    b"MIME-Version: 1.0\r\n"
)
PLAIN_BODY = b"Let's meet at 8pm.\r\n\r\nSee you.\r\n"
PLAIN = HEADERS + b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + PLAIN_BODY
HTML_BODY = (
    b"<html><head><title></title></head><body>\r\n<p>Let's meet at 8pm.</p>\r\n</body></html>\r\n"
)
HTML = HEADERS + b'Content-Type: text/html; charset="us-ascii"\r\n\r\n' + HTML_BODY
ATTACHMENT = (
    b"Content-Type: application/octet-stream\r\n"
    b'Content-Disposition: attachment; filename="a.bin"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"AAECAwQF\r\n"
)
MIXED = (
    HEADERS
    + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
    + b"This is a multipart message.\r\n"
    + b"--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    + PLAIN_BODY
    + b"\r\n--b1\r\n"
    + ATTACHMENT
    + b"\r\n--b1--\r\n"
)
ALTERNATIVE = (
    HEADERS
    + b'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
    + b"--alt\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    + PLAIN_BODY
    + b"\r\n--alt\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n"
    + HTML_BODY
    + b"\r\n--alt--\r\n"
)
PROTECTED_NAMES = ["from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references"]


def _outer(wrapped: WrappedMessage) -> list[tuple[str, str]]:
    return mime.parse_header_block(wrapped.outer_fields)


def _read(wrapped: WrappedMessage, *, encrypted: bool) -> ProtectedView:
    return read_protected_headers(wrapped.payload, _outer(wrapped), encrypted=encrypted)


def _all_crlf(data: bytes) -> bool:
    return data.count(b"\n") == data.count(b"\r\n")


def _leaf_text(entity: bytes) -> bytes:
    return mime.parse_entity(entity).decoded_body()


# ---- signed-only (hp="clear") ---------------------------------------------------------------


def test_signed_round_trip_text_plain() -> None:
    wrapped = wrap_for_signing(PLAIN)
    payload = mime.parse_entity(wrapped.payload)
    assert payload.content_type.value == "text/plain"
    assert payload.content_type.param("hp") == "clear"
    assert payload.content_type.param("hp-legacy-display") is None
    assert payload.get_all("hp-outer") == []
    assert payload.body == PLAIN_BODY
    # Signed-only: the outer header section is the message's own, minus MIME-Version/Content-*.
    assert wrapped.outer_fields == HEADERS.replace(b"MIME-Version: 1.0\r\n", b"")
    view = _read(wrapped, encrypted=False)
    assert view.hp == "clear"
    assert [name for name, _ in view.fields] == PROTECTED_NAMES
    assert dict(view.fields)["subject"] == "Dinner plans"
    assert view.outer == ()
    assert view.warnings == ()
    assert view.display_entity == wrapped.payload


def test_signed_payload_carries_no_structural_copy_of_mime_version() -> None:
    wrapped = wrap_for_signing(PLAIN)
    header, _ = mime.split_header_body(wrapped.payload)
    names = [name for name, _ in mime.parse_header_block(header)]
    assert "mime-version" not in names
    assert "mime-version" not in [name for name, _ in _outer(wrapped)]
    assert names.count("content-type") == 1


def test_hp_clear_is_honoured_behind_encryption_too() -> None:
    view = _read(wrap_for_signing(PLAIN), encrypted=True)
    assert view.hp == "clear"
    assert dict(view.fields)["from"] == "Alice <alice@example.net>"


# ---- encrypted (hp="cipher") ------------------------------------------------------------------


def test_encrypted_round_trip_text_plain() -> None:
    wrapped = wrap_for_encryption(PLAIN)
    outer = _outer(wrapped)
    assert ("subject", "[...]") in outer
    assert b"Dinner plans" not in wrapped.outer_fields
    assert ("from", "Alice <alice@example.net>") in outer
    assert ("message-id", "<dinner@example.net>") in outer

    payload = mime.parse_entity(wrapped.payload)
    assert payload.content_type.param("hp") == "cipher"
    assert payload.content_type.param("hp-legacy-display") == "1"
    assert payload.get_one("subject") == "Dinner plans"
    # §2.2: one HP-Outer per field left outside, holding its outer value.
    assert payload.get_all("hp-outer") == [f"{name}: {value}" for name, value in _cased(outer)]
    assert payload.body == b"Subject: Dinner plans\r\n\r\n" + PLAIN_BODY

    view = _read(wrapped, encrypted=True)
    assert view.hp == "cipher"
    assert dict(view.fields)["subject"] == "Dinner plans"
    assert [name for name, _ in view.fields] == PROTECTED_NAMES
    assert view.outer == tuple(outer)
    assert view.warnings == ()
    shown = mime.parse_entity(view.display_entity)
    assert shown.body == PLAIN_BODY
    assert shown.content_type.param("hp-legacy-display") is None
    assert shown.content_type.param("hp") == "cipher"


def _cased(outer: list[tuple[str, str]]) -> list[tuple[str, str]]:
    spelled = {"message-id": "Message-ID", "in-reply-to": "In-Reply-To"}
    return [(spelled.get(name, name.title()), value) for name, value in outer]


def test_encrypted_output_uses_crlf_even_for_lf_input() -> None:
    wrapped = wrap_for_encryption(PLAIN.replace(b"\r\n", b"\n"))
    assert _all_crlf(wrapped.outer_fields)
    assert _all_crlf(wrapped.payload)
    assert wrapped == wrap_for_encryption(PLAIN)


def test_encrypted_round_trip_text_html() -> None:
    wrapped = wrap_for_encryption(HTML)
    payload = mime.parse_entity(wrapped.payload)
    assert payload.content_type.param("hp-legacy-display") == "1"
    assert payload.body.startswith(
        b"<html><head><title></title></head><body>\r\n"
        b'<div class="header-protection-legacy-display">\r\n'
        b"<pre>Subject: Dinner plans</pre>\r\n</div>\r\n<p>"
    )
    view = _read(wrapped, encrypted=True)
    assert mime.parse_entity(view.display_entity).body == HTML_BODY


def test_legacy_display_html_is_escaped() -> None:
    message = PLAIN.replace(b"Subject: Dinner plans", b"Subject: <b>x</b> & y").replace(
        b"text/plain", b"text/html"
    )
    body = mime.parse_entity(wrap_for_encryption(message).payload).body
    assert b"<pre>Subject: &lt;b&gt;x&lt;/b&gt; &amp; y</pre>" in body


def test_encrypted_round_trip_multipart_mixed_with_attachment() -> None:
    wrapped = wrap_for_encryption(MIXED)
    payload = mime.parse_entity(wrapped.payload)
    assert payload.content_type.value == "multipart/mixed"
    assert payload.content_type.param("hp") == "cipher"
    first, attachment = mime.split_multipart(payload.body, "b1")
    assert mime.parse_entity(first).content_type.param("hp-legacy-display") == "1"
    assert _leaf_text(first) == b"Subject: Dinner plans\r\n\r\n" + PLAIN_BODY
    assert attachment == ATTACHMENT  # byte for byte
    assert payload.body.startswith(b"This is a multipart message.\r\n--b1\r\n")

    view = _read(wrapped, encrypted=True)
    shown_first, shown_attachment = mime.split_multipart(
        mime.parse_entity(view.display_entity).body, "b1"
    )
    assert _leaf_text(shown_first) == PLAIN_BODY
    assert shown_attachment == attachment


def test_multipart_alternative_gets_the_element_in_every_part() -> None:
    wrapped = wrap_for_encryption(ALTERNATIVE)
    text, markup = mime.split_multipart(mime.parse_entity(wrapped.payload).body, "alt")
    assert _leaf_text(text).startswith(b"Subject: Dinner plans\r\n\r\n")
    assert b"header-protection-legacy-display" in _leaf_text(markup)
    view = _read(wrapped, encrypted=True)
    text, markup = mime.split_multipart(mime.parse_entity(view.display_entity).body, "alt")
    assert _leaf_text(text) == PLAIN_BODY
    assert _leaf_text(markup) == HTML_BODY


def test_eight_bit_utf8_subject() -> None:
    subject = "Grüße aus Zürich".encode()
    message = PLAIN.replace(b"Dinner plans", subject)
    wrapped = wrap_for_encryption(message)
    assert subject not in wrapped.outer_fields
    assert b"Subject: " + subject + b"\r\n" in wrapped.payload  # the field as written
    payload = mime.parse_entity(wrapped.payload)
    # The element does not fit us-ascii: the part becomes UTF-8, quoted-printable (7-bit safe).
    assert payload.content_type.param("charset") == "utf-8"
    assert payload.transfer_encoding == "quoted-printable"
    assert payload.decoded_body() == b"Subject: " + subject + b"\r\n\r\n" + PLAIN_BODY
    view = _read(wrapped, encrypted=True)
    assert dict(view.fields)["subject"] == "Grüße aus Zürich"
    assert mime.parse_entity(view.display_entity).decoded_body() == PLAIN_BODY
    signed = _read(wrap_for_signing(message), encrypted=False)
    assert dict(signed.fields)["subject"] == "Grüße aus Zürich"


def test_encoded_words_stay_encoded_in_fields_but_the_display_decodes_them() -> None:
    encoded = b"=?utf-8?q?Gr=C3=BC=C3=9Fe?="
    wrapped = wrap_for_encryption(PLAIN.replace(b"Dinner plans", encoded))
    view = _read(wrapped, encrypted=True)
    assert dict(view.fields)["subject"] == encoded.decode()
    assert protected_header_json(view)["subject"] == encoded.decode()
    assert (
        mime.parse_entity(wrapped.payload)
        .decoded_body()
        .startswith("Subject: Grüße\r\n\r\n".encode())
    )


def test_base64_text_part_keeps_its_encoding() -> None:
    message = HEADERS + (
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(PLAIN_BODY)
    )
    wrapped = wrap_for_encryption(message)
    payload = mime.parse_entity(wrapped.payload)
    assert payload.transfer_encoding == "base64"
    assert payload.decoded_body() == b"Subject: Dinner plans\r\n\r\n" + PLAIN_BODY
    view = _read(wrapped, encrypted=True)
    assert mime.parse_entity(view.display_entity).decoded_body() == PLAIN_BODY


def test_hcp_baseline_removes_comments_and_keywords_and_keeps_transit_fields_outside() -> None:
    message = (
        b"Received: from mx.example.net by mx.example.org\r\n"
        b"Comments: for the file\r\n"
        b"Keywords: dinner\r\n"
        b"Bcc: dave@example.net\r\n"
        b"X-Mailer: Inbox\r\n"
        b"HP-Outer: Subject: forged\r\n" + PLAIN
    )
    wrapped = wrap_for_encryption(message)
    outer = [name for name, _ in _outer(wrapped)]
    assert "comments" not in outer
    assert "keywords" not in outer
    assert "hp-outer" not in outer
    assert {"received", "bcc", "x-mailer"} <= set(outer)
    payload = mime.parse_entity(wrapped.payload)
    assert payload.get_one("comments") == "for the file"
    assert payload.get_one("keywords") == "dinner"
    assert payload.get_one("x-mailer") == "Inbox"
    assert payload.get_all("received") == []
    assert payload.get_all("bcc") == []
    recorded = [value.partition(":")[0].lower() for value in payload.get_all("hp-outer")]
    assert "comments" not in recorded
    assert "received" not in recorded
    assert "x-mailer" in recorded
    assert "HP-Outer: Subject: forged" not in wrapped.payload.decode()


def test_legacy_display_can_be_turned_off() -> None:
    wrapped = wrap_for_encryption(PLAIN, legacy_display=False)
    payload = mime.parse_entity(wrapped.payload)
    assert payload.content_type.param("hp-legacy-display") is None
    assert payload.body == PLAIN_BODY
    assert _read(wrapped, encrypted=True).display_entity == wrapped.payload


def test_no_legacy_display_without_an_obscured_field_or_a_text_body() -> None:
    no_subject = PLAIN.replace(b"Subject: Dinner plans\r\n", b"")
    assert mime.parse_entity(wrap_for_encryption(no_subject).payload).body == PLAIN_BODY
    pdf = HEADERS + b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n"
    payload = mime.parse_entity(wrap_for_encryption(pdf).payload)
    assert payload.body == b"%PDF-1.4\r\n"
    assert payload.content_type.param("hp") == "cipher"
    odd = HEADERS + b"Content-Type: text/plain; charset=x-unknown-charset\r\n\r\nhi\r\n"
    assert mime.parse_entity(wrap_for_encryption(odd).payload).body == b"hi\r\n"


def test_missing_content_type_defaults_to_text_plain() -> None:
    wrapped = wrap_for_signing(b"From: a@example.net\r\nSubject: hi\r\n\r\nhello\r\n")
    payload = mime.parse_entity(wrapped.payload)
    assert payload.content_type.value == "text/plain"
    assert payload.content_type.param("charset") == "us-ascii"
    assert payload.content_type.param("hp") == "clear"


def test_an_existing_hp_parameter_is_replaced_not_repeated() -> None:
    message = PLAIN.replace(b"charset=us-ascii", b'charset=us-ascii; hp="clear"')
    wrapped = wrap_for_encryption(message, legacy_display=False)
    header, _ = mime.split_header_body(wrapped.payload)
    assert header.count(b"hp=") == 1
    assert mime.parse_entity(wrapped.payload).content_type.param("hp") == "cipher"


# ---- receiving --------------------------------------------------------------------------------


def test_hp_cipher_is_ignored_on_a_signed_only_payload() -> None:
    wrapped = wrap_for_encryption(PLAIN)
    view = _read(wrapped, encrypted=False)
    assert view.hp is None
    assert view.fields == ()
    assert view.outer == ()
    assert view.display_entity == wrapped.payload  # the element is not hidden either
    assert len(view.warnings) == 1
    assert protected_header_json(view) == {}


def test_from_mismatch_is_reported() -> None:
    wrapped = wrap_for_encryption(PLAIN)
    spoofed = [(n, "Alice <mallory@example.org>" if n == "from" else v) for n, v in _outer(wrapped)]
    view = read_protected_headers(wrapped.payload, spoofed, encrypted=True)
    assert view.warnings == ("the protected From differs from the outer From",)
    # The same address with another display name or in other case is no mismatch.
    same = [(n, "A. <ALICE@Example.NET>" if n == "from" else v) for n, v in _outer(wrapped)]
    assert read_protected_headers(wrapped.payload, same, encrypted=True).warnings == ()
    missing = [(n, v) for n, v in _outer(wrapped) if n != "from"]
    assert read_protected_headers(wrapped.payload, missing, encrypted=True).warnings


def test_payload_without_hp_is_left_alone() -> None:
    payload = (
        b"Subject: inner\r\nContent-Type: text/plain; hp-legacy-display=1\r\n\r\nA\r\n\r\nB\r\n"
    )
    for encrypted in (True, False):
        view = read_protected_headers(payload, [("subject", "outer")], encrypted=encrypted)
        assert view == ProtectedView((), None, (), (), payload)


def test_unknown_hp_value_means_no_protection() -> None:
    payload = b'Subject: x\r\nContent-Type: text/plain; hp="maybe"\r\n\r\nbody\r\n'
    assert read_protected_headers(payload, [], encrypted=True).hp is None


def test_legacy_display_in_an_attachment_is_not_removed() -> None:
    payload = (
        b'Content-Type: multipart/mixed; boundary="b"; hp="cipher"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
        b'--b\r\nContent-Type: text/plain; hp-legacy-display="1"\r\n'
        b"Content-Disposition: attachment\r\n\r\nkeep: me\r\n\r\nall\r\n--b--\r\n"
    )
    assert read_protected_headers(payload, [], encrypted=True).display_entity == payload


def test_protected_header_json_joins_repeated_fields() -> None:
    view = ProtectedView(
        (("from", "a@x"), ("to", "b@x"), ("to", "c@x"), ("subject", "s")), "clear", (), (), b""
    )
    assert protected_header_json(view) == {"from": "a@x", "to": "b@x, c@x", "subject": "s"}


def test_malformed_hp_outer_is_skipped_with_a_warning() -> None:
    payload = b'HP-Outer: no field name\r\nContent-Type: text/plain; hp="cipher"\r\n\r\nx\r\n'
    view = read_protected_headers(payload, [], encrypted=True)
    assert view.outer == ()
    assert len(view.warnings) == 1


# RFC 9788 Appendix E.1 (abridged): a text/plain payload carrying a Legacy Display Element.
RFC_LEGACY_TEXT = (
    b"Date: Fri, 21 Jan 2022 20:40:48 -0500\r\n"
    b"From: Alice <alice@example.net>\r\n"
    b"To: Bob <bob@example.net>\r\n"
    b"Subject: Dinner plans\r\n"
    b"Message-ID: <text-plain-legacy-display@lhp.example>\r\n"
    b'Content-Type: text/plain; charset="us-ascii"; hp-legacy-display="1";\r\n'
    b' hp="cipher"\r\n'
    b"HP-Outer: Date: Fri, 21 Jan 2022 20:40:48 -0500\r\n"
    b"HP-Outer: From: Alice <alice@example.net>\r\n"
    b"HP-Outer: To: Bob <bob@example.net>\r\n"
    b"HP-Outer: Subject: [...]\r\n"
    b"HP-Outer: Message-ID: <text-plain-legacy-display@lhp.example>\r\n"
    b"\r\n"
    b"Subject: Dinner plans\r\n"
    b"\r\n"
    b"Let's meet at Rama's Roti Shop at 8pm and go to the park\r\n"
    b"from there.\r\n"
)


def test_rfc_9788_appendix_legacy_display_example() -> None:
    outer = [
        ("date", "Fri, 21 Jan 2022 20:40:48 -0500"),
        ("from", "Alice <alice@example.net>"),
        ("to", "Bob <bob@example.net>"),
        ("subject", "[...]"),
        ("message-id", "<text-plain-legacy-display@lhp.example>"),
    ]
    view = read_protected_headers(RFC_LEGACY_TEXT, outer, encrypted=True)
    assert view.hp == "cipher"
    assert dict(view.fields)["subject"] == "Dinner plans"
    assert view.outer == tuple(outer)
    assert view.warnings == ()
    assert mime.parse_entity(view.display_entity).body == (
        b"Let's meet at Rama's Roti Shop at 8pm and go to the park\r\nfrom there.\r\n"
    )


# ---- malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        b" continuation first\r\n\r\nbody",
        b"no colon here\r\n\r\nbody",
        b"Subject: x\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\n\r\nbody",
        HEADERS + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n\r\ntruncated\r\n',
        HEADERS + b"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n",
    ],
)
def test_malformed_messages_raise_malformed_error(message: bytes) -> None:
    with pytest.raises(MalformedError):
        wrap_for_encryption(message)


@pytest.mark.parametrize(
    "payload",
    [
        b"bad header line\r\n\r\nbody",
        b'Content-Type: text/plain; hp="cipher"\r\nContent-Type: text/plain\r\n\r\nx',
        # A truncated multipart is only looked into when it may hold a legacy display
        # element to remove.
        b'Content-Type: multipart/mixed; boundary="b"; hp="cipher"\r\n\r\n--b\r\n'
        b'Content-Type: text/plain; hp-legacy-display="1"\r\n\r\nx\r\n',
        b'Content-Type: text/plain; hp="clear"; hp-legacy-display="1"\r\n'
        b"Content-Transfer-Encoding: x-nope\r\n\r\nx",
    ],
)
def test_malformed_payloads_raise_malformed_error(payload: bytes) -> None:
    with pytest.raises(MalformedError):
        read_protected_headers(payload, [], encrypted=True)


# ---- robustness -------------------------------------------------------------------------------

_PIECES = [
    b"Content-Type: ",
    b"multipart/mixed; boundary=b",
    b"multipart/alternative; boundary=b",
    b"text/plain",
    b"text/html",
    b'; hp="cipher"',
    b'; hp="clear"',
    b'; hp-legacy-display="1"',
    b"; charset=utf-8",
    b"; charset=x-bogus",
    b"; charset=rot13",
    b"\r\nContent-Transfer-Encoding: base64",
    b"\r\nContent-Transfer-Encoding: quoted-printable",
    b"\r\nContent-Disposition: attachment",
    b"\r\nFrom: a@x",
    b"\r\nFrom: <",
    b"\r\nSubject: s",
    b"\r\nHP-Outer: ",
    b"\r\n--b\r\n",
    b"\r\n--b--\r\n",
    b"\r\n\r\n",
    b"\r\n ",
    b"<div class='header-protection-legacy-display'>",
    b"</div>",
    b"<body>",
    b"\xff\xfe",
    b"=?utf-8?q?=C3?=",
    b":",
]


@given(st.lists(st.sampled_from(_PIECES), max_size=30), st.booleans())
def test_any_input_either_works_or_raises_malformed_error(
    pieces: list[bytes], encrypted: bool
) -> None:
    data = b"".join(pieces)
    with contextlib.suppress(MalformedError):
        read_protected_headers(data, [("from", "b@x")], encrypted=encrypted)
    for wrap in (wrap_for_signing, wrap_for_encryption):
        try:
            wrapped = wrap(b"Subject: s\r\n" + data)
        except MalformedError:
            continue
        assert _all_crlf(wrapped.outer_fields)
        try:
            view = _read(wrapped, encrypted=True)
        except MalformedError:
            continue
        assert view.hp in ("cipher", "clear")
