"""How ``store-v1.sqlite3`` was made: a mail store as migration 1 left it, with data.

The fixture is committed and must never be regenerated after migration 1 is released:
it stands for the files users already have. ``test_store.py`` checks that migration 1
still creates the same schema and that the current code upgrades this file intact.

Run once: ``.venv/bin/python -m tests.store_fixtures.make_store_v1``
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from inbox_app.store.schema import MIGRATIONS

FIXTURE = Path(__file__).with_name("store-v1.sqlite3")
ACCOUNT = "alice@example.com"
T0 = 1_750_000_000  # 2025-06-15T15:06:40Z


def make(path: Path) -> None:
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA page_size = 1024")  # a small file to commit
    conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    conn.execute("BEGIN")
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.executemany(
        "INSERT INTO folders VALUES (?, ?, ?, ?, ?, ?)",
        [(ACCOUNT, "INBOX", "inbox", 7, 4, 100), (ACCOUNT, "Sent", "sent", 9, 2, None)],
    )
    conn.executemany(
        "INSERT INTO messages (id, account, folder, uid, uidvalidity, flags, internaldate, "
        "size, from_addr, subject, date, message_id, security, raw) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (1, ACCOUNT, "INBOX", 1, 7, "\\Seen", T0 + 5, 1200, "bob@example.com",
             "Quarterly report", T0, "<1@example.com>", "signed", None),
            # No Date header: sorts by INTERNALDATE after migration 2.
            (2, ACCOUNT, "INBOX", 2, 7, "", T0 + 3600, 800, "carol@example.com",
             "No date here", None, "<2@example.com>", "none", None),
            (3, ACCOUNT, "INBOX", 3, 7, "\\Flagged \\Seen", T0 + 60, 4096,
             "dave@example.com", "Encrypted stuff", T0 + 50, "<3@example.com>",
             "signed+encrypted", b"From: dave@example.com\r\nSubject: [...]\r\n\r\nopaque"),
            (4, ACCOUNT, "Sent", 1, 9, "\\Seen", T0 + 10, 300, "alice@example.com",
             "Re: Quarterly report", T0 + 9, "<4@example.com>", "none", None),
        ],
    )  # fmt: skip
    conn.execute(
        "INSERT INTO message_text (id, headers, body) VALUES (?, ?, ?)",
        (1, "bob@example.com Quarterly report", "the numbers look splendid"),
    )
    conn.execute(
        "INSERT INTO outbox (account, message_id, raw, state, attempts, last_error, "
        "created_at, updated_at) VALUES (?, ?, ?, 'sending', 1, NULL, ?, ?)",
        (ACCOUNT, "<out@example.com>", b"Subject: queued\r\n\r\nhi", T0, T0 + 1),
    )
    conn.execute(
        "INSERT INTO drafts (account, raw, updated_at) VALUES (?, ?, ?)",
        (ACCOUNT, b"Subject: draft\r\n\r\nunfinished", T0 + 2),
    )
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.close()


if __name__ == "__main__":
    make(FIXTURE)
