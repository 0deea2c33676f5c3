"""Reading a message for display: body, inline images and attachments come from the report's
verified entity only; nested signed parts are attachments, not signatures."""

from __future__ import annotations

import base64
import os
import stat
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox_app.credentials.keystore import NewIdentity
from inbox_app.credentials.secrets import MemorySecretStore
from inbox_app.mail.accounts import AccountStore
from inbox_app.mail.maildir import MaildirFolder
from inbox_app.services import reading
from inbox_app.services.app import InboxServices
from inbox_app.services.attachments import remove_stale_open_copies
from inbox_app.services.reading import (
    Attachment,
    AttachmentKind,
    may_open,
    open_copy,
    opened_from_report,
    read_raw,
    read_stored,
    safe_filename,
    save_attachment,
)
from inbox_app.smime import EncryptionStatus, SignatureStatus, encrypt_message, sign_message
from inbox_app.smime.report import Report
from tests.pki import NOW, StandardPKI, message

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
HEAD = (
    b"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: Test\r\n"
    b"Date: Mon, 01 Jun 2026 12:00:00 +0000\r\nMessage-ID: <t@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
)


@pytest.fixture
def services(tmp_path: Path, pki: StandardPKI) -> InboxServices:
    home = tmp_path / "home"
    services = InboxServices(home, MemorySecretStore())
    services.keystore.install(
        [NewIdentity(pki.alice.identity, frozenset({"sign", "encrypt"}), "test")]
    )
    anchors = home / "anchors"
    anchors.mkdir(mode=0o700)
    (anchors / "root.pem").write_bytes(pki.root.pem())
    return services


def multipart(subtype: str, *parts: bytes, boundary: str = "b1", extra: str = "") -> bytes:
    """A multipart entity (header and body) made of ``parts`` (each a header+body entity)."""
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return (
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"{extra}\r\n\r\n'.encode()
        + body
        + b"--"
        + boundary.encode()
        + b"--\r\n"
    )


def leaf(ctype: str, data: bytes, *, headers: str = "") -> bytes:
    return (
        f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: base64\r\n{headers}\r\n".encode()
        + base64.encodebytes(data).replace(b"\n", b"\r\n")
    )


def text(body: str, ctype: str = "text/plain") -> bytes:
    return f"Content-Type: {ctype}; charset=utf-8\r\n\r\n{body}\r\n".encode()


def test_signed_text(services: InboxServices, pki: StandardPKI) -> None:
    raw = sign_message(message(body=b"Hello Bob,\r\nsee you.\r\n"), pki.alice.identity, now=NOW)
    opened = read_raw(services, raw, now=NOW)
    assert opened.report.signature is SignatureStatus.VALID
    assert opened.report.sender_match is True
    assert opened.text is not None
    assert "see you." in opened.text
    assert opened.html is None
    assert opened.attachments == ()
    assert opened.headers.from_ == "Alice <alice@example.com>"
    assert opened.headers.subject == "Meeting"
    assert opened.headers.date is not None
    assert opened.headers.date.year == 2026


def test_html_with_cid_image(services: InboxServices, pki: StandardPKI) -> None:
    html = (
        '<p>Look: <img src="cid:logo@example.com"> '
        '<img src="http://evil.example/track.gif"></p><script>alert(1)</script>'
    )
    related = multipart(
        "related",
        text(html, "text/html"),
        leaf("image/png", PNG, headers="Content-ID: <logo@example.com>\r\n"),
        boundary="rel",
    )
    body = multipart("alternative", text("Look: [logo]"), related, boundary="alt")
    raw = sign_message(HEAD + body, pki.alice.identity, now=NOW)
    opened = read_raw(services, raw, now=NOW)
    assert opened.report.signature is SignatureStatus.VALID
    assert opened.html is not None
    assert 'src="cid:logo@example.com"' in opened.html
    assert "evil" not in opened.html
    assert "script" not in opened.html
    assert opened.text == "Look: [logo]\n"
    assert opened.inline == {"logo@example.com": ("image/png", PNG)}
    assert opened.attachments == ()


def test_attachment_kinds_and_safe_names(services: InboxServices, pki: StandardPKI) -> None:
    p12 = pki.alice.p12()
    attached = message(subject="Attached")
    body = multipart(
        "mixed",
        text("Here are the files."),
        leaf("application/octet-stream", p12,
             headers='Content-Disposition: attachment; filename="../../keys/alice.p12"\r\n'),
        leaf("application/x-pkcs12", b"p12 by type",
             headers="Content-Disposition: attachment\r\n"),
        leaf("application/x-apple-aspen-config", b"<plist/>",
             headers='Content-Disposition: attachment; filename="work.mobileconfig"\r\n'),
        b"Content-Type: message/rfc822\r\n\r\n" + attached,
        leaf("application/pdf", b"%PDF",
             headers='Content-Disposition: attachment; filename="report\u202efdp.exe"\r\n'),
    )  # fmt: skip
    raw = sign_message(HEAD + body, pki.alice.identity, now=NOW)
    opened = read_raw(services, raw, now=NOW)
    assert opened.text == "Here are the files.\n"
    kinds = [(a.filename, a.content_type, a.kind) for a in opened.attachments]
    assert kinds == [
        ("alice.p12", "application/octet-stream", AttachmentKind.P12),
        ("attachment.p12", "application/x-pkcs12", AttachmentKind.P12),
        ("work.mobileconfig", "application/x-apple-aspen-config", AttachmentKind.PROFILE),
        ("message.eml", "message/rfc822", AttachmentKind.MESSAGE),
        ("reportfdp.exe", "application/pdf", AttachmentKind.OTHER),
    ]
    assert opened.attachments[0].data == p12
    assert b"Subject: Attached" in opened.attachments[3].data
    assert not may_open(opened.attachments[4])
    # A .p12 has its own "Install certificate…": the desktop's installer never gets it.
    assert not may_open(opened.attachments[0])


def test_nested_signed_part_is_an_attachment_not_a_signature(
    services: InboxServices, pki: StandardPKI
) -> None:
    # "Johnny, you are fired": a validly signed message wrapped inside an unsigned one.
    signed = sign_message(message(body=b"You are fired.\r\n"), pki.alice.identity, now=NOW)
    header, _, signed_body = signed.partition(b"\r\n\r\n")
    content_type = next(
        line for line in header.split(b"\r\n") if line.lower().startswith(b"content-type")
    )
    nested = content_type + b"\r\n\r\n" + signed_body
    raw = HEAD + multipart("mixed", text("Nothing to see."), nested, boundary="outer")
    opened = read_raw(services, raw, now=NOW)
    assert opened.report.signature is SignatureStatus.UNSIGNED
    assert opened.text == "Nothing to see.\n"
    assert "fired" not in (opened.text or "")
    (attachment,) = opened.attachments
    assert attachment.content_type == "multipart/signed"
    assert attachment.kind is AttachmentKind.OTHER
    assert b"You are fired." in attachment.data


def test_encrypted_to_us_shows_the_protected_headers(
    services: InboxServices, pki: StandardPKI
) -> None:
    raw = encrypt_message(
        message(subject="Secret plans", body=b"The kiwi is ripe.\r\n"),
        [pki.alice.cert],
        now=NOW,
        sign_with=pki.alice.identity,
    )
    assert b"Secret plans" not in raw
    opened = read_raw(services, raw, now=NOW)
    assert opened.report.encryption is EncryptionStatus.AEAD
    assert opened.report.protected_headers is not None
    assert opened.headers.subject == "Secret plans"
    assert opened.text is not None
    assert "kiwi" in opened.text
    assert opened.decryption_key is not None
    assert "alice@example.com" in opened.decryption_key
    assert opened.decryption_key_valid_until == pki.alice.cert.not_valid_after_utc


def test_failed_decryption_shows_no_body(services: InboxServices, pki: StandardPKI) -> None:
    raw = encrypt_message(message(body=b"For Bob only.\r\n"), [pki.bob.cert], now=NOW)
    opened = read_raw(services, raw, now=NOW)
    assert opened.report.encryption is EncryptionStatus.FAILED
    assert opened.report.inner is None
    assert (opened.text, opened.html, opened.attachments, opened.inline) == (None, None, (), {})
    assert opened.headers.from_ == "Alice <alice@example.com>"  # the outer fields, as listed
    assert opened.headers.subject == "[...]"


def test_unknown_charset_still_shows_text(services: InboxServices) -> None:
    raw = HEAD + b"Content-Type: text/plain; charset=x-unknown\r\n\r\nplain words\r\n"
    opened = read_raw(services, raw, now=NOW)
    assert opened.text == "plain words\n"


def test_read_stored_opens_and_tolerates_flags(services: InboxServices, pki: StandardPKI) -> None:
    services.accounts.add_local("local", "bob@example.org")
    root = AccountStore(services.home).maildir("local")
    MaildirFolder(root).deliver(sign_message(message(), pki.alice.identity, now=NOW))
    services.mailbox.sync("local")
    opened = read_stored(services, "local", "INBOX", 1, now=NOW)
    assert (opened.account, opened.folder, opened.uid) == ("local", "INBOX", 1)
    assert opened.report.signature is SignatureStatus.VALID
    assert opened.text is not None
    summary = services.mailbox.store.summary("local", "INBOX", 1)
    assert summary is not None
    # Local accounts may not change flags yet: then the message is shown all the same.
    assert opened.seen == ("\\Seen" in summary.flags)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\evil.exe", "evil.exe"),
        ("report\u202efdp.exe", "reportfdp.exe"),
        ("a\r\nb\x00.txt", "ab.txt"),
        ("..", "fallback"),
        ("", "fallback"),
        (None, "fallback"),
        (".bashrc", "bashrc"),
        ("CON.txt", "_CON.txt"),
        ('what?<now>:"|*.txt', "what__now_____.txt"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
        # Windows drops trailing dots and spaces: "invoice.exe." would open as invoice.exe.
        ("invoice.exe.", "invoice.exe"),
        ("invoice.exe. . ", "invoice.exe"),
        ("...", "fallback"),
        ("CON.", "_CON"),
        ("con .txt", "_con .txt"),
        ("COM\u00b9.txt", "_COM\u00b9.txt"),
        ("x" * 198 + ". " + "y" * 20, "x" * 198),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name, "fallback") == expected


def test_save_and_open_copy_are_private(tmp_path: Path) -> None:
    attachment = Attachment("notes.txt", "text/plain", b"secret notes")
    target = tmp_path / "saved.txt"
    save_attachment(attachment, target)
    assert target.read_bytes() == b"secret notes"
    copy = open_copy(attachment, directory=tmp_path)
    assert copy.name == "notes.txt"
    assert copy.read_bytes() == b"secret notes"
    if os.name != "nt":
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    assert open_copy(attachment, directory=tmp_path).parent != copy.parent


@pytest.mark.parametrize(
    "raw",
    [
        # A NUL in an RFC 2231 charset makes the email package raise while parsing.
        HEAD + b"Content-Type: multipart/mixed; boundary*=utf\x00''q\r\n\r\n"
        b"--q\r\n\r\nx\r\n--q--\r\n",
        HEAD + multipart("mixed", text("body"),
                         b"Content-Type: application/octet-stream; name*=utf\x00''x\r\n\r\nAA"),
        HEAD + b"Content-Type: text/plain; charset=\"\x00\"\r\n\r\ntext\r\n",
        HEAD + b"Subject: =?utf-8?b?invalid===?=\r\nContent-Type: text/plain\r\n\r\ntext\r\n",
        # Deeper than any real message nests.
        HEAD + b"".join(b'Content-Type: multipart/mixed; boundary="%d"\r\n\r\n--%d\r\n' % (i, i)
                        for i in range(300)) + b"Content-Type: text/plain\r\n\r\ndeep\r\n",
    ],
)  # fmt: skip
def test_hostile_structure_never_breaks_reading(services: InboxServices, raw: bytes) -> None:
    opened = read_raw(services, raw, now=NOW)
    assert opened.headers.from_ == "Alice <alice@example.com>"
    # Shown somehow (or, if the engine found it malformed, with the banner's error only).
    assert opened.report.inner is None or opened.text is not None or opened.attachments


def test_nested_signed_part_keeps_its_bytes(services: InboxServices, pki: StandardPKI) -> None:
    signed = sign_message(message(body=b"Signed words.\r\n"), pki.alice.identity, now=NOW)
    header, _, body = signed.partition(b"\r\n\r\n")
    fields = [line for line in header.split(b"\r\n")]
    start = next(i for i, line in enumerate(fields) if line.lower().startswith(b"content-type"))
    content_type = b"\r\n".join(
        [fields[start], *[f for f in fields[start + 1 :] if f[:1] in (b" ", b"\t")]]
    )
    nested = content_type + b"\r\n\r\n" + body
    raw = HEAD + multipart("mixed", text("Outer."), nested, boundary="outer")
    (attachment,) = read_raw(services, raw, now=NOW).attachments
    assert attachment.data.rstrip(b"\r\n") == nested.rstrip(b"\r\n")


@pytest.mark.parametrize(
    "name",
    [
        "report.pdf", "photo.JPG", "scan.jpeg", "notes.txt", "data.csv", "invite.ics",
        "card.vcf", "voice.m4a",
        "report.pdf ", "report.pdf.",
    ],
)  # fmt: skip
def test_may_open_documents_pictures_and_sound(name: str) -> None:
    assert may_open(Attachment(safe_filename(name), "application/octet-stream", b""))
    assert may_open(Attachment(name, "application/octet-stream", b""))  # even unsanitised


@pytest.mark.parametrize(
    "name",
    [
        # Office documents: remote templates and images, no Protected View for our copy.
        "letter.docx", "sheet.xlsx", "slides.pptx", "text.odt", "table.ods",
        # Programs, scripts and what runs them.
        "invoice.exe", "invoice.exe.", "invoice.exe. .", "setup.msi", "run.bat", "x.ps1",
        "x.pyw", "x.jar", "x.sh", "x.desktop", "x.appimage", "x.terminal", "x.command",
        "pay\u202egpj.exe", "report.pdf.exe", "x.hta", "x.vbs", "x.wsf", "x.scr",
        # Shortcuts and places.
        "x.lnk", "x.url", "x.library-ms", "x.fileloc", "x.webloc", "x.searchConnector-ms",
        # Disk images and archives.
        "x.iso", "x.img", "x.vhd", "x.dmg", "x.zip", "x.7z", "x.rar", "x.tar.gz",
        # Web pages (a browser loads their remote content).
        "page.html", "page.htm", "page.xhtml", "image.svg", "x.mht", "x.xml",
        # Macros, and what the system would install.
        "x.docm", "x.xlsm", "x.doc", "x.rtf", "key.p12", "key.pfx", "x.cer",
        "profile.mobileconfig", "message.eml",
        # No type at all: the desktop would guess from the content.
        "README", ".pdf", "",
    ],
)  # fmt: skip
def test_may_open_refuses_everything_else(name: str) -> None:
    assert not may_open(Attachment(safe_filename(name), "application/pdf", b""))
    assert not may_open(Attachment(name, "application/pdf", b""))


def test_remove_stale_open_copies(tmp_path: Path) -> None:
    day = 24 * 3600
    old = time.time() - 2 * day

    def make(name: str, *, age: float = old, directory: bool = True) -> Path:
        path = tmp_path / name
        if directory:
            path.mkdir()
            (path / "notes.txt").write_bytes(b"x")
        else:
            path.write_bytes(b"x")
        os.utime(path, (age, age))
        return path

    stale = [make("inbox-open-a1"), make("inbox-open-b2")]
    fresh = open_copy(Attachment("notes.txt", "text/plain", b"x"), directory=tmp_path).parent
    recent = make("inbox-open-c3", age=time.time() - day / 2)
    not_a_directory = make("inbox-open-file", directory=False)
    not_ours = make("other-dir")
    outside = make("elsewhere")
    link = tmp_path / "inbox-open-link"
    link.symlink_to(outside, target_is_directory=True)
    os.utime(link, (old, old), follow_symlinks=False)

    assert remove_stale_open_copies(tmp_path) == 2
    assert not any(path.exists() for path in stale)
    for kept in (fresh, recent, not_a_directory, not_ours, outside / "notes.txt", link):
        assert kept.exists() or kept.is_symlink(), kept
    assert remove_stale_open_copies(tmp_path, older_than_seconds=0) == 2  # fresh, recent
    assert not fresh.exists()
    assert remove_stale_open_copies(tmp_path / "missing") == 0


# ---------------------------------------------------------------------------- hostile structure


def _opened(raw: bytes) -> reading.OpenedMessage:
    return opened_from_report(None, Report(inner=raw))


def test_an_unwritable_nested_part_shows_the_source() -> None:
    # An attached message with an 8-bit boundary: the email package parses it but cannot
    # write it back out (UnicodeEncodeError).
    attached = (
        b"Content-Type: message/rfc822\r\n\r\n"
        b"Content-Type: multipart/signed; boundary=s\xff\r\n\r\n--s\xff\r\n"
        + text("signed")
        + b"\r\n--s\xff--\r\n"
    )
    opened = _opened(HEAD + multipart("mixed", text("Outer."), attached, boundary="o"))
    assert opened.attachments == ()
    assert opened.text is not None
    assert "Outer." in opened.text
    assert "message/rfc822" in opened.text  # the source, unformatted
    assert opened.headers.from_ == "Alice <alice@example.com>"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("10<", id="IndexError"),
        pytest.param("a:;.", id="AttributeError-group-has-no-local_part"),
        pytest.param("; !x=?x?q?.'*, .['']", id="TypeError"),
    ],
)
def test_fields_the_email_package_cannot_decode_are_shown_raw(value: str) -> None:
    # Python 3.11's header parser raises these on such To: fields.
    raw = HEAD.replace(b"To: bob@example.org", b"To: " + value.encode()) + text("body")
    opened = _opened(raw)
    assert opened.headers.to == " ".join(value.split())  # as it came, on one line
    assert opened.text == "body\n"


def test_a_bug_in_the_walk_is_not_shown_as_source(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the email package's failures fall back to the source text; ours must surface.
    def broken(part: object) -> str:
        raise AttributeError("a bug in our own code")

    monkeypatch.setattr(reading, "_text_of", broken)
    with pytest.raises(AttributeError, match="our own code"):
        _opened(HEAD + text("body"))


def test_html_too_complex_to_show_falls_back_to_its_text_part() -> None:
    html = "<div>" * 30_000 + "Rich"
    raw = HEAD + multipart("alternative", text("Plain version"), text(html, "text/html"))
    opened = _opened(raw)
    assert opened.html is not None
    assert "Plain version" in opened.html
    assert "<div>" not in opened.html


_JUNK = st.lists(
    st.sampled_from(
        [";", "=", "*", "'", '"', "\x00", "\\", "(", ")", "%", "\xff", "\u00e9", "=?utf-8?q?",
         "=?x?b?", "?=", " ", "a", "0", "*0*", "*1", "''", "%ZZ", "<", ">", "@", ",", ":",
         "utf-8", "\x80", "name", "filename", "boundary", "charset", "start"]
    ),
    max_size=12,
).map("".join)  # fmt: skip
_TYPES = st.sampled_from(
    ["text/plain", "text/html", "multipart/mixed", "multipart/alternative",
     "multipart/related", "multipart/signed", "image/png", "message/rfc822",
     "application/pkcs7-mime", "application/octet-stream", "x/y"]
)  # fmt: skip


@st.composite
def _entity(draw: st.DrawFn, depth: int = 0) -> bytes:
    ctype = draw(_TYPES)
    fields = [f"Content-Type: {ctype}{draw(_JUNK)}"]
    for name in draw(st.lists(st.sampled_from(
        ["Content-Disposition: attachment; filename", "Content-Disposition: inline; name",
         "Content-Transfer-Encoding: base64", "Content-Transfer-Encoding: x-uuencode",
         "Content-ID: <", "Subject: =?utf-8?b?", "Reply-To: "]), max_size=3)):  # fmt: skip
        fields.append(name + draw(_JUNK))
    if ctype.startswith("multipart/") and depth < 3:
        boundary = f"q{depth}" + draw(st.sampled_from(["", "\xff", "*", " x"]))
        fields[0] = f'Content-Type: {ctype}; boundary="{boundary}"{draw(_JUNK)}'
        parts = draw(st.lists(_entity(depth + 1), max_size=3))
        delimiter = f"--{boundary}\r\n".encode("utf-8", "surrogateescape")
        body = b"".join(delimiter + part + b"\r\n" for part in parts) + delimiter[:-2] + b"--"
    elif ctype == "message/rfc822" and depth < 3:
        body = draw(_entity(depth + 1))
    else:
        body = ("hello " + draw(_JUNK)).encode("utf-8", "surrogateescape")
    head = "\r\n".join(fields).encode("utf-8", "surrogateescape")
    return head + b"\r\n\r\n" + body


@given(_entity())
def test_hostile_mime_never_breaks_reading(entity: bytes) -> None:
    # The email package raises ValueError, IndexError, TypeError... on such input; reading
    # must still show the message (structured, or as its source text).
    opened = _opened(HEAD + entity)
    assert opened.headers.from_ == "Alice <alice@example.com>"
    assert (
        opened.text is not None
        or opened.html is not None
        or opened.attachments
        or (b"\r\n\r\nhello" not in entity)
    )
