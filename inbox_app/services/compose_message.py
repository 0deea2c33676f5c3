"""A message being written (:class:`Composition`) and the RFC 5322 bytes made from it.

No I/O here: the composer window edits a :class:`Composition`, and :func:`build_message`
turns it into the bytes that the outbox signs, encrypts and sends.
"""

from __future__ import annotations

import email.utils
import mimetypes
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import PurePosixPath, PureWindowsPath
from typing import NamedTuple

from inbox_app.errors import InboxError

# CRLF line endings, and every body made 7-bit clean (quoted-printable or base64): a
# signature must survive any relay, and only 7-bit content is safe to sign (RFC 8551 §3.1.2).
_POLICY = email_policy.SMTP.clone(cte_type="7bit")
_SIMPLE_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")


class ComposeError(InboxError, ValueError):
    """A message cannot be sent or saved as it is; ``str()`` is the one-line reason."""


class AttachedFile(NamedTuple):
    """One attachment of a message being written: (filename, content_type, data)."""

    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:  # the contents stay out of logs and tracebacks
        return f"AttachedFile({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class Composition:
    """Everything the user has written so far, and how it is to be protected.

    Attributes:
        account: the name of the account it is sent from.
        to, cc, bcc: recipients, each ``addr@example.com`` or ``Name <addr@example.com>``.
        subject: the Subject.
        body: the plain-text body.
        attachments: the attached files.
        sign, encrypt: the per-message S/MIME choice.
        draft_id: the local draft it was last saved as, if any.
        in_reply_to: the Message-ID (with angle brackets) this replies to, if any.
        references: the References of a reply, oldest first.
    """

    account: str
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    attachments: tuple[AttachedFile, ...] = ()
    sign: bool = False
    encrypt: bool = False
    draft_id: int | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()

    def recipients(self) -> list[str]:
        """Every recipient's bare address (To, Cc, Bcc), duplicates removed, in order."""
        return unique_addresses([*self.to, *self.cc, *self.bcc])

    def is_empty(self) -> bool:
        """Nothing worth keeping as a draft has been written."""
        return not (
            self.to or self.cc or self.bcc or self.subject.strip() or self.body.strip()
        ) and not (self.attachments)


def split_addresses(text: str) -> tuple[str, ...]:
    """The entries of a comma- or semicolon-separated recipient field, as typed.

    ``"Doe, John" <j@example.com>, bob@example.org`` gives two entries: commas inside
    quotes or angle brackets do not separate.
    """
    entries: list[str] = []
    current: list[str] = []
    quoted = False
    angle = 0
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            angle += 1
        elif not quoted and ch == ">":
            angle = max(0, angle - 1)
        if ch in ",;" and not quoted and not angle:
            entries.append("".join(current))
            current = []
        else:
            current.append(ch)
    entries.append("".join(current))
    return tuple(entry.strip() for entry in entries if entry.strip())


def bare_address(entry: str) -> str:
    """The address of one recipient entry (``Name <a@b>`` gives ``a@b``); may be invalid."""
    name, address = email.utils.parseaddr(entry)
    if not address and not name:
        return entry.strip()
    return address.strip() or entry.strip()


def is_valid_address(address: str) -> bool:
    """A plain ``local@domain`` address we can put in an envelope."""
    return bool(_SIMPLE_ADDRESS.match(address))


def unique_addresses(entries: Iterable[str]) -> list[str]:
    """The bare addresses of ``entries``, duplicates (case-blind) removed, in order."""
    seen: set[str] = set()
    result: list[str] = []
    for entry in entries:
        address = bare_address(entry)
        if address and address.casefold() not in seen:
            seen.add(address.casefold())
            result.append(address)
    return result


def attachment_from_file(path: str, data: bytes) -> AttachedFile:
    """An attachment named after the file's last path component, its type guessed."""
    name = safe_filename(path)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return AttachedFile(name, content_type, data)


def safe_filename(path: str) -> str:
    """The last component of ``path`` (either separator), without control characters."""
    name = PureWindowsPath(PurePosixPath(path).name).name
    name = "".join(ch for ch in name if ch.isprintable())
    return name.strip() or "attachment"


def build_message(c: Composition, *, from_address: str, now: datetime) -> bytes:
    """The RFC 5322 message of ``c`` (CRLF line endings, 7-bit clean).

    Bcc is written as a header field so that the outbox knows the envelope; the sender
    removes it before the message leaves (``transport.smtp.strip_bcc``) and keeps it out
    of protected headers. With attachments the message is multipart/mixed.

    Raises:
        ComposeError: a recipient field cannot be written (a malformed address).
    """
    message = EmailMessage(policy=_POLICY)
    message["From"] = from_address
    try:
        for name, entries in (("To", c.to), ("Cc", c.cc), ("Bcc", c.bcc)):
            written = [_one_line(entry) for entry in entries if entry.strip()]
            if written:
                message[name] = ", ".join(written)
        message["Subject"] = _one_line(c.subject)
    except (ValueError, IndexError) as exc:
        raise ComposeError(f"a recipient cannot be written: {exc}") from exc
    message["Date"] = email.utils.format_datetime(now)
    message["Message-ID"] = _message_id(from_address)
    if c.in_reply_to:
        message["In-Reply-To"] = c.in_reply_to
    references = _references(c.references, c.in_reply_to)
    if references:
        message["References"] = " ".join(references)
    message["MIME-Version"] = "1.0"
    message.set_content(_normal_lines(c.body), charset="utf-8")
    for attached in c.attachments:
        maintype, _, subtype = attached.content_type.partition("/")
        if not subtype or maintype in ("multipart", "message"):
            # Sent as opaque bytes: a multipart or message/* body is not ours to vouch for.
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(
            attached.data, maintype=maintype, subtype=subtype, filename=attached.filename
        )
    return message.as_bytes(policy=_POLICY)


def _message_id(from_address: str) -> str:
    # Random, and the right-hand side is the sender's domain, never the host's name.
    domain = from_address.rpartition("@")[2] or "localhost"
    return f"<{secrets.token_hex(16)}@{domain}>"


def _references(references: Sequence[str], in_reply_to: str | None) -> list[str]:
    result = [ref for ref in references if ref]
    if in_reply_to and in_reply_to not in result:
        result.append(in_reply_to)
    return result


def _one_line(text: str) -> str:
    # A line break in a header value would start a new field (header injection).
    return "".join(ch if ch.isprintable() else " " for ch in text).strip()


def _normal_lines(text: str) -> str:
    # One kind of line ending in, so that the serialiser writes CRLF throughout.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"
