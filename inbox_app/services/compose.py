"""Composing mail: what the composer window (and any other front end) calls.

The pieces live in small modules, gathered here:

- :mod:`~inbox_app.services.compose_message`: :class:`Composition`, :func:`build_message`
- :mod:`~inbox_app.services.compose_security`: the account's :class:`SecurityPolicy`, each
  recipient's :class:`RecipientState`, :func:`blocking_reason`
- :mod:`~inbox_app.services.compose_reply`: :func:`reply_to`

and the two use cases that touch the disk and the network: :func:`send` (through the
outbox) and :func:`save_draft`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from inbox_app.errors import InboxError
from inbox_app.services.app import InboxServices
from inbox_app.services.compose_message import (
    AttachedFile,
    ComposeError,
    Composition,
    attachment_from_file,
    bare_address,
    build_message,
    is_valid_address,
    safe_filename,
    split_addresses,
)
from inbox_app.services.compose_reply import html_to_text, reply_to
from inbox_app.services.compose_security import (
    RecipientState,
    RecipientStatus,
    SecurityPolicy,
    blocking_reason,
    policy,
    recipient_states,
    recipient_statuses,
)
from inbox_app.services.sending import SendOutcome


@dataclass(frozen=True)
class DraftSaved:
    """Where a draft was saved: always locally (``draft_id``), and ``detail`` in words."""

    draft_id: int
    detail: str


def read_attachments(paths: Sequence[str]) -> list[AttachedFile]:
    """The files at ``paths`` as attachments (named after the file, type guessed).

    Raises:
        ComposeError: a file cannot be read (the reason names it).
    """
    files = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ComposeError(f"cannot attach {safe_filename(path)}: {reason}") from exc
        files.append(attachment_from_file(path, data))
    return files


def send(services: InboxServices, c: Composition, *, now: datetime) -> SendOutcome:
    """Send ``c`` through the outbox, signed and encrypted as it says; its draft goes.

    Once the message is in the outbox the local draft is deleted, whether or not the
    server took it yet (a failed send waits in the outbox, with its reason).

    Raises:
        ComposeError: :func:`blocking_reason` refuses it (nothing is queued).
        CredentialsError: signing or encryption turned out impossible (nothing is queued).
        AccountError: no such account.
    """
    rules = policy(services, c.account)
    c = rules.apply(c)
    states = recipient_states(services, c.recipients(), now=now, sender=rules.address)
    reason = blocking_reason(c, states, rules)
    if reason is not None:
        raise ComposeError(f"not sent: {reason}")
    raw = build_message(c, from_address=rules.address, now=now)
    outcome = services.sender.send(
        c.account, raw, sign=c.sign, encrypt=c.encrypt, now=now, apply_defaults=False
    )
    if c.draft_id is not None:
        services.mailbox.store.delete_draft(c.draft_id)
    return outcome


def save_draft(
    services: InboxServices, c: Composition, *, now: datetime, upload: bool = True
) -> DraftSaved:
    """Keep ``c`` as a draft: in the local store at once and, with ``upload``, in a
    server account's Drafts folder (encrypted to the sender alone when ``c`` is to be
    encrypted).

    A failed upload leaves the local draft saved and says why in ``detail``. The composer
    saves locally as the user types and uploads when the window closes, so that the
    server's Drafts folder does not fill with a copy per pause in typing.

    Raises:
        AccountError: no such account.
        StorageError: the local store could not be written.
    """
    account = services.accounts.get(c.account)
    raw = build_message(c, from_address=account.email, now=now)
    draft_id = services.mailbox.store.save_draft(c.account, raw, c.draft_id)
    if account.local or not upload:
        return DraftSaved(draft_id, "Draft saved")
    try:
        services.sender.save_draft(c.account, raw, draft_id=draft_id, encrypted=c.encrypt, now=now)
    except InboxError as exc:
        return DraftSaved(draft_id, f"Draft saved on this computer only ({exc})")
    return DraftSaved(draft_id, "Draft saved")


__all__ = [
    "AttachedFile",
    "ComposeError",
    "Composition",
    "DraftSaved",
    "RecipientState",
    "RecipientStatus",
    "SecurityPolicy",
    "attachment_from_file",
    "bare_address",
    "blocking_reason",
    "build_message",
    "html_to_text",
    "is_valid_address",
    "policy",
    "read_attachments",
    "recipient_states",
    "recipient_statuses",
    "reply_to",
    "save_draft",
    "send",
    "split_addresses",
]
