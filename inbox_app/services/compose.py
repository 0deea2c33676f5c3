"""Composing mail: what the composer window (and any other front end) calls.

The pieces live in small modules, gathered here:

- :mod:`~inbox_app.services.compose_message`: :class:`Composition`, :func:`build_message`
- :mod:`~inbox_app.services.compose_security`: the account's :class:`SecurityPolicy`, each
  recipient's :class:`RecipientState`, :func:`blocking_reason`
- :mod:`~inbox_app.services.compose_reply`: :func:`reply_to`, :func:`forward_of`
- :mod:`~inbox_app.services.compose_drafts`: :func:`drafts` (:class:`DraftInfo`),
  :func:`composition_from_draft`

and the two use cases that touch the disk and the network: :func:`send` (through the
outbox) and :func:`save_draft`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from inbox_app.errors import InboxError, one_line
from inbox_app.services.app import InboxServices
from inbox_app.services.attachments import safe_filename
from inbox_app.services.compose_drafts import (
    UNREADABLE,
    DraftInfo,
    composition_from_draft,
    drafts,
    with_draft_options,
)
from inbox_app.services.compose_message import (
    AttachedFile,
    ComposeError,
    Composition,
    attachment_from_file,
    bare_address,
    build_message,
    is_valid_address,
    split_addresses,
)
from inbox_app.services.compose_reply import forward_of, html_to_text, reply_to
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

MEMORY_ONLY = "Draft kept in memory only: no encryption certificate for you"


@dataclass(frozen=True)
class DraftSaved:
    """Where a draft was saved, and ``detail`` in words.

    ``draft_id`` is the local draft's id; None when the draft was not written anywhere (it
    is to be encrypted and there is no encryption certificate to encrypt it to the sender).
    """

    draft_id: int | None
    detail: str

    @property
    def stored(self) -> bool:
        """Whether the draft is on disk (else only the composer holds it)."""
        return self.draft_id is not None


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
        try:
            services.mailbox.store.delete_draft(c.draft_id)
        except InboxError as exc:
            # The message is queued: an error now would invite the user to send it twice.
            detail = f"{outcome.detail} (its draft was not deleted: {one_line(str(exc))})"
            return dataclasses.replace(outcome, detail=detail)
    return outcome


def save_draft(
    services: InboxServices, c: Composition, *, now: datetime, upload: bool = True
) -> DraftSaved:
    """Keep ``c`` as a draft: in the local store at once and, with ``upload``, in a
    server account's Drafts folder.

    When ``c`` is to be encrypted the draft is encrypted to the sender alone, on this
    computer as on the server: decrypted text (a reply quotes it) is never written to
    disk. Without an encryption certificate for the sender it is not kept at all
    (``draft_id`` None, ``detail`` says so), and an earlier local draft of it goes.

    A failed upload leaves the local draft saved and says why in ``detail``. The composer
    saves locally as the user types and uploads when the window closes, so that the
    server's Drafts folder does not fill with a copy per pause in typing.

    Raises:
        AccountError: no such account.
        ComposeError: the message cannot be written (a malformed header).
        SmimeError: the draft could not be encrypted.
        StorageError: the local store could not be written.
    """
    account = services.accounts.get(c.account)
    raw = with_draft_options(build_message(c, from_address=account.email, now=now), c)
    prepared = services.sender.prepare_draft(c.account, raw, encrypted=c.encrypt, now=now)
    store = services.mailbox.store
    if prepared is None:
        if c.draft_id is not None:
            # An older copy, saved before Encrypt was ticked, must not outlive the choice.
            store.delete_draft(c.draft_id)
        return DraftSaved(None, MEMORY_ONLY)
    draft_id = store.save_draft(c.account, prepared, c.draft_id)
    if account.local or not upload:
        return DraftSaved(draft_id, "Draft saved")
    try:
        services.sender.upload_draft(c.account, prepared)
    except InboxError as exc:
        return DraftSaved(draft_id, f"Draft saved on this computer only ({one_line(str(exc))})")
    return DraftSaved(draft_id, "Draft saved")


__all__ = [
    "MEMORY_ONLY",
    "UNREADABLE",
    "AttachedFile",
    "ComposeError",
    "Composition",
    "DraftInfo",
    "DraftSaved",
    "RecipientState",
    "RecipientStatus",
    "SecurityPolicy",
    "attachment_from_file",
    "bare_address",
    "blocking_reason",
    "build_message",
    "composition_from_draft",
    "drafts",
    "forward_of",
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
