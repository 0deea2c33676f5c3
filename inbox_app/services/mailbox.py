"""Reading mail: sync into the local store, list, show (through the S/MIME engine), search.

Raw message bytes are stored as received and are the truth; summaries and the search
index are derived. Encrypted messages are indexed by their outer header fields only: no
decrypted text is ever written to disk.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inbox_app.mail.accounts import Account, AccountStore
from inbox_app.mail.errors import AccountError
from inbox_app.mail.maildir import MaildirFolder
from inbox_app.mail.summary import plain_text, summarize
from inbox_app.services.accounts import AccountService
from inbox_app.services.secure_mail import SecureMail
from inbox_app.smime import Report
from inbox_app.store import MailStore, MessageSummary

Progress = Callable[[str], None]
_ROLES = {"INBOX": "inbox", "Sent": "sent", "Drafts": "drafts", "Trash": "trash"}


@dataclass(frozen=True)
class SyncResult:
    account: str
    folders: int
    new: int
    removed: int

    def describe(self) -> str:
        return f"{self.account}: {self.folders} folders, {self.new} new, {self.removed} removed"


class Mailbox:
    """The mail of one Inbox home, read through the local store."""

    def __init__(self, home: Path, accounts: AccountService, secure_mail: SecureMail) -> None:
        self._home = home
        self._accounts = accounts
        self._secure_mail = secure_mail

    @functools.cached_property
    def store(self) -> MailStore:
        return MailStore(self._home)

    def sync(self, name: str, *, progress: Progress | None = None) -> SyncResult:
        """Bring the store up to date with the account's mailbox.

        Raises:
            AccountError: unknown account, or one this version cannot sync yet.
        """
        account = self._accounts.get(name)
        if not account.local:
            raise AccountError(f"syncing the IMAP account {name!r} is not available yet")
        return self._sync_local(account, progress or (lambda _: None))

    def messages(self, name: str, folder: str = "INBOX") -> list[MessageSummary]:
        """Every message of a folder, newest first, read page by page."""
        self._accounts.get(name)
        result: list[MessageSummary] = []
        before = None
        while True:
            page = self.store.page(name, folder, limit=500, before=before)
            result.extend(page)
            if len(page) < 500:
                return result
            before = page[-1].sort_key

    def show(self, name: str, uid: int, *, folder: str = "INBOX", now: datetime) -> Report:
        """Open a stored message through the engine (the raw bytes are what it checks)."""
        self._accounts.get(name)
        raw = self.store.raw(name, folder, uid)
        if raw is None:
            raise AccountError(f"no message with UID {uid} in {name}/{folder}")
        return self._secure_mail.open(raw, now=now)

    def search(self, name: str, query: str) -> list[MessageSummary]:
        self._accounts.get(name)
        return self.store.search(name, query)

    def _sync_local(self, account: Account, progress: Progress) -> SyncResult:
        root = AccountStore(self._home).maildir(account.name)
        new = removed = 0
        folders = 0
        for folder, path in _local_folders(root):
            folders += 1
            progress(f"{account.name}/{folder}: scanning")
            uidvalidity, messages = MaildirFolder(path).messages()
            self.store.save_folder(
                account.name, folder, role=_ROLES.get(folder), uidvalidity=uidvalidity,
                uidnext=max((m.uid for m in messages), default=0) + 1, highestmodseq=None,
            )  # fmt: skip
            known = set(self.store.uids(account.name, folder))
            present = {message.uid for message in messages}
            gone = known - present
            if gone:
                self.store.remove_uids(account.name, folder, gone)
                removed += len(gone)
            flags = {message.uid: message.flags for message in messages if message.uid in known}
            self.store.set_flags(account.name, folder, flags)
            for message in messages:
                if message.uid in known:
                    continue
                raw = message.path.read_bytes()
                self._add(
                    MessageSummary(
                        account=account.name, folder=folder, uid=message.uid,
                        uidvalidity=uidvalidity, flags=message.flags,
                        internaldate=datetime.fromtimestamp(message.internaldate, UTC),
                        size=len(raw), from_addr="", subject="", date=None, message_id=None,
                        security="none",
                    ),
                    raw,
                )  # fmt: skip
                new += 1
            progress(f"{account.name}/{folder}: {len(messages)} messages")
        return SyncResult(account.name, folders, new, removed)

    def _add(self, placeholder: MessageSummary, raw: bytes) -> None:
        """Store a message: its summary (from its own header), raw bytes and search text."""
        header = summarize(raw)
        summary = dataclasses.replace(
            placeholder,
            from_addr=header.from_addr,
            subject=header.subject,
            date=header.date,
            message_id=header.message_id,
            security=header.security,
        )
        account, folder, uid = summary.account, summary.folder, summary.uid
        self.store.add_summaries([summary])
        self.store.save_raw(account, folder, uid, raw)
        # Encrypted mail: its outer header fields only (RFC 9788 hides the real Subject).
        body = None if "encrypted" in header.security else plain_text(raw)
        self.store.index_text(
            account, folder, uid, headers=f"{header.from_addr}\n{header.subject}", body_text=body
        )


def summary_json(summary: MessageSummary) -> dict[str, Any]:
    """The ``messages --json`` object (exact contract)."""
    return {
        "uid": summary.uid,
        "folder": summary.folder,
        "from": summary.from_addr,
        "subject": summary.subject,
        "date": summary.date.isoformat() if summary.date else None,
        "flags": list(summary.flags),
        "security": summary.security,
    }


def _local_folders(root: Path) -> list[tuple[str, Path]]:
    found = [("INBOX", root)]
    if root.is_dir():
        found += [
            (path.name[1:], path)
            for path in sorted(root.iterdir())
            if path.is_dir() and path.name.startswith(".") and (path / "cur").is_dir()
        ]
    return found
