"""Reading a message: what the reader pane shows, derived from the engine's report.

The :class:`~inbox_app.smime.report.Report` is the truth about security; everything here is
derived from ``report.inner`` (the verified, decrypted entity), never from the raw outer
parts, so decrypted content is never merged with unprotected parts (EFAIL).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from inbox_app.smime.report import Report


class AttachmentKind(enum.StrEnum):
    """What the reader offers for an attachment besides save and open."""

    P12 = "p12"  # "Install certificate…"
    PROFILE = "profile"  # "Install profile…"
    MESSAGE = "message"  # an attached .eml / message/rfc822
    OTHER = "other"


@dataclass(frozen=True)
class Attachment:
    """One attachment of the displayed entity."""

    filename: str  # sanitised: no directories, no control characters
    content_type: str
    data: bytes = field(repr=False)
    kind: AttachmentKind = AttachmentKind.OTHER


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
