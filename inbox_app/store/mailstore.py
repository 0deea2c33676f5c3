"""The local mail store: one SQLite database per Inbox home.

``<home>/store.sqlite3`` (directory 0700, file 0600) caches what the IMAP server holds
(folder states, message summaries, raw messages fetched on demand), a full-text index of
what the caller chose to index, the outbox and the drafts. The store knows nothing of
S/MIME or the network: it keeps bytes and text it is handed.

Durability: WAL with ``synchronous = FULL`` for every transaction. With NORMAL, a commit
in WAL mode survives a crash of the app but not of the machine until the next
checkpoint: a power cut could bring back a "queued" state for a message already sent
(sent twice) or lose a queued message or a draft. FULL costs one fsync of the WAL per
commit, and the cache writes are batched (``add_summaries`` is one transaction per call),
so a single setting that is always right beats switching per write.

Writes go through ``BEGIN IMMEDIATE`` transactions; environment failures (full disk,
read-only file, a lock held too long, a damaged file) surface as
:class:`StoreUnavailableError`, while bugs keep their ``sqlite3`` exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from inbox_app.store import schema
from inbox_app.store._sqlite import BUSY_TIMEOUT, boundary, connect, transaction
from inbox_app.store.models import (
    Draft,
    FolderState,
    FolderView,
    MessageSummary,
    OutboxItem,
    SyncedSummary,
    flags_text,
    from_timestamp,
    to_timestamp,
)

STORE_FILE = "store.sqlite3"

# The SQL is spelt out in full, never assembled, so each statement reads as it runs.
_UPSERT = """
    INSERT INTO messages (account, folder, uid, uidvalidity, flags, internaldate, size,
                          from_addr, subject, date, message_id, security, sort_date)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (account, folder, uid, uidvalidity) DO UPDATE SET
        flags = excluded.flags, internaldate = excluded.internaldate, size = excluded.size,
        from_addr = excluded.from_addr, subject = excluded.subject, date = excluded.date,
        message_id = excluded.message_id, security = excluded.security,
        sort_date = excluded.sort_date
"""
# Search text for many messages goes through a staging table and one INSERT ... SELECT.
# The FTS5 index is kept by triggers, and a trigger makes every statement open a
# savepoint, at which FTS5 flushes its pending terms: one statement per message would
# write one tiny index segment per message (ten times slower, and a fragmented index).
# CROSS JOIN keeps the staged rows outside, each a seek on the messages' unique key;
# "WHERE true" lets SQLite read ON CONFLICT as the upsert clause, not a join constraint.
_STAGE_TEXT = """
    CREATE TEMP TABLE IF NOT EXISTS staged_text (uid INTEGER NOT NULL, headers TEXT NOT NULL,
                                                 body TEXT)
"""
# A synced message's headers; a body indexed since (when it was read) is kept.
_SYNCED_TEXT = """
    INSERT INTO message_text (id, headers, body)
    SELECT m.id, s.headers, NULL FROM temp.staged_text AS s
    CROSS JOIN messages AS m
        ON m.account = ? AND m.folder = ? AND m.uid = s.uid AND m.uidvalidity = ?
    WHERE true
    ON CONFLICT (id) DO UPDATE SET headers = excluded.headers
"""
_STAGED_TEXT = """
    INSERT INTO message_text (id, headers, body)
    SELECT m.id, s.headers, s.body FROM temp.staged_text AS s
    CROSS JOIN messages AS m ON m.account = ? AND m.folder = ? AND m.uid = s.uid
    WHERE true
    ON CONFLICT (id) DO UPDATE SET headers = excluded.headers, body = excluded.body
"""
_SUMMARY = """
    SELECT account, folder, uid, uidvalidity, flags, internaldate, size, from_addr, subject,
           date, message_id, security
    FROM messages WHERE account = ? AND folder = ? AND uid = ?
"""
# The orders a folder can be paged in, each served by an index (schema migrations 2, 5).
# A page is a keyset range on that index: SQLite seeks to the cursor and walks ``limit``
# entries, with no OFFSET and no sort, so every page costs the same on any folder.
SORT_ORDERS = {
    "date": "sort_date",
    "from": "from_addr COLLATE NOCASE",
    "subject": "subject COLLATE NOCASE",
}
_PAGE_SORTED = """
    SELECT account, folder, uid, uidvalidity, flags, internaldate, size, from_addr, subject,
           date, message_id, security
    FROM messages WHERE account = ? AND folder = ? {after}
    ORDER BY {column} {direction}, uid {direction} LIMIT ?
"""
# INDEXED BY: with the sort indexes (migration 5) the planner would otherwise pick one of
# those for both counts, walking every message instead of the unread ones.
# Each count is one index range: the total over messages_page, the unread over the partial
# index messages_unseen, whose WHERE expression the second count repeats word for word
# (SQLite uses a partial index only for a query that states its condition).
_FOLDER_VIEWS = """
    SELECT f.account, f.name, f.role,
           (SELECT count(*) FROM messages AS m INDEXED BY messages_page
            WHERE m.account = f.account AND m.folder = f.name),
           (SELECT count(*) FROM messages AS m INDEXED BY messages_unseen
            WHERE m.account = f.account AND m.folder = f.name
              AND instr(' ' || flags || ' ', ' \\Seen ') = 0)
    FROM folders AS f WHERE f.account = ? ORDER BY f.name
"""
_SEARCH = """
    SELECT m.account, m.folder, m.uid, m.uidvalidity, m.flags, m.internaldate, m.size,
           m.from_addr, m.subject, m.date, m.message_id, m.security
    FROM message_fts JOIN messages AS m ON m.id = message_fts.rowid
    WHERE message_fts MATCH ? AND m.account = ? AND (? IS NULL OR m.folder = ?)
    ORDER BY m.sort_date DESC, m.uid DESC LIMIT ?
"""
_OUTBOX = """
    SELECT id, account, message_id, raw, state, attempts, last_error, server_response,
           created_at, updated_at, maybe_delivered
    FROM outbox WHERE (? IS NULL OR account = ?) ORDER BY id
"""
_FAILED = (
    "UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ?, maybe_delivered = 0 "
    "WHERE id = ? AND state = 'sending'"
)
_FAILED_MAYBE = (
    "UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ?, maybe_delivered = 1 "
    "WHERE id = ? AND state = 'sending'"
)
_OUTBOX_ITEM = """
    SELECT id, account, message_id, raw, state, attempts, last_error, server_response,
           created_at, updated_at, maybe_delivered
    FROM outbox WHERE id = ?
"""


class MailStore:
    """The mail store of one Inbox home. Not shared between threads: open one per thread.

    Several ``MailStore`` objects (threads, processes) may use one file at once: WAL lets
    readers go on while one writer commits, and a writer waits up to ``busy_timeout``
    seconds for another.
    """

    def __init__(self, home: Path, *, busy_timeout: float = BUSY_TIMEOUT) -> None:
        """Open ``<home>/store.sqlite3``, creating or upgrading it.

        Raises:
            StoreUnavailableError: the file cannot be created, opened or upgraded, or was
                written by a newer Inbox.
        """
        self._path = home / STORE_FILE
        self._conn = connect(self._path, busy_timeout)
        try:
            self._setup()
        except BaseException:
            self._conn.close()
            raise

    @property
    def path(self) -> Path:
        return self._path

    @boundary
    def _setup(self) -> None:
        # Outside any transaction, where these take effect: journal_mode is kept in the file
        # (a no-op once set), the other two hold for this connection only.
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")  # see the module docstring
        self._conn.execute("PRAGMA foreign_keys = ON")
        # Replaced and deleted rows (a draft typed before Encrypt was ticked, a removed
        # message) are overwritten with zeros, not left readable in free pages.
        self._conn.execute("PRAGMA secure_delete = ON")
        schema.migrate(self._conn, self._path)

    def close(self) -> None:
        """Close the database (the last connection to close also checkpoints the WAL)."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ folders

    @boundary
    def save_folder(
        self,
        account: str,
        name: str,
        *,
        role: str | None,
        uidvalidity: int,
        uidnext: int | None,
        highestmodseq: int | None,
    ) -> None:
        """Record a folder's state; a changed UIDVALIDITY also drops its cached messages."""
        FolderState(account, name, role, uidvalidity, uidnext, highestmodseq)  # validates
        with transaction(self._conn) as conn:
            row = conn.execute(
                "SELECT uidvalidity FROM folders WHERE account = ? AND name = ?",
                (account, name),
            ).fetchone()
            if row is not None and row[0] != uidvalidity:
                # The server renumbered the folder: every cached UID is meaningless now.
                self._drop_messages(account, name)
            conn.execute(
                """
                INSERT INTO folders (account, name, role, uidvalidity, uidnext, highestmodseq)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (account, name) DO UPDATE SET
                    role = excluded.role, uidvalidity = excluded.uidvalidity,
                    uidnext = excluded.uidnext, highestmodseq = excluded.highestmodseq
                """,
                (account, name, role, uidvalidity, uidnext, highestmodseq),
            )

    @boundary
    def folder(self, account: str, name: str) -> FolderState | None:
        row = self._conn.execute(
            "SELECT account, name, role, uidvalidity, uidnext, highestmodseq FROM folders "
            "WHERE account = ? AND name = ?",
            (account, name),
        ).fetchone()
        return None if row is None else FolderState(*row)

    @boundary
    def folders(self, account: str) -> list[FolderState]:
        rows = self._conn.execute(
            "SELECT account, name, role, uidvalidity, uidnext, highestmodseq FROM folders "
            "WHERE account = ? ORDER BY name",
            (account,),
        ).fetchall()
        return [FolderState(*row) for row in rows]

    @boundary
    def folder_views(self, account: str) -> list[FolderView]:
        """The account's folders with their total and unread counts, by name.

        One query; each count is an index range, so a 100,000-message folder costs a
        range scan of its index entries, never a read of its rows.
        """
        rows = self._conn.execute(_FOLDER_VIEWS, (account,)).fetchall()
        return [FolderView(*row) for row in rows]

    @boundary
    def reset_folder(self, account: str, name: str, *, uidvalidity: int) -> None:
        """UIDVALIDITY changed: drop the folder's messages, raw bytes and text at once.

        UIDNEXT and HIGHESTMODSEQ are forgotten too: the next sync starts from scratch.

        Raises:
            LookupError: the folder was never saved (a bug in the caller).
        """
        with transaction(self._conn) as conn:
            self._drop_messages(account, name)
            updated = conn.execute(
                "UPDATE folders SET uidvalidity = ?, uidnext = NULL, highestmodseq = NULL "
                "WHERE account = ? AND name = ?",
                (uidvalidity, account, name),
            ).rowcount
            if not updated:
                raise LookupError(f"no folder {name!r} in account {account!r}")

    @boundary
    def delete_folder(self, account: str, name: str) -> None:
        """Forget a folder (gone from the server) with all its messages and their text."""
        with transaction(self._conn) as conn:
            conn.execute("DELETE FROM folders WHERE account = ? AND name = ?", (account, name))

    def _drop_messages(self, account: str, folder: str) -> None:
        # message_text rows (and through its trigger, the FTS entries) go by cascade.
        self._conn.execute(
            "DELETE FROM messages WHERE account = ? AND folder = ?", (account, folder)
        )

    # ------------------------------------------------------------------ messages

    @boundary
    def add_summaries(self, summaries: Iterable[MessageSummary]) -> int:
        """Insert or update summaries in one transaction; return how many were written.

        An update keeps the cached raw bytes and indexed text. A summary whose UIDVALIDITY
        is not its folder's current one is stale (fetched before a reset) and skipped.

        Raises:
            LookupError: a summary's folder was never saved (a bug in the caller).
        """
        validity: dict[tuple[str, str], int] = {}
        with transaction(self._conn) as conn:
            rows = []
            for item in summaries:
                key = (item.account, item.folder)
                if key not in validity:
                    row = conn.execute(
                        "SELECT uidvalidity FROM folders WHERE account = ? AND name = ?", key
                    ).fetchone()
                    if row is None:
                        raise LookupError(f"no folder {item.folder!r} in account {item.account!r}")
                    validity[key] = row[0]
                if item.uidvalidity == validity[key]:
                    rows.append(_summary_row(item))
            conn.executemany(_UPSERT, rows)
        return len(rows)

    @boundary
    def add_synced(
        self, account: str, folder: str, uidvalidity: int, summaries: Iterable[SyncedSummary]
    ) -> int:
        """Write a sync's summaries and their search text in one transaction.

        The fast path of :meth:`add_summaries` plus :meth:`index_texts` (one commit, no
        per-message objects). Nothing is written when ``uidvalidity`` is no longer the
        folder's (fetched before a reset). Returns how many summaries were written.

        Raises:
            LookupError: the folder was never saved (a bug in the caller).
        """
        messages = []
        texts = []
        for item in summaries:
            sort_date = item.date if item.date is not None else item.internaldate or 0
            messages.append(
                (account, folder, item.uid, uidvalidity, item.flags, item.internaldate,
                 item.size, item.from_addr, item.subject, item.date, item.message_id,
                 item.security, sort_date)
            )  # fmt: skip
            texts.append((item.uid, item.search_text, None))
        with transaction(self._conn) as conn:
            row = conn.execute(
                "SELECT uidvalidity FROM folders WHERE account = ? AND name = ?",
                (account, folder),
            ).fetchone()
            if row is None:
                raise LookupError(f"no folder {folder!r} in account {account!r}")
            if row[0] != uidvalidity:
                return 0
            conn.executemany(_UPSERT, messages)
            self._stage_texts(texts)
            conn.execute(_SYNCED_TEXT, (account, folder, uidvalidity))
            conn.execute("DELETE FROM temp.staged_text")
        return len(messages)

    @boundary
    def set_flags(
        self, account: str, folder: str, flags_by_uid: Mapping[int, Sequence[str]]
    ) -> None:
        """Replace the flags of the given messages (UIDs not in the store are ignored)."""
        rows = [(flags_text(flags), account, folder, uid) for uid, flags in flags_by_uid.items()]
        if not rows:
            return
        with transaction(self._conn) as conn:
            conn.executemany(
                "UPDATE messages SET flags = ? WHERE account = ? AND folder = ? AND uid = ?",
                rows,
            )

    @boundary
    def remove_uids(self, account: str, folder: str, uids: Iterable[int]) -> None:
        """Forget expunged messages, with their raw bytes and indexed text."""
        rows = [(account, folder, uid) for uid in uids]
        with transaction(self._conn) as conn:
            conn.executemany(
                "DELETE FROM messages WHERE account = ? AND folder = ? AND uid = ?", rows
            )

    @boundary
    def uids(self, account: str, folder: str) -> list[int]:
        """Every UID the store holds for the folder, ascending."""
        rows = self._conn.execute(
            "SELECT uid FROM messages WHERE account = ? AND folder = ? ORDER BY uid",
            (account, folder),
        ).fetchall()
        return [row[0] for row in rows]

    @boundary
    def count(self, account: str, folder: str) -> int:
        row = self._conn.execute(
            "SELECT count(*) FROM messages WHERE account = ? AND folder = ?", (account, folder)
        ).fetchone()
        return int(row[0])

    @boundary
    def page(
        self,
        account: str,
        folder: str,
        *,
        limit: int = 100,
        before: tuple[datetime, int] | tuple[str, int] | None = None,
        order: str = "date",
        descending: bool = True,
    ) -> list[MessageSummary]:
        """Up to ``limit`` summaries after the cursor ``before``: newest first by default,
        else by ``order`` ("date", "from" or "subject") in either direction.

        Pass the last summary's :func:`page_cursor` (for the date order, its
        :attr:`MessageSummary.sort_key`) as ``before`` to get the next page; an empty list
        means the end.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if order not in SORT_ORDERS:
            raise ValueError(f"unknown order {order!r}")
        if before is not None and isinstance(before[0], datetime) != (order == "date"):
            raise ValueError(f"the cursor does not fit the {order!r} order (see page_cursor)")
        return self._page_sorted(account, folder, limit, before, order=order, descending=descending)

    def _page_sorted(
        self,
        account: str,
        folder: str,
        limit: int,
        before: tuple[datetime, int] | tuple[str, int] | None,
        *,
        order: str,
        descending: bool,
    ) -> list[MessageSummary]:
        column = SORT_ORDERS[order]
        params: list[object] = [account, folder]
        after = ""
        if before is not None:
            key, uid = before
            value = to_timestamp(key) if isinstance(key, datetime) else key
            past, beyond = ("<=", "<") if descending else (">=", ">")
            if order == "date":
                after = f"AND (sort_date, uid) {beyond} (?, ?)"
                params += [value, uid]
            else:
                # A row value with COLLATE does not seek the index; this form does (a range
                # on the column, then the ties on uid), checked by the store's tests.
                after = f"AND {column} {past} ? AND ({column} {beyond} ? OR uid {beyond} ?)"
                params += [value, value, uid]
        sql = _PAGE_SORTED.format(
            after=after, column=column, direction="DESC" if descending else "ASC"
        )
        return [_summary(row) for row in self._conn.execute(sql, (*params, limit))]

    @boundary
    def summary(self, account: str, folder: str, uid: int) -> MessageSummary | None:
        row = self._conn.execute(_SUMMARY, (account, folder, uid)).fetchone()
        return None if row is None else _summary(row)

    @boundary
    def save_raw(self, account: str, folder: str, uid: int, raw: bytes) -> bool:
        """Cache a message's raw bytes; False if the message is not (or no longer) stored."""
        with transaction(self._conn) as conn:
            return bool(
                conn.execute(
                    "UPDATE messages SET raw = ? WHERE account = ? AND folder = ? AND uid = ?",
                    (raw, account, folder, uid),
                ).rowcount
            )

    @boundary
    def raw(self, account: str, folder: str, uid: int) -> bytes | None:
        """The cached raw bytes, or None when not fetched yet (or no such message)."""
        row = self._conn.execute(
            "SELECT raw FROM messages WHERE account = ? AND folder = ? AND uid = ?",
            (account, folder, uid),
        ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    # ------------------------------------------------------------------ search

    @boundary
    def index_text(
        self, account: str, folder: str, uid: int, *, headers: str, body_text: str | None
    ) -> bool:
        """Make a message findable by ``headers`` (From, Subject...) and ``body_text``.

        The store writes exactly what it is given, replacing earlier text: pass a
        decrypted body only for mail the user opted in to index. Returns False if the
        message is not stored.
        """
        with transaction(self._conn) as conn:
            row = conn.execute(
                "SELECT id FROM messages WHERE account = ? AND folder = ? AND uid = ?",
                (account, folder, uid),
            ).fetchone()
            if row is None:
                return False
            conn.execute(
                "INSERT INTO message_text (id, headers, body) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET headers = excluded.headers, body = excluded.body",
                (row[0], headers, body_text),
            )
            return True

    @boundary
    def index_texts(
        self, account: str, folder: str, texts: Iterable[tuple[int, str, str | None]]
    ) -> int:
        """:meth:`index_text` for many messages ``(uid, headers, body_text)`` in one
        transaction (a sync indexes thousands: one commit, not thousands). Returns how
        many messages were found and indexed."""
        with transaction(self._conn) as conn:
            self._stage_texts(texts)
            found = conn.execute(_STAGED_TEXT, (account, folder)).rowcount
            conn.execute("DELETE FROM temp.staged_text")
        return found

    def _stage_texts(self, texts: Iterable[tuple[int, str, str | None]]) -> None:
        """Put ``(uid, headers, body)`` rows in the staging table (see ``_STAGE_TEXT``)."""
        self._conn.execute(_STAGE_TEXT)
        self._conn.execute("DELETE FROM temp.staged_text")  # left over by a failed write
        self._conn.executemany("INSERT INTO temp.staged_text VALUES (?, ?, ?)", texts)

    @boundary
    def search(
        self, account: str, query: str, *, folder: str | None = None, limit: int = 100
    ) -> list[MessageSummary]:
        """Indexed messages of ``account`` (and ``folder``) matching every word, newest first.

        Words are matched as literal text (a trailing ``*`` matches a prefix): FTS5 query
        syntax typed by the user is never interpreted, so no input is a syntax error.
        """
        match = fts_query(query)
        if match is None or limit < 1:
            return []
        rows = self._conn.execute(_SEARCH, (match, account, folder, folder, limit)).fetchall()
        return [_summary(row) for row in rows]

    # ------------------------------------------------------------------ outbox

    @boundary
    def enqueue(self, account: str, message_id: str, raw: bytes) -> int:
        """Queue a message for sending; durable once this returns. Returns its id."""
        now = _now()
        with transaction(self._conn) as conn:
            cursor = conn.execute(
                "INSERT INTO outbox (account, message_id, raw, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (account, message_id, raw, now, now),
            )
            assert cursor.lastrowid is not None  # noqa: S101 (an INSERT always sets it)
            return cursor.lastrowid

    @boundary
    def outbox(self, account: str | None = None) -> list[OutboxItem]:
        """Outbox items (of ``account``, or all), oldest first."""
        cursor = self._conn.execute(_OUTBOX, (account, account))
        return [_outbox_item(row) for row in cursor]

    @boundary
    def outbox_item(self, item_id: int) -> OutboxItem | None:
        row = self._conn.execute(_OUTBOX_ITEM, (item_id,)).fetchone()
        return None if row is None else _outbox_item(row)

    @boundary
    def mark_sending(self, item_id: int) -> bool:
        """Claim a queued or failed item for sending and count the attempt.

        Returns False when the item is gone or another sender holds it: the check and
        the change are one statement, so two senders never both claim one message. An
        item found ``sending`` after a crash may or may not have reached the server; the
        caller decides (``mark_failed`` makes it retryable).
        """
        with transaction(self._conn) as conn:
            return bool(
                conn.execute(
                    "UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
                    "updated_at = ? WHERE id = ? AND state IN ('queued', 'failed')",
                    (_now(), item_id),
                ).rowcount
            )

    @boundary
    def mark_sent(self, item_id: int, server_response: str) -> None:
        """Record that the server accepted the message.

        Raises:
            LookupError: the item is not being sent (a bug: claim it with mark_sending).
        """
        self._finish(
            item_id,
            "UPDATE outbox SET state = 'sent', server_response = ?, updated_at = ? "
            "WHERE id = ? AND state = 'sending'",
            server_response,
        )

    @boundary
    def mark_failed(self, item_id: int, error: str, *, maybe_delivered: bool = False) -> None:
        """Record a failed attempt; the item can be claimed again by ``mark_sending``.

        ``maybe_delivered``: the connection was lost after the whole message went out, so
        it may have arrived; the sender must not resend it without checking or asking.

        Raises:
            LookupError: the item is not being sent (a bug: claim it with mark_sending).
        """
        self._finish(item_id, _FAILED_MAYBE if maybe_delivered else _FAILED, error)

    def _finish(self, item_id: int, update: str, text: str) -> None:
        with transaction(self._conn) as conn:
            if not conn.execute(update, (text, _now(), item_id)).rowcount:
                raise LookupError(f"outbox item {item_id} is not being sent")

    @boundary
    def remove_outbox(self, item_id: int) -> None:
        with transaction(self._conn) as conn:
            conn.execute("DELETE FROM outbox WHERE id = ?", (item_id,))

    # ------------------------------------------------------------------ drafts

    @boundary
    def save_draft(self, account: str, raw: bytes, draft_id: int | None = None) -> int:
        """Save a new draft, or replace draft ``draft_id``; returns the draft's id.

        Raises:
            LookupError: ``draft_id`` is not a draft of ``account`` (a bug in the caller).
        """
        now = _now()
        with transaction(self._conn) as conn:
            if draft_id is None:
                cursor = conn.execute(
                    "INSERT INTO drafts (account, raw, updated_at) VALUES (?, ?, ?)",
                    (account, raw, now),
                )
                assert cursor.lastrowid is not None  # noqa: S101 (an INSERT always sets it)
                return cursor.lastrowid
            updated = conn.execute(
                "UPDATE drafts SET raw = ?, updated_at = ? WHERE id = ? AND account = ?",
                (raw, now, draft_id, account),
            ).rowcount
            if not updated:
                raise LookupError(f"no draft {draft_id} in account {account!r}")
            return draft_id

    @boundary
    def drafts(self, account: str) -> list[Draft]:
        """The account's drafts, most recently saved first."""
        rows = self._conn.execute(
            "SELECT id, account, raw, updated_at FROM drafts WHERE account = ? "
            "ORDER BY updated_at DESC, id DESC",
            (account,),
        ).fetchall()
        return [Draft(row[0], row[1], bytes(row[2]), from_timestamp(row[3])) for row in rows]

    @boundary
    def delete_draft(self, draft_id: int) -> None:
        with transaction(self._conn) as conn:
            conn.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))


def fts_query(text: str) -> str | None:
    """The FTS5 query for what a user typed: every word a quoted string, all required.

    Quoting makes ``AND``, ``NEAR(``, ``"``, ``:`` and ``^`` plain text; a ``*`` at the
    end of a word (outside the quotes) asks for a prefix match. None when nothing is left.
    """
    terms = []
    # FTS5 reads the query as a C string: a NUL would cut a quoted word short.
    for word in text.replace("\x00", " ").split():
        core = word.rstrip("*")
        if not core:
            continue
        quoted = '"' + core.replace('"', '""') + '"'
        terms.append(quoted + "*" if core != word else quoted)
    return " ".join(terms) or None


def _now() -> int:
    return to_timestamp(datetime.now(UTC))


def _summary_row(item: MessageSummary) -> tuple[Any, ...]:
    return (
        item.account,
        item.folder,
        item.uid,
        item.uidvalidity,
        flags_text(item.flags),
        None if item.internaldate is None else to_timestamp(item.internaldate),
        item.size,
        item.from_addr,
        item.subject,
        None if item.date is None else to_timestamp(item.date),
        item.message_id,
        item.security,
        to_timestamp(item.sort_key[0]),
    )


def _summary(row: Sequence[Any]) -> MessageSummary:
    (account, folder, uid, uidvalidity, flags, internaldate, size) = row[:7]
    (from_addr, subject, date, message_id, security) = row[7:]
    return MessageSummary(
        account=account,
        folder=folder,
        uid=uid,
        uidvalidity=uidvalidity,
        flags=tuple(flags.split()),
        internaldate=None if internaldate is None else from_timestamp(internaldate),
        size=size,
        from_addr=from_addr,
        subject=subject,
        date=None if date is None else from_timestamp(date),
        message_id=message_id,
        security=security,
    )


def _outbox_item(row: Sequence[Any]) -> OutboxItem:
    return OutboxItem(
        id=row[0],
        account=row[1],
        message_id=row[2],
        raw=bytes(row[3]),
        state=row[4],
        attempts=row[5],
        last_error=row[6],
        server_response=row[7],
        created_at=from_timestamp(row[8]),
        updated_at=from_timestamp(row[9]),
        maybe_delivered=bool(row[10]),
    )


def page_cursor(summary: MessageSummary, order: str) -> tuple[datetime, int] | tuple[str, int]:
    """Where ``summary`` stands in a folder paged by ``order``: pass it as ``before=``."""
    if order == "from":
        return summary.from_addr, summary.uid
    if order == "subject":
        return summary.subject, summary.uid
    return summary.sort_key
