"""Drafts read back: an account's drafts listed (:func:`drafts`) and one reopened
(:func:`composition_from_draft`).

A stored draft is the RFC 5322 message :func:`~inbox_app.services.compose.save_draft`
wrote, encrypted to the sender when the message is to be encrypted. It is opened like any
message, by the engine (:meth:`SecureMail.open` with the keystore's keys), and what the
composer needs is taken from ``report.inner`` through the reader's own parsing
(:func:`~inbox_app.services.reading.opened_from_report`), which copes with hostile input.

Two things are not in the protected headers of an encrypted draft: Bcc (kept out of them so
that recipients never see it, RFC 9788 §4) and the draft's own ``X-Inbox-Draft`` field
(whether the message is to be signed, which nothing else in a draft says). Both are read
from the draft's outer header fields when the decrypted entity lacks them.
"""

from __future__ import annotations

import email.policy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.parser import BytesParser
from typing import TYPE_CHECKING

from inbox_app.credentials.errors import CredentialsError
from inbox_app.errors import InboxError, one_line
from inbox_app.fileio import StorageError
from inbox_app.services.compose_message import (
    AttachedFile,
    ComposeError,
    Composition,
    split_addresses,
    unique_addresses,
)
from inbox_app.services.compose_reply import html_to_text
from inbox_app.services.reading import opened_from_report
from inbox_app.smime.identity import DecryptionKey
from inbox_app.smime.report import EncryptionStatus, Report
from inbox_app.store.models import Draft

if TYPE_CHECKING:
    from inbox_app.services.app import InboxServices

UNREADABLE = "(cannot be read)"
# Our own field, as Thunderbird keeps X-Mozilla-Draft-Info: the draft's choices that its
# content does not show. Encryption needs none: a draft of an encrypted message is itself
# stored encrypted (or not at all).
OPTIONS_FIELD = "X-Inbox-Draft"
_SIGN = "sign=yes"
_NO_SIGN = "sign=no"

# compat32 leaves field values as they came: a hostile one is decoded field by field
# below, where its failure is caught, instead of stopping the parse (as in reading.py).
_HEADER_PARSER = BytesParser(policy=email.policy.compat32)
# What the email package raises on a malformed field value (see reading._FIELD_ERRORS).
_FIELD_ERRORS = (ValueError, LookupError, TypeError, IndexError, AttributeError, AssertionError)


@dataclass(frozen=True)
class DraftInfo:
    """One stored draft, as a list of drafts shows it (plain text throughout).

    Attributes:
        id: the local draft's id (for :func:`composition_from_draft`).
        subject: its subject; :data:`UNREADABLE` when it could not be opened.
        recipients: the bare addresses of To, Cc and Bcc, in that order.
        updated_at: when it was last saved.
        encrypted: it is stored encrypted to the sender.
        readable: it could be opened (decrypted); when not, it cannot be reopened either.
    """

    id: int
    subject: str
    recipients: tuple[str, ...]
    updated_at: datetime
    encrypted: bool = False
    readable: bool = True


def with_draft_options(raw: bytes, c: Composition) -> bytes:
    """``raw`` (made by ``build_message``) with the :data:`OPTIONS_FIELD` of ``c``.

    Only drafts carry it; what is sent is built again from the composition, without it.
    """
    value = _SIGN if c.sign else _NO_SIGN
    return f"{OPTIONS_FIELD}: {value}\r\n".encode("ascii") + raw


def drafts(services: InboxServices, account: str, *, now: datetime) -> list[DraftInfo]:
    """The account's drafts, most recently saved first.

    An encrypted draft is decrypted with the keystore to show its subject; one that cannot
    be (its key is gone, the keyring is locked, it is damaged) is listed with the subject
    :data:`UNREADABLE` and its outer recipients, and never stops the list.

    Args:
        services: the session's services.
        account: the account's name.
        now: the time at which certificates are checked.

    Raises:
        StorageError: the local store could not be read.
    """
    keys = _decryption_keys(services)
    result = []
    for draft in services.mailbox.store.drafts(account):
        result.append(_info(services, draft, keys, now=now))
    return result


def composition_from_draft(
    services: InboxServices, account: str, draft_id: int, *, now: datetime
) -> Composition:
    """Draft ``draft_id`` of ``account`` as a :class:`Composition` to go on writing.

    To, Cc, Bcc, Subject, the body, the attachments, In-Reply-To and References come back
    as they were saved; ``encrypt`` is whether the draft is stored encrypted, ``sign`` what
    its :data:`OPTIONS_FIELD` says; ``draft_id`` is set, so that saving it replaces it.

    Raises:
        ComposeError: no such draft, or it cannot be decrypted or read (the reason says).
        KeyringUnavailableError: the keystore's keys cannot be unlocked (the OS keyring).
        CredentialsError: the keystore cannot be used.
        StorageError: the local store could not be read.
    """
    draft = next((d for d in services.mailbox.store.drafts(account) if d.id == draft_id), None)
    if draft is None:
        raise ComposeError(f"draft {draft_id} no longer exists in {account}")
    report = _open(services, draft.raw, _decryption_keys(services), now=now)
    if report.inner is None:
        reason = report.error or "it could not be decrypted"
        raise ComposeError(f"this draft cannot be read: {one_line(reason)}")
    opened = opened_from_report(None, report)
    inner = _header_fields(report.inner)
    outer = _header_fields(draft.raw)
    in_reply_to = _first_field("in-reply-to", inner, outer).strip() or None
    references = _first_field("references", inner, outer).split()
    if references and references[-1] == in_reply_to:
        references.pop()  # build_message adds it at the end: it will again
    body = opened.text if opened.text is not None else html_to_text(opened.html or "")
    return Composition(
        account,
        to=split_addresses(opened.headers.to),
        cc=split_addresses(opened.headers.cc),
        bcc=split_addresses(_first_field("bcc", inner, outer)),
        subject=opened.headers.subject,
        # build_message ends the body with a line break: the text typed did not have it.
        body=body.removesuffix("\n"),
        attachments=tuple(
            AttachedFile(a.filename, a.content_type, a.data) for a in opened.attachments
        ),
        sign=_first_field(OPTIONS_FIELD.lower(), inner, outer).strip().lower() == _SIGN,
        encrypt=_encrypted(report),
        draft_id=draft.id,
        in_reply_to=in_reply_to,
        references=tuple(references),
    )


def _info(
    services: InboxServices, draft: Draft, keys: Sequence[DecryptionKey], *, now: datetime
) -> DraftInfo:
    outer = _header_fields(draft.raw)
    try:
        report = _open(services, draft.raw, keys, now=now)
    except InboxError:
        # The keyring could not be asked, say: the draft is listed, unreadable for now.
        report = Report(encryption=EncryptionStatus.FAILED)
    encrypted = _encrypted(report) or _looks_encrypted(outer)
    if report.inner is None:
        return DraftInfo(
            draft.id, UNREADABLE, _recipients(outer), draft.updated_at, encrypted, False
        )
    opened = opened_from_report(None, report)
    recipients = _recipients(_header_fields(report.inner), outer)
    subject = one_line(opened.headers.subject)
    return DraftInfo(draft.id, subject, recipients, draft.updated_at, encrypted)


def _decryption_keys(services: InboxServices) -> list[DecryptionKey]:
    """The keystore's keys, fetched once for every draft (the keyring is asked only when
    a draft needs a key, and once however many do)."""
    try:
        return services.keystore.decryption_identities()
    except (CredentialsError, StorageError):
        return []


def _open(
    services: InboxServices, raw: bytes, keys: Sequence[DecryptionKey], *, now: datetime
) -> Report:
    # Without keys, open() asks the keystore itself: the same answer, so no harm.
    return services.secure_mail.open(raw, now=now, identities=keys)


def _encrypted(report: Report) -> bool:
    return "encrypted" in report.layers or report.encryption is not EncryptionStatus.NONE


def _looks_encrypted(fields: Message) -> bool:
    """The outer Content-Type is S/MIME's: the draft is stored encrypted, read or not."""
    try:
        ctype = fields.get_content_type()
    except _FIELD_ERRORS:
        return False
    return ctype in ("application/pkcs7-mime", "application/x-pkcs7-mime")


def _recipients(*sources: Message) -> tuple[str, ...]:
    """The bare addresses of To, Cc and Bcc, each field from the first of ``sources``
    that has it (the decrypted entity's protected fields, then the outer ones)."""
    entries: list[str] = []
    for name in ("to", "cc", "bcc"):
        entries.extend(split_addresses(_first_field(name, *sources)))
    return tuple(unique_addresses(entries))


def _header_fields(raw: bytes) -> Message:
    """The header fields of ``raw`` (none when even they cannot be parsed)."""
    try:
        return _HEADER_PARSER.parsebytes(raw, headersonly=True)
    except (ValueError, LookupError):
        return Message()


def _first_field(name: str, *sources: Message) -> str:
    """Field ``name`` decoded (one line), from the first of ``sources`` that has it."""
    for fields in sources:
        values = [str(v) for key, v in fields.raw_items() if key.lower() == name]
        if values:
            return ", ".join(_decoded(name, value) for value in values)
    return ""


def _decoded(name: str, raw_value: str) -> str:
    # 8-bit bytes were parsed as surrogate escapes: read them as UTF-8 (RFC 6532).
    value = raw_value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        return one_line(str(email.policy.default.header_factory(name, value)))
    except _FIELD_ERRORS:
        return one_line(value)
