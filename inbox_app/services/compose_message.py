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
from email.headerregistry import Address
from email.message import EmailMessage
from typing import NamedTuple

from inbox_app.errors import InboxError, one_line
from inbox_app.services.attachments import safe_filename

# CRLF line endings, and every body made 7-bit clean (quoted-printable or base64): a
# signature must survive any relay, and only 7-bit content is safe to sign (RFC 8551 §3.1.2).
_POLICY = email_policy.SMTP.clone(cte_type="7bit")
# An ASCII dot-atom on both sides (RFC 5322 §3.4.1): what every relay and the email
# package take without quoting; quoted or internationalised local parts are not offered.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_SIMPLE_ADDRESS = re.compile(rf"{_ATEXT}(\.{_ATEXT})*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


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
    return _SIMPLE_ADDRESS.fullmatch(address) is not None  # whole: no trailing "\n"


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
    """An attachment named after the file's last path component, its type guessed.

    The name goes through the same :func:`~inbox_app.services.attachments.safe_filename`
    as the names of received attachments: the recipient sees it as we send it.
    """
    name = safe_filename(path)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return AttachedFile(name, content_type, data)


def build_message(c: Composition, *, from_address: str, now: datetime) -> bytes:
    """The RFC 5322 message of ``c`` (CRLF line endings, 7-bit clean).

    Bcc is written as a header field so that the outbox knows the envelope; the sender
    removes it before the message leaves (``transport.smtp.strip_bcc``) and keeps it out
    of protected headers. With attachments the message is multipart/mixed.

    A recipient entry whose address is not valid (:func:`is_valid_address`) is left out:
    sending refuses such a message before it gets here (:func:`blocking_reason`), and a
    draft saved while the user is still typing keeps the valid entries.

    Raises:
        ComposeError: a header cannot be written (the reason in one line).
    """
    message = EmailMessage(policy=_POLICY)
    try:
        message["From"] = from_address
        for name, entries in (("To", c.to), ("Cc", c.cc), ("Bcc", c.bcc)):
            written = [address for address in map(_address, entries) if address is not None]
            if written:
                message[name] = written
        message["Subject"] = one_line(c.subject).strip()
        message["Date"] = email.utils.format_datetime(now)
        message["Message-ID"] = _message_id(from_address)
        # The Message-IDs of a reply come from the received message: one line each.
        if c.in_reply_to:
            message["In-Reply-To"] = one_line(c.in_reply_to).strip()
        references = _references(c.references, c.in_reply_to)
        if references:
            message["References"] = " ".join(one_line(ref).strip() for ref in references)
        message["MIME-Version"] = "1.0"
    except Exception as exc:
        # The email package raises whatever its parser trips on (AttributeError, TypeError,
        # IndexError...) for hostile input, such as a header quoted from a received message.
        raise ComposeError(f"a header cannot be written: {one_line(str(exc))}") from exc
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


def _address(entry: str) -> Address | None:
    """One recipient entry as a header address, or None when its address is not valid.

    Built from its parts rather than parsed again from the text typed (or quoted from a
    received message): the display name is one line of plain text, quoted as needed.
    """
    name, address = email.utils.parseaddr(entry)
    address = address.strip()
    if not is_valid_address(address):
        return None
    return Address(display_name=one_line(name).strip(), addr_spec=address)


def _message_id(from_address: str) -> str:
    # Random, and the right-hand side is the sender's domain, never the host's name.
    domain = from_address.rpartition("@")[2] or "localhost"
    return f"<{secrets.token_hex(16)}@{domain}>"


def _references(references: Sequence[str], in_reply_to: str | None) -> list[str]:
    result = [ref for ref in references if ref]
    if in_reply_to and in_reply_to not in result:
        result.append(in_reply_to)
    return result


def _normal_lines(text: str) -> str:
    # One kind of line ending in, so that the serialiser writes CRLF throughout; a lone
    # surrogate (which a text widget can hold) cannot be encoded and becomes "?".
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"
