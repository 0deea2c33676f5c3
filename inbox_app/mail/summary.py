"""What a folder list needs of a message, from its raw bytes: header fields and security.

The security column reflects the MIME root only (RFC 9787): a signed part deeper in the
tree does not make the message "signed". It is a hint for the list; the reader verifies.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

_PARSER = BytesParser(policy=email.policy.default)
_HEADER_PARSER = BytesParser(policy=email.policy.compat32)


@dataclass(frozen=True)
class HeaderSummary:
    from_addr: str
    subject: str
    date: datetime | None
    message_id: str | None
    security: str  # "signed" | "encrypted" | "signed+encrypted" | "none"


def summarize(raw: bytes) -> HeaderSummary:
    """The list's view of a message: never raises on malformed headers."""
    header_block = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    message = _HEADER_PARSER.parsebytes(header_block + b"\n\n", headersonly=True)
    return HeaderSummary(
        from_addr=_text(message.get("From")),
        subject=_text(message.get("Subject")),
        date=_date(message.get("Date")),
        message_id=(message.get("Message-ID") or "").strip() or None,
        security=root_security(message.get_content_type(), message.get_param("smime-type")),
    )


def root_security(content_type: str, smime_type: object) -> str:
    """Classify a root Content-Type (RFC 8551 §3.2.2 smime-type values)."""
    kind = str(smime_type or "").lower() if not isinstance(smime_type, tuple) else ""
    if content_type == "multipart/signed":
        return "signed"
    if content_type in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
        if kind in ("enveloped-data", "authenveloped-data"):
            return "encrypted"
        if kind in ("signed-data", ""):
            return "signed"
    return "none"


def plain_text(raw: bytes, *, limit: int = 200_000) -> str:
    """The text/plain parts of an unencrypted message, for the search index.

    Encrypted content is never passed here by the callers (nothing of it is indexed
    unless the user opts in); signed messages' text is indexed as any other.
    """
    message = _PARSER.parsebytes(raw)
    texts: list[str] = []
    size = 0
    for part in message.walk():
        if part.get_content_type() != "text/plain" or part.is_attachment():
            continue
        try:
            content = part.get_content() if isinstance(part, EmailMessage) else ""
        except (LookupError, ValueError, AssertionError):
            continue
        if isinstance(content, str):
            texts.append(content)
            size += len(content)
            if size >= limit:
                break
    return "\n".join(texts)[:limit]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        from email.header import decode_header, make_header  # noqa: PLC0415

        try:
            return str(make_header(decode_header(value)))
        except (ValueError, LookupError, UnicodeError):
            return value
    return str(value)


def _date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


__all__ = ["HeaderSummary", "plain_text", "root_security", "summarize"]
