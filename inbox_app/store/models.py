"""What the store holds: folder states, message summaries, outbox items and drafts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

ROLES = frozenset({"inbox", "sent", "drafts", "trash", "archive"})
SECURITY = frozenset({"signed", "encrypted", "signed+encrypted", "none"})
OUTBOX_STATES = frozenset({"queued", "sending", "sent", "failed"})

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class FolderState:
    """What we last learnt of an IMAP folder (RFC 3501 UIDVALIDITY/UIDNEXT, RFC 7162)."""

    account: str
    name: str
    role: str | None
    uidvalidity: int
    uidnext: int | None
    highestmodseq: int | None

    def __post_init__(self) -> None:
        if self.role is not None and self.role not in ROLES:
            raise ValueError(f"unknown folder role {self.role!r}")


@dataclass(frozen=True)
class FolderView:
    """A folder as the folder list shows it: its role and message counts.

    ``unread`` counts the messages without the ``\\Seen`` flag.
    """

    account: str
    name: str
    role: str | None
    total: int
    unread: int


@dataclass(frozen=True)
class MessageSummary:
    """A message as a folder list shows it, without its body.

    Dates must be timezone-aware; the store keeps whole seconds in UTC and returns UTC.
    """

    account: str
    folder: str
    uid: int
    uidvalidity: int
    flags: tuple[str, ...]
    internaldate: datetime | None
    size: int
    from_addr: str
    subject: str
    date: datetime | None
    message_id: str | None
    security: str

    def __post_init__(self) -> None:
        if self.security not in SECURITY:
            raise ValueError(f"unknown security {self.security!r}")
        flags_text(self.flags)  # validates
        for when in (self.date, self.internaldate):
            if when is not None and when.utcoffset() is None:
                raise ValueError("message dates must be timezone-aware")

    @property
    def sort_key(self) -> tuple[datetime, int]:
        """Where the message sorts in a folder (newest first); pass it as ``page(before=)``.

        The Date header, else the server's INTERNALDATE, else the epoch; then the UID.
        """
        when = self.date or self.internaldate or EPOCH
        return from_timestamp(to_timestamp(when)), self.uid


class SyncedSummary(NamedTuple):
    """A message summary as a sync writes it: plain values in the store's own form.

    The sync path writes thousands a second, so these are not validated one by one the
    way :class:`MessageSummary` is; the schema's CHECK constraints still hold. Dates are
    whole seconds since the epoch (UTC); ``flags`` is :func:`flags_text`'s form;
    ``search_text`` is what search finds the message by until its body is indexed.
    """

    uid: int
    flags: str
    internaldate: int | None
    size: int
    from_addr: str
    subject: str
    date: int | None
    message_id: str | None
    security: str
    search_text: str


@dataclass(frozen=True)
class OutboxItem:
    """A message waiting to be sent, being sent, sent or failed."""

    id: int
    account: str
    message_id: str
    raw: bytes
    state: str
    attempts: int
    last_error: str | None
    server_response: str | None
    created_at: datetime
    updated_at: datetime
    maybe_delivered: bool = False  # the last attempt may have reached the server


@dataclass(frozen=True)
class Draft:
    """A message being written; the raw bytes are the whole truth."""

    id: int
    account: str
    raw: bytes
    updated_at: datetime


def to_timestamp(when: datetime) -> int:
    """Whole seconds since the epoch (UTC), rounded down; ``when`` must be aware."""
    if when.utcoffset() is None:
        raise ValueError("dates must be timezone-aware")
    return (when - EPOCH) // _SECOND


def from_timestamp(seconds: int) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def flags_text(flags: Sequence[str]) -> str:
    """Flags as stored: sorted, unique, space-separated.

    IMAP flags are atoms, which never hold spaces, so a space separates them safely.
    """
    if isinstance(flags, str):
        raise TypeError("flags must be a sequence of flags, not one string")
    for flag in flags:
        if not flag or any(ch.isspace() for ch in flag):
            raise ValueError(f"invalid flag {flag!r}")
    return " ".join(sorted(set(flags)))
