"""The store's schema as numbered migrations, applied in order, each in one transaction.

``PRAGMA user_version`` holds how many migrations a database has had. Migrations are
append-only: once released, a step is never edited (a user's file was written by it, and
``tests/store_fixtures/store-v1.sqlite3`` checks that); change the schema with a new one.
Each step is a tuple of single statements, because ``executescript`` would commit halfway.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from inbox_app.store._sqlite import transaction
from inbox_app.store.errors import StoreUnavailableError

# 1: folders, messages, their full-text index, outbox and drafts.
_V1 = (
    """
    CREATE TABLE folders (
        account       TEXT NOT NULL,
        name          TEXT NOT NULL,
        role          TEXT CHECK (role IN ('inbox', 'sent', 'drafts', 'trash', 'archive')),
        uidvalidity   INTEGER NOT NULL,
        uidnext       INTEGER,
        highestmodseq INTEGER,
        PRIMARY KEY (account, name)
    )
    """,
    # Dates are whole seconds since the epoch, UTC. ``raw`` is fetched on demand; when
    # present it is the truth and the other columns a cache of it. The unique key leads
    # with uid so a lookup by (account, folder, uid) is one index seek.
    """
    CREATE TABLE messages (
        id           INTEGER PRIMARY KEY,
        account      TEXT NOT NULL,
        folder       TEXT NOT NULL,
        uid          INTEGER NOT NULL,
        uidvalidity  INTEGER NOT NULL,
        flags        TEXT NOT NULL DEFAULT '',
        internaldate INTEGER,
        size         INTEGER NOT NULL DEFAULT 0,
        from_addr    TEXT NOT NULL DEFAULT '',
        subject      TEXT NOT NULL DEFAULT '',
        date         INTEGER,
        message_id   TEXT,
        security     TEXT NOT NULL DEFAULT 'none'
                     CHECK (security IN ('signed', 'encrypted', 'signed+encrypted', 'none')),
        raw          BLOB,
        UNIQUE (account, folder, uid, uidvalidity),
        FOREIGN KEY (account, folder) REFERENCES folders (account, name) ON DELETE CASCADE
    )
    """,
    "CREATE INDEX messages_date ON messages (account, folder, date)",
    # The text that search sees, only what the caller chose to index (index_text): a
    # plaintext body only for mail the user opted in for. The FTS5 table is external
    # content over it, kept in step by triggers; deleting a message cascades here.
    """
    CREATE TABLE message_text (
        id      INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        headers TEXT NOT NULL,
        body    TEXT
    )
    """,
    """
    CREATE VIRTUAL TABLE message_fts USING fts5 (
        headers, body,
        content = 'message_text', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER message_text_ai AFTER INSERT ON message_text BEGIN
        INSERT INTO message_fts (rowid, headers, body) VALUES (new.id, new.headers, new.body);
    END
    """,
    """
    CREATE TRIGGER message_text_ad AFTER DELETE ON message_text BEGIN
        INSERT INTO message_fts (message_fts, rowid, headers, body)
        VALUES ('delete', old.id, old.headers, old.body);
    END
    """,
    """
    CREATE TRIGGER message_text_au AFTER UPDATE ON message_text BEGIN
        INSERT INTO message_fts (message_fts, rowid, headers, body)
        VALUES ('delete', old.id, old.headers, old.body);
        INSERT INTO message_fts (rowid, headers, body) VALUES (new.id, new.headers, new.body);
    END
    """,
    # AUTOINCREMENT: an id is never reused, so a sender holding the id of a removed item
    # can never touch another message.
    """
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        account         TEXT NOT NULL,
        message_id      TEXT NOT NULL,
        raw             BLOB NOT NULL,
        state           TEXT NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        server_response TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE drafts (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        account    TEXT NOT NULL,
        raw        BLOB NOT NULL,
        updated_at INTEGER NOT NULL
    )
    """,
    "CREATE INDEX drafts_account ON drafts (account, updated_at)",
)

# 2: keyset paging, newest first. ``date`` may be NULL (no Date header), and NULLs break
# a row-value cursor, so every message gets a NOT NULL sort_date (Date, else INTERNALDATE,
# else 0) and an index that serves WHERE and ORDER BY of a page: a page is an index seek
# plus ``limit`` steps, whatever the folder's size.
_V2 = (
    "ALTER TABLE messages ADD COLUMN sort_date INTEGER NOT NULL DEFAULT 0",
    "UPDATE messages SET sort_date = coalesce(date, internaldate, 0)",
    "DROP INDEX messages_date",
    "CREATE INDEX messages_page ON messages (account, folder, sort_date, uid)",
)

# 3: a failed send may still have been delivered (the connection was lost after the
# whole message went out): such an item is never resent without asking.
_V3 = ("ALTER TABLE outbox ADD COLUMN maybe_delivered INTEGER NOT NULL DEFAULT 0",)

# 4: the folder list's unread counts. Flags are a sorted, space-separated text, so "not
# seen" is an expression; a partial index over exactly that expression holds the unread
# messages only: counting a folder's unread mail is one range of it (the total is one
# range of messages_page), however large the folder. A query must spell the expression
# exactly as here for SQLite to use the index (MailStore's _FOLDER_VIEWS does).
_V4 = (
    "CREATE INDEX messages_unseen ON messages (account, folder) "
    "WHERE instr(' ' || flags || ' ', ' \\Seen ') = 0",
)

# 5: the message list sorts by sender or subject too (a click on the column header), still
# paged by keyset over an index, so a 100,000-message folder sorts as fast as a small one.
# NOCASE: "alice" and "Alice" sort together, as people expect.
_V5 = (
    "CREATE INDEX messages_by_from ON messages (account, folder, from_addr COLLATE NOCASE, uid)",
    "CREATE INDEX messages_by_subject ON messages (account, folder, subject COLLATE NOCASE, uid)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4, _V5)
VERSION = len(MIGRATIONS)


def version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, path: Path, *, target: int = VERSION) -> None:
    """Bring the database up to ``target``, one transaction per step.

    A step interrupted by a crash leaves the database at the previous version, and the
    next start repeats it. Two processes starting at once are serialised by the write
    lock: the second re-reads the version inside its transaction and finds nothing to do.

    Raises:
        StoreUnavailableError: the database was written by a newer Inbox.
    """
    if version(conn) > VERSION:
        raise StoreUnavailableError(
            f"the mail store {path} was written by a newer version of Inbox"
        )
    while version(conn) < target:
        with transaction(conn):
            current = version(conn)
            if current < target:
                for statement in MIGRATIONS[current]:
                    conn.execute(statement)
                # user_version lives in the file header: it commits with the step.
                conn.execute(f"PRAGMA user_version = {current + 1}")
