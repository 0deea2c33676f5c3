"""Reading a message: what the reader pane shows, derived from the engine's report.

The :class:`~inbox_app.smime.report.Report` is the truth about security; everything here is
derived from ``report.inner`` (the verified, decrypted entity), never from the raw outer
parts, so decrypted content is never merged with unprotected parts (EFAIL).
"""

from __future__ import annotations

import dataclasses
import email.policy
import mimetypes
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.parser import BytesParser
from typing import TYPE_CHECKING

from inbox_app.credentials.errors import CredentialsError
from inbox_app.errors import one_line
from inbox_app.fileio import StorageError
from inbox_app.mail.errors import AccountError
from inbox_app.mail.html import sanitize_html
from inbox_app.services.attachments import (
    Attachment,
    AttachmentKind,
    attachment_kind,
    may_open,
    open_copy,
    safe_filename,
    save_attachment,
)
from inbox_app.smime.report import Report

if TYPE_CHECKING:
    from inbox_app.services.app import InboxServices

# Re-exported: callers read attachments off an OpenedMessage.
__all__ = [
    "Attachment",
    "AttachmentKind",
    "MessageHeaders",
    "OpenedMessage",
    "attachment_kind",
    "may_open",
    "open_copy",
    "opened_from_report",
    "read_raw",
    "read_stored",
    "safe_filename",
    "save_attachment",
]


@dataclass(frozen=True)
class MessageHeaders:
    """The headers the reader shows (the protected ones, when RFC 9788 protected them)."""

    from_: str = ""
    to: str = ""
    cc: str = ""
    subject: str = ""
    date: datetime | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class OpenedMessage:
    """A message opened for display.

    Attributes:
        report: what the engine found (signature, encryption, warnings...).
        headers: the displayed headers.
        text: the plain-text body, if any.
        html: the HTML body, already sanitised (no scripts, no remote references), if any.
        attachments: the attachments of the displayed entity.
        inline: ``cid:`` resources (Content-ID without angle brackets -> (type, bytes)).
        account, folder, uid: where it came from (None when opened from a file).
        decryption_key: the keystore identity that decrypted it (name and addresses, plain
            text), when the report names one the keystore still holds.
        decryption_key_valid_until: that identity's certificate's end of validity.
        seen: whether the stored message is now marked ``\\Seen``.
    """

    report: Report
    headers: MessageHeaders
    text: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    inline: dict[str, tuple[str, bytes]] = field(default_factory=dict, repr=False)
    account: str | None = None
    folder: str | None = None
    uid: int | None = None
    decryption_key: str | None = None
    decryption_key_valid_until: datetime | None = None
    seen: bool = False


# ---------------------------------------------------------------------------- opening


def read_raw(services: InboxServices, raw: bytes, *, now: datetime) -> OpenedMessage:
    """Open a message given as bytes (a file, an attachment) for display.

    Args:
        services: the session's services (trust anchors, keys, contacts).
        raw: the message exactly as received.
        now: the time at which certificates must be valid.
    """
    report = services.secure_mail.open(raw, now=now)
    return opened_from_report(services, report, outer=raw)


def read_stored(
    services: InboxServices, account: str, folder: str, uid: int, *, now: datetime
) -> OpenedMessage:
    """Open a stored message for display and mark it read.

    Marking it ``\\Seen`` is best effort: the message is shown even when the server cannot
    be reached or the account cannot change flags.

    Raises:
        AccountError: unknown account, or no such message.
        TransportError: its bytes had to be fetched and the server could not be reached.
    """
    report = services.mailbox.show(account, uid, folder=folder, now=now)
    outer = None if report.inner is not None else services.mailbox.store.raw(account, folder, uid)
    opened = opened_from_report(services, report, outer=outer)
    seen = _mark_seen(services, account, folder, uid)
    return dataclasses.replace(opened, account=account, folder=folder, uid=uid, seen=seen)


def opened_from_report(
    services: InboxServices | None, report: Report, *, outer: bytes | None = None
) -> OpenedMessage:
    """What the reader shows of a message the engine opened.

    Everything comes from ``report.inner``. Without it (the message could not be decrypted
    or its security could not be checked) there is no body and no attachment: only the
    outer header fields of ``outer``, which the message list shows anyway.

    Args:
        services: for the name and validity of the key that decrypted it (None: not looked up).
        report: what :meth:`SecureMail.open` returned.
        outer: the message as received, for its header fields when ``inner`` is missing.
    """
    key_name, key_end = _decryption_key(services, report)
    if report.inner is None:
        headers = _headers(_parse_header(outer), None) if outer is not None else MessageHeaders()
        return OpenedMessage(
            report, headers, decryption_key=key_name, decryption_key_valid_until=key_end
        )
    found = _Found()
    root = _parse(report.inner)
    if root is not None:
        try:
            _visit(root, found, root=True, wants_body=True)
        except _UnreadableError:
            root = None
    if root is None:
        # A structure the email package cannot parse or write back: show the verified entity
        # as source text rather than nothing (it is what was signed or decrypted, unformatted).
        # Only the package's own failures land here; a bug in the walk is not hidden.
        root = _parse_header(report.inner)
        found = _Found(texts=[report.inner.decode("utf-8", errors="replace")])
    text = _newlines("\n".join(found.texts)) if found.texts else None
    html = None
    if found.html is not None:
        html = sanitize_html(_newlines(found.html), text_alternative=text)
    return OpenedMessage(
        report,
        _headers(root, report.protected_headers),
        text=text,
        html=html,
        attachments=tuple(found.attachments),
        inline=found.inline,
        decryption_key=key_name,
        decryption_key_valid_until=key_end,
    )


def _mark_seen(services: InboxServices, account: str, folder: str, uid: int) -> bool:
    summary = services.mailbox.store.summary(account, folder, uid)
    if summary is not None and "\\Seen" in summary.flags:
        return True
    # Imported here: the transport package loads imapclient, which the reader pane
    # does not need before the first message is opened.
    from inbox_app.transport.errors import TransportError  # noqa: PLC0415

    try:
        services.mailbox.change_flags(account, folder, [uid], add=("\\Seen",))
    except (AccountError, TransportError):
        return False  # reading matters more than the flag; the next sync brings it back
    return True


def _decryption_key(
    services: InboxServices | None, report: Report
) -> tuple[str | None, datetime | None]:
    if services is None or report.decrypted_with is None:
        return None, None
    try:
        entry = services.keystore.find(report.decrypted_with)
    except (CredentialsError, StorageError):
        return None, None
    subject = entry.certificate.subject.rfc4514_string()
    addresses = ", ".join(entry.addresses)
    name = f"{subject} <{addresses}>" if addresses else subject
    return one_line(name), entry.certificate.not_valid_after_utc


# ---------------------------------------------------------------------------- headers

# compat32 keeps header values as they came and decodes nothing while parsing: the modern
# policy parses every field eagerly and raises on hostile ones (a NUL in an RFC 2231
# charset), which must not stop a message from being shown. Fields are decoded one by one,
# for display, in _decoded.
_PARSER = BytesParser(policy=email.policy.compat32)
# Re-serialising an attached message or a nested signed part: CRLF, no refolding, so its
# bytes stay as they came (and a signature over them can still be checked elsewhere).
_AS_RECEIVED = email.policy.compat32.clone(linesep="\r\n", max_line_length=0)
# What the email package raises while parsing a message, reading a parameter or a charset
# from it, or writing a part back out: ValueError for a NUL in an RFC 2231 charset or an
# 8-bit boundary (UnicodeEncodeError), LookupError for an unknown charset.
_PACKAGE_ERRORS = (ValueError, LookupError)
# What email.headerregistry's parser raises on a malformed field value, besides those: found
# by fuzzing "From: 10<" (IndexError), an address list holding a group (AttributeError: no
# local_part), "; !x=?x?q?.'*, .[''" (TypeError); its parser also asserts on input it does
# not expect. Caught only around decoding one field.
_FIELD_ERRORS = (*_PACKAGE_ERRORS, TypeError, IndexError, AttributeError, AssertionError)
_MAX_DEPTH = 32


class _UnreadableError(Exception):
    """The email package could not write a part back out (a hostile boundary, deep nesting)."""


def _parse(raw: bytes) -> Message | None:
    """The whole entity parsed, or None when the email package cannot parse it."""
    try:
        return _PARSER.parsebytes(raw)
    except _PACKAGE_ERRORS:  # "embedded null character": a NUL in an RFC 2231 boundary
        return None


def _parse_header(raw: bytes) -> Message:
    """Only the header fields of ``raw`` (an empty message if even they cannot be parsed)."""
    try:
        return _PARSER.parsebytes(raw, headersonly=True)
    except _PACKAGE_ERRORS:
        return Message()


def _headers(message: Message, protected: dict[str, str] | None) -> MessageHeaders:
    """The header block shown: RFC 9788 protected fields first, then the message's own."""

    def raw_values(name: str) -> list[str]:
        if protected is not None and name in protected:
            return [protected[name]]
        # raw_items: the values exactly as parsed (get_all would wrap 8-bit ones in Header).
        return [str(v) for key, v in message.raw_items() if key.lower() == name]

    def value(name: str) -> str:
        return ", ".join(_decoded(name, raw) for raw in raw_values(name))

    date: datetime | None = None
    dates = raw_values("date")
    if dates:
        try:
            date = email.policy.default.header_factory("date", _unescape(dates[0])).datetime
        except _FIELD_ERRORS:
            date = None
    return MessageHeaders(
        from_=value("from"),
        to=value("to"),
        cc=value("cc"),
        subject=value("subject"),
        date=date,
        message_id=value("message-id") or None,
    )


def _decoded(name: str, raw_value: str) -> str:
    """A field's value for display: encoded words decoded, one line."""
    value = _unescape(raw_value)
    try:
        return one_line(str(email.policy.default.header_factory(name, value)))
    except _FIELD_ERRORS:
        return one_line(value)


def _unescape(value: str) -> str:
    """Raw 8-bit bytes in a field (parsed as surrogate escapes) read as UTF-8 (RFC 6532)."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# ---------------------------------------------------------------------------- the MIME tree

# A signed or encrypted part below the root proves nothing about the message (RFC 8551 §3.9,
# "Johnny, you are fired"): it is never opened here, only offered as an attachment.
_NESTED_SECURITY = frozenset(
    {
        "multipart/signed",
        "multipart/encrypted",
        "application/pkcs7-mime",
        "application/x-pkcs7-mime",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
    }
)
_BODY_TYPES = frozenset({"text/plain", "text/html"})


@dataclass
class _Found:
    texts: list[str] = field(default_factory=list)
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    inline: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def has_body(self) -> bool:
        return bool(self.texts) or self.html is not None


def _visit(
    part: Message, found: _Found, *, root: bool = False, wants_body: bool, depth: int = 0
) -> None:
    """Sort one entity into body, inline resources and attachments.

    ``wants_body``: this entity is where the body may still be (the root, the first part of
    a multipart/mixed, the start of a multipart/related).
    """
    ctype = part.get_content_type()
    if depth > _MAX_DEPTH:
        _attach(part, found)  # no legitimate mail nests this deep; keep it as a file
        return
    if not root and ctype in _NESTED_SECURITY:
        _attach(part, found, nested=True)
        return
    if part.get_content_maintype() == "message":
        _attach(part, found)  # an attached message is a file to open, not more body
        return
    if part.is_multipart():
        children = _children(part)
        subtype = part.get_content_subtype()
        if subtype == "alternative" and wants_body:
            _visit_alternative(children, found, depth)
        elif subtype == "related":
            _visit_related(part, children, found, wants_body=wants_body, depth=depth)
        else:
            # multipart/mixed and anything unknown (RFC 2046 §5.1.3): the first part that
            # can be a body is the body, the others are attachments.
            for child in children:
                body_here = wants_body and not found.has_body and _may_be_body(child)
                if not body_here and _is_more_text(child, found):
                    found.texts.append(_text_of(child))
                else:
                    _visit(child, found, wants_body=body_here, depth=depth + 1)
        return
    if wants_body and not found.has_body and _may_be_body(part) and ctype in _BODY_TYPES:
        if ctype == "text/html":
            found.html = _text_of(part)
        else:
            found.texts.append(_text_of(part))
        return
    _attach(part, found)


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)] if payload else []


def _visit_alternative(children: list[Message], found: _Found, depth: int) -> None:
    """RFC 2046 §5.1.4: the parts say the same thing, the last is the richest."""
    text = html = None
    rich: Message | None = None
    for child in children:
        ctype = child.get_content_type()
        if ctype in _NESTED_SECURITY or _is_attachment(child):
            _visit(child, found, wants_body=False, depth=depth + 1)
        elif ctype == "text/plain":
            text = child
        elif ctype == "text/html":
            html = child
        elif child.is_multipart():
            rich = child
        else:
            _attach(child, found)  # e.g. text/calendar beside the invitation's text
    if rich is not None and html is None:
        sub = _Found()
        _visit(rich, sub, wants_body=True, depth=depth + 1)
        found.html = sub.html
        found.texts.extend(sub.texts if text is None else [])
        found.attachments.extend(sub.attachments)
        found.inline.update(sub.inline)
    if html is not None:
        found.html = _text_of(html)
    if text is not None:
        found.texts.append(_text_of(text))


def _visit_related(
    part: Message, children: list[Message], found: _Found, *, wants_body: bool, depth: int
) -> None:
    """RFC 2387: the start part is the body, the others are the resources it refers to."""
    if not children:
        return
    try:
        start = part.get_param("start")
    except _PACKAGE_ERRORS:
        start = None
    index = 0
    if isinstance(start, str):
        wanted = _content_id(start)
        index = next((i for i, c in enumerate(children) if _cid_of(c) == wanted), 0)
    _visit(children[index], found, wants_body=wants_body, depth=depth + 1)
    for position, child in enumerate(children):
        if position == index:
            continue
        cid = _cid_of(child)
        if cid and child.get_content_maintype() == "image" and not _is_attachment(child):
            _add_inline(child, cid, found)
        else:
            _visit(child, found, wants_body=False, depth=depth + 1)


def _may_be_body(part: Message) -> bool:
    ctype = part.get_content_type()
    if _is_attachment(part) or ctype in _NESTED_SECURITY:
        return False
    return ctype in _BODY_TYPES or ctype in (
        "multipart/alternative",
        "multipart/related",
        "multipart/mixed",
    )


def _is_more_text(part: Message, found: _Found) -> bool:
    """An inline text/plain part after a plain-text body (Apple Mail splits bodies so)."""
    return (
        bool(found.texts)
        and found.html is None
        and part.get_content_type() == "text/plain"
        and not _is_attachment(part)
        and _raw_filename(part) is None
    )


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment"


def _attach(part: Message, found: _Found, *, nested: bool = False) -> None:
    ctype = part.get_content_type()
    cid = _cid_of(part)
    if cid and part.get_content_maintype() == "image":
        _add_inline(part, cid, found)  # mixed-in inline images are referenced too
    filename = safe_filename(_raw_filename(part), _fallback_name(ctype))
    kind = AttachmentKind.OTHER if nested else attachment_kind(filename, ctype)
    found.attachments.append(Attachment(filename, ctype, _data_of(part), kind))


def _add_inline(part: Message, cid: str, found: _Found) -> None:
    found.inline.setdefault(cid, (part.get_content_type(), _data_of(part)))


def _raw_filename(part: Message) -> str | None:
    """The part's file name: Content-Disposition's filename, else Content-Type's name.

    Decoded here rather than by compat32, which turns raw UTF-8 names into U+FFFD; RFC 2231
    and (as many agents send it) RFC 2047 encodings are both understood.
    """
    for field_name, param in (("content-disposition", "filename"), ("content-type", "name")):
        raw = next((str(v) for k, v in part.raw_items() if k.lower() == field_name), None)
        if raw is None:
            continue
        try:
            parsed = email.policy.default.header_factory(field_name, _unescape(raw))
            name = parsed.params.get(param)
        except _FIELD_ERRORS:
            continue
        if isinstance(name, str) and name:
            return _decoded("subject", name) if "=?" in name else name
    return None


def _cid_of(part: Message) -> str | None:
    try:
        value = part.get("content-id")
    except _PACKAGE_ERRORS:
        return None
    return _content_id(str(value)) if value is not None else None


def _content_id(value: str) -> str:
    return value.strip().removeprefix("<").removesuffix(">").strip()


def _data_of(part: Message) -> bytes:
    if part.get_content_maintype() == "message" and part.is_multipart():
        # The email package parsed the attached message(s): serialise what it holds.
        return b"".join(_as_received(m) for m in _children(part))
    if part.is_multipart():
        return _as_received(part)  # a nested signed part, as a whole entity
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _as_received(part: Message) -> bytes:
    """A parsed entity written back out as it came.

    Raises:
        _UnreadableError: the email package cannot write it (an 8-bit boundary, or nesting
            deeper than its recursive generator goes).
    """
    try:
        return part.as_bytes(policy=_AS_RECEIVED)
    except (*_PACKAGE_ERRORS, RecursionError) as exc:
        raise _UnreadableError(str(exc)) from exc


def _text_of(part: Message) -> str:
    """A text part decoded with its charset (UTF-8 when that is missing or unknown)."""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    try:
        charset = part.get_content_charset() or "utf-8"
    except _PACKAGE_ERRORS:  # a NUL in the charset's name
        charset = "utf-8"
    if charset in ("us-ascii", "ascii"):
        charset = "utf-8"  # a superset: mislabelled 8-bit text is common
    try:
        return data.decode(charset, errors="replace")
    except (LookupError, ValueError):
        return data.decode("utf-8", errors="replace")


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n")  # the wire's CRLF, as text


def _fallback_name(ctype: str) -> str:
    if ctype == "message/rfc822":
        return "message.eml"
    if ctype.startswith("multipart/"):
        return "part.eml"
    if ctype in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
        return "smime.p7m"
    if ctype in ("application/pkcs7-signature", "application/x-pkcs7-signature"):
        return "smime.p7s"
    return "attachment" + (mimetypes.guess_extension(ctype, strict=False) or ".bin")
