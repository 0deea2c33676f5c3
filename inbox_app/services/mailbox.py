"""Reading mail: sync into the local store, list, show (through the S/MIME engine), search;
flags, moves and deletes.

Raw message bytes are stored as received and are the truth; summaries and the search
index are derived. Encrypted messages are indexed by their outer header fields only: no
decrypted text is ever written to disk.

Changes go where the mail lives first (the IMAP server; for a local account, the
Maildir's files), then into the store, so the store never claims what did not happen.
The GUI reads the folder list (:meth:`Mailbox.folders`) and pages of summaries
(:meth:`Mailbox.page`) from the store only, without touching the network.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import queue
import threading
import time
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
from inbox_app.smime import Report, SignatureStatus
from inbox_app.store import (
    ROLES,
    FolderState,
    FolderView,
    MailStore,
    MessageSummary,
    SyncedSummary,
)
from inbox_app.store.mailstore import page_cursor
from inbox_app.transport import (
    AuthenticationError,
    Folder,
    ImapSession,
    TlsError,
    TransportError,
)
from inbox_app.transport import Summary as ImapSummary

# TlsError is re-exported for front ends, which may not import the transport: a server
# certificate that is not trusted is a security failure, told apart from the others.
__all__ = ["FolderView", "Mailbox", "Progress", "SyncResult", "TlsError", "summary_json"]

Progress = Callable[[str], None]

# Verification outcomes whose message text must not stay searchable.
_FAILED = frozenset({SignatureStatus.INVALID, SignatureStatus.ERROR})
_WRITE_BATCH = 1_000  # summaries per store commit during a sync
_BACKOFF = (0.5, 2.0)  # seconds between connection attempts
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
        self.home = home
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
        report = progress or (lambda _: None)
        if account.local:
            return self._sync_local(account, report)
        return self._sync_imap(account, report)

    def folders(self, name: str) -> list[FolderView]:
        """The account's folders as last synced, by name, with total and unread counts.

        Read from the store only (no network): one query, cheap for large folders.

        Raises:
            AccountError: no such account.
        """
        self._accounts.get(name)
        return self.store.folder_views(name)

    def page(
        self,
        name: str,
        folder: str,
        *,
        limit: int,
        after: MessageSummary | None = None,
        order: str = "date",
        descending: bool = True,
    ) -> list[MessageSummary]:
        """Up to ``limit`` summaries of a folder that come after ``after``: newest first,
        or by ``order`` ("date", "from", "subject") either way.

        Keyset paging: pass the last summary of a page to get the next; every page costs
        the same, whatever the folder's size. An unknown account or folder has no messages.
        """
        before = page_cursor(after, order) if after is not None else None
        return self.store.page(
            name, folder, limit=limit, before=before, order=order, descending=descending
        )

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
        """Open a message through the engine; its raw bytes are fetched once and cached."""
        account = self._accounts.get(name)
        raw = self.store.raw(name, folder, uid)
        if raw is None and not account.local and self.store.summary(name, folder, uid):
            with self._connect(account) as imap:
                imap.select(folder, readonly=True)
                raw = imap.raw(uid)
            self.store.save_raw(name, folder, uid, raw)
            summary = self.store.summary(name, folder, uid)
            if summary is not None and "encrypted" not in summary.security:
                self.store.index_text(
                    name, folder, uid,
                    headers=f"{summary.from_addr}\n{summary.subject}", body_text=plain_text(raw),
                )  # fmt: skip
        if raw is None:
            raise AccountError(f"no message with UID {uid} in {name}/{folder}")
        report = self._secure_mail.open(raw, now=now)
        if report.malformed or report.signature in _FAILED:
            # Nothing is indexed from a failed verification: the body's text, indexed when
            # the message arrived, leaves the index once verifying it has failed.
            summary = self.store.summary(name, folder, uid)
            if summary is not None:
                self.store.index_text(
                    name, folder, uid,
                    headers=f"{summary.from_addr}\n{summary.subject}", body_text=None,
                )  # fmt: skip
        return report

    def change_flags(
        self,
        name: str,
        folder: str,
        uids: list[int],
        *,
        add: tuple[str, ...] = (),
        remove: tuple[str, ...] = (),
    ) -> None:
        """Change flags where the mail lives first (the server, or the Maildir's file
        names), then in the store.

        Raises:
            AccountError: a local folder that does not exist, or a flag a local folder
                cannot keep (Maildir has letters for six flags only).
        """
        account = self._accounts.get(name)
        if account.local:
            maildir = MaildirFolder(self._local_path(account, folder))
            self.store.set_flags(name, folder, maildir.change_flags(uids, add=add, remove=remove))
            return
        with self._connect(account) as imap:
            imap.select(folder)
            if add:
                imap.add_flags(uids, add)
            if remove:
                imap.remove_flags(uids, remove)
        current = {s.uid: set(s.flags) for s in map(self._summary_of(name, folder), uids) if s}
        self.store.set_flags(
            name,
            folder,
            {uid: tuple(sorted((f | set(add)) - set(remove))) for uid, f in current.items()},
        )

    def move(self, name: str, folder: str, uids: list[int], target: str) -> None:
        """Move messages to another folder of the account.

        On a server the store forgets them here and learns their new UIDs at the next
        sync of ``target``; a local account's store takes both folders' changes at once.

        Raises:
            AccountError: a local folder that does not exist.
        """
        account = self._accounts.get(name)
        if account.local:
            self._move_local(account, folder, uids, target)
            return
        with self._connect(account) as imap:
            imap.select(folder)
            imap.move(uids, target)
        self.store.remove_uids(name, folder, uids)

    def delete(self, name: str, folder: str, uids: list[int]) -> None:
        """Delete messages: to the Trash folder when there is one, for good from Trash."""
        account = self._accounts.get(name)
        if account.local:
            trash = self._local_trash(account)
            if trash is not None and trash != folder:
                self._move_local(account, folder, uids, trash)
            else:
                removed = MaildirFolder(self._local_path(account, folder)).remove(uids)
                self.store.remove_uids(name, folder, removed)
            return
        with self._connect(account) as imap:
            trash = next((f.name for f in imap.folders() if f.role == "trash"), None)
            imap.select(folder)
            if trash is not None and trash != folder:
                imap.move(uids, trash)
            else:
                imap.delete(uids)
        self.store.remove_uids(name, folder, uids)

    def _move_local(self, account: Account, folder: str, uids: list[int], target: str) -> None:
        source = MaildirFolder(self._local_path(account, folder))
        destination = self._local_path(account, target)
        moved = source.move(uids, MaildirFolder(destination))
        self.store.remove_uids(account.name, folder, moved)
        # The moved files are new arrivals there: the folder's scan adds them (summary,
        # raw bytes, search text) under the UIDs the move gave them.
        self._sync_local_folder(account.name, target, destination)

    def _local_path(self, account: Account, folder: str) -> Path:
        """The Maildir directory of a local folder (INBOX is the root, others ``.Name``)."""
        root = AccountStore(self._home).maildir(account.name)
        for name, path in _local_folders(root):
            if name == folder:
                return path
        raise AccountError(f"no folder {folder!r} in {account.name}")

    def _local_trash(self, account: Account) -> str | None:
        root = AccountStore(self._home).maildir(account.name)
        return next((name for name, _ in _local_folders(root) if _ROLES.get(name) == "trash"), None)

    def _summary_of(self, name: str, folder: str) -> Callable[[int], MessageSummary | None]:
        return lambda uid: self.store.summary(name, folder, uid)

    def search(self, name: str, query: str) -> list[MessageSummary]:
        self._accounts.get(name)
        return self.store.search(name, query)

    def holds_message_id(self, account: Account, message_id: str) -> bool:
        """Whether the server's Sent folder (or INBOX, for mail to oneself) has it."""
        with self._connect(account) as imap:
            for folder in imap.folders():
                if folder.role in ("sent", "inbox"):
                    imap.select(folder.name, readonly=True)
                    if imap.find_message_id(message_id):
                        return True
        return False

    def append_to_role(
        self, account: Account, role: str, raw: bytes, *, flags: tuple[str, ...] = ("\\Seen",)
    ) -> bool:
        """Append a message to the folder with this special-use role; False if none."""
        with self._connect(account) as imap:
            for folder in imap.folders():
                if folder.role == role:
                    imap.append(folder.name, raw, flags=list(flags))
                    return True
        return False

    def watch(self, name: str, *, folder: str = "INBOX", timeout: float = 300.0) -> SyncResult:
        """Wait for new mail with IDLE (RFC 2177), then sync: new mail is pushed, not polled.

        Returns after one change (or ``timeout``) with what the sync found; the caller
        loops (the GUI's background loop does).
        """
        account = self._accounts.get(name)
        if account.local:
            raise AccountError("a local account has no server to watch")
        with self._connect(account) as imap:
            imap.select(folder, readonly=True)
            imap.idle(timeout)
        return self.sync(name)

    def wait_for_change(
        self,
        name: str,
        *,
        folder: str = "INBOX",
        stop: Callable[[], bool],
        window: float = 25.0,
    ) -> bool:
        """Wait in IDLE (RFC 2177) on one connection until the folder changes (True) or
        ``stop()`` says to give up (False); nothing is synced here.

        The wait is cut into ``window``-second IDLE rounds so that ``stop`` is looked at
        regularly (and the server sees DONE/IDLE well within RFC 2177's 29 minutes).
        """
        account = self._accounts.get(name)
        if account.local:
            raise AccountError("a local account has no server to watch")
        with self._connect(account) as imap:
            imap.select(folder, readonly=True)
            while not stop():
                if imap.idle(window):
                    return True
        return False

    def _connect(self, account: Account) -> ImapSession:
        """Log in, retrying a failed connection with backoff (never a refused login)."""
        server = account.imap
        if server is None or account.username is None:
            raise AccountError(f"the account {account.name!r} has no IMAP server")
        password = self._accounts.password(account.name)
        for delay in (*_BACKOFF, None):
            try:
                return ImapSession.connect(
                    server.host,
                    server.port,
                    tls=server.tls,
                    ca_file=server.ca_file,
                    username=account.username,
                    password=password,
                )
            except (AuthenticationError, TlsError):
                raise  # retrying cannot fix a password or a certificate
            except TransportError:
                if delay is None:
                    raise
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _sync_imap(self, account: Account, progress: Progress) -> SyncResult:
        """Summaries of every folder; raw bytes come later, on demand (``show``)."""
        name = account.name
        new = removed = 0
        with self._connect(account) as imap:
            folders = imap.folders()
            for folder in folders:
                added, gone = self._sync_folder(imap, name, folder, progress)
                new += added
                removed += gone
        return SyncResult(name, len(folders), new, removed)

    def _sync_folder(
        self, imap: ImapSession, name: str, folder: Folder, progress: Progress
    ) -> tuple[int, int]:
        """Bring one folder up to date: (new messages, removed messages).

        A changed UIDVALIDITY means a clean refetch (RFC 3501 §2.3.1.1). Otherwise, with
        QRESYNC (RFC 7162 §3.2.5) one ``EXAMINE folder (QRESYNC (uidvalidity modseq))``
        tells the changed flags, the new UIDs and the vanished ones; with CONDSTORE
        alone, a UID SEARCH finds new and vanished UIDs and ``CHANGEDSINCE`` the changed
        flags; with neither, one FETCH of every message's flags does both.
        """
        role = _store_role(folder.role)
        state = self.store.folder(name, folder.name)
        changes = None
        if state is not None and state.highestmodseq and imap.qresync:
            status, changes = imap.resync(
                folder.name, state.uidvalidity, state.highestmodseq, readonly=True
            )
        else:
            status = imap.select(folder.name, readonly=True)
        gone: set[int] = set()
        if state is None or state.uidvalidity != status.uidvalidity:
            # Saving the new UIDVALIDITY drops the folder's stale messages. HIGHESTMODSEQ
            # is saved only once every summary is stored: a sync cut before then starts
            # this folder over rather than trusting a half-filled one.
            self.store.save_folder(
                name, folder.name, role=role, uidvalidity=status.uidvalidity,
                uidnext=None, highestmodseq=None,
            )  # fmt: skip
            wanted = imap.all_uids()
        elif changes is not None and status.highestmodseq is not None:
            # New messages carry a newer mod-sequence than the stored one, so they are
            # among the changes too (RFC 7162 §3.1.1): no UID SEARCH at all.
            known = (
                set(self.store.uids(name, folder.name))
                if changes.flags or changes.vanished
                else set()
            )
            gone = set(changes.vanished) & known
            self.store.set_flags(
                name, folder.name,
                {uid: tuple(sorted(flags)) for uid, flags in changes.flags.items() if uid in known},
            )  # fmt: skip
            wanted = sorted(uid for uid in changes.flags if uid not in known)
        else:
            known = set(self.store.uids(name, folder.name))
            if state.highestmodseq and imap.condstore:
                server_uids = set(imap.all_uids())
                changed = imap.changes_since(state.highestmodseq).flags
            else:
                changed = imap.all_flags()
                server_uids = set(changed)
            gone = known - server_uids
            self.store.set_flags(
                name, folder.name,
                {uid: tuple(sorted(flags)) for uid, flags in changed.items() if uid in known},
            )  # fmt: skip
            wanted = sorted(server_uids - known)
        if gone:
            self.store.remove_uids(name, folder.name, gone)
        new = self._fetch_summaries(
            imap,
            name,
            folder.name,
            uidvalidity=status.uidvalidity,
            wanted=wanted,
            progress=progress,
        )
        done = FolderState(
            name, folder.name, role, status.uidvalidity, status.uidnext, status.highestmodseq
        )
        if done != state:  # an unchanged folder costs no write (and no fsync)
            self.store.save_folder(
                name, folder.name, role=role, uidvalidity=done.uidvalidity,
                uidnext=done.uidnext, highestmodseq=done.highestmodseq,
            )  # fmt: skip
        progress(f"{name}/{folder.name}: {status.exists} messages")
        return new, len(gone)

    def _fetch_summaries(
        self,
        imap: ImapSession,
        name: str,
        folder: str,
        *,
        uidvalidity: int,
        wanted: list[int],
        progress: Progress,
    ) -> int:
        """Fetch and store the summaries of ``wanted``; returns how many were stored.

        A reader thread takes the server's answer as it streams in and turns it into
        store rows, while this thread writes the previous batch: SQLite works without
        the GIL, so the writes (each batch one durable commit) overlap the network and
        parsing, and a first sync runs close to the speed of a bare FETCH.
        """
        if not wanted:
            return 0
        batches: queue.Queue[list[SyncedSummary] | BaseException | None] = queue.Queue(4)
        stop = threading.Event()

        def offer(item: list[SyncedSummary] | BaseException | None) -> bool:
            while not stop.is_set():
                try:
                    batches.put(item, timeout=0.05)
                    return True
                except queue.Full:
                    continue
            return False

        def read() -> None:
            try:
                with contextlib.closing(imap.iter_summaries(wanted, batch=_WRITE_BATCH)) as stream:
                    for batch in stream:
                        if not offer([_synced(item) for item in batch]):
                            return  # the writer gave up: closing the stream ends the session
            except BaseException as exc:  # handed to the writer, who raises it
                offer(exc)
                return
            offer(None)

        reader = threading.Thread(target=read, name=f"sync {name}/{folder}", daemon=True)
        reader.start()
        stored = 0
        try:
            while (item := batches.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                self.store.add_synced(name, folder, uidvalidity, item)
                stored += len(item)
                progress(f"{name}/{folder}: {stored}/{len(wanted)} new")
        finally:
            stop.set()
            reader.join()
        return stored

    def _sync_local(self, account: Account, progress: Progress) -> SyncResult:
        root = AccountStore(self._home).maildir(account.name)
        new = removed = 0
        folders = _local_folders(root)
        for folder, path in folders:
            progress(f"{account.name}/{folder}: scanning")
            added, gone, count = self._sync_local_folder(account.name, folder, path)
            new += added
            removed += gone
            progress(f"{account.name}/{folder}: {count} messages")
        return SyncResult(account.name, len(folders), new, removed)

    def _sync_local_folder(self, name: str, folder: str, path: Path) -> tuple[int, int, int]:
        """Bring one local folder's store rows in step with its Maildir: (new, removed, all)."""
        uidvalidity, messages = MaildirFolder(path).messages()
        self.store.save_folder(
            name, folder, role=_ROLES.get(folder), uidvalidity=uidvalidity,
            uidnext=max((m.uid for m in messages), default=0) + 1, highestmodseq=None,
        )  # fmt: skip
        known = set(self.store.uids(name, folder))
        present = {message.uid for message in messages}
        gone = known - present
        if gone:
            self.store.remove_uids(name, folder, gone)
        self.store.set_flags(
            name,
            folder,
            {message.uid: message.flags for message in messages if message.uid in known},
        )
        new = 0
        for message in messages:
            if message.uid in known:
                continue
            raw = message.path.read_bytes()
            self._add(
                MessageSummary(
                    account=name, folder=folder, uid=message.uid,
                    uidvalidity=uidvalidity, flags=message.flags,
                    internaldate=datetime.fromtimestamp(message.internaldate, UTC),
                    size=len(raw), from_addr="", subject="", date=None, message_id=None,
                    security="none",
                ),
                raw,
            )  # fmt: skip
            new += 1
        return new, len(gone), len(messages)

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


def _store_role(role: str | None) -> str | None:
    return role if role in ROLES else None


def _synced(item: ImapSummary) -> SyncedSummary:
    """A fetched summary in the store's form (no per-message validation: see the store)."""
    return SyncedSummary(
        uid=item.uid,
        flags=" ".join(sorted(item.flags)),
        internaldate=None if item.internaldate is None else _seconds(item.internaldate),
        size=item.size,
        from_addr=item.sender,
        subject=item.subject,
        date=None if item.date is None else _seconds(item.date),
        message_id=item.message_id or None,
        security=item.security,
        # Headers only until the raw bytes are fetched (and never a body for encrypted
        # mail: its outer Subject is "[...]" anyway).
        search_text=f"{item.sender}\n{item.subject}",
    )


def _seconds(when: datetime) -> int:
    """Whole seconds since the epoch, as the store keeps dates (IMAP dates have no less)."""
    return math.floor(when.timestamp())


def _local_folders(root: Path) -> list[tuple[str, Path]]:
    found = [("INBOX", root)]
    if root.is_dir():
        found += [
            (path.name[1:], path)
            for path in sorted(root.iterdir())
            if path.is_dir() and path.name.startswith(".") and (path / "cur").is_dir()
        ]
    return found
