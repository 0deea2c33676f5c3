"""How ``store-v3.sqlite3`` was made: a mail store as migrations 1-3 left it, with data.

The fixture is committed and must never be regenerated after migration 3 is released: it
stands for the files users have before migration 4 (the unread index). ``test_store.py``
checks that migrations 1-3 still create the same schema and that the current code
upgrades this file intact, with working unread counts.

Run once: ``.venv/bin/python -m tests.store_fixtures.make_store_v3``
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from inbox_app.store.schema import MIGRATIONS

FIXTURE = Path(__file__).with_name("store-v3.sqlite3")
ACCOUNT = "alice@example.com"
T0 = 1_750_000_000  # 2025-06-15T15:06:40Z


def make(path: Path) -> None:
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA page_size = 1024")  # a small file to commit
    conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    conn.execute("BEGIN")
    for step in MIGRATIONS[:3]:
        for statement in step:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 3")
    conn.executemany(
        "INSERT INTO folders VALUES (?, ?, ?, ?, ?, ?)",
        [(ACCOUNT, "INBOX", "inbox", 7, 6, 100), (ACCOUNT, "Sent", "sent", 9, 2, None),
         (ACCOUNT, "Empty", None, 3, 1, None)],
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO messages (id, account, folder, uid, uidvalidity, flags, internaldate, "
        "size, from_addr, subject, date, message_id, security, raw, sort_date) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (1, ACCOUNT, "INBOX", 1, 7, "\\Seen", T0 + 5, 1200, "bob@example.com",
             "Quarterly report", T0, "<1@example.com>", "signed", None, T0),
            (2, ACCOUNT, "INBOX", 2, 7, "", T0 + 3600, 800, "carol@example.com",
             "Unread", T0 + 3000, "<2@example.com>", "none", None, T0 + 3000),
            (3, ACCOUNT, "INBOX", 3, 7, "\\Flagged \\Seen", T0 + 60, 4096,
             "dave@example.com", "Seen and flagged", T0 + 50, "<3@example.com>",
             "encrypted", None, T0 + 50),
            # Flags that merely contain the word: still unread.
            (4, ACCOUNT, "INBOX", 4, 7, "$NotSeen \\Flagged", T0 + 70, 10,
             "erin@example.com", "Look-alike flag", T0 + 70, "<4@example.com>", "none",
             None, T0 + 70),
            (5, ACCOUNT, "INBOX", 5, 7, "\\Answered", T0 + 80, 10, "frank@example.com",
             "Answered, unread", T0 + 80, "<5@example.com>", "none", None, T0 + 80),
            (6, ACCOUNT, "Sent", 1, 9, "\\Seen", T0 + 10, 300, "alice@example.com",
             "Re: Quarterly report", T0 + 9, "<6@example.com>", "none", None, T0 + 9),
        ],
    )  # fmt: skip
    conn.execute(
        "INSERT INTO message_text (id, headers, body) VALUES (?, ?, ?)",
        (1, "bob@example.com Quarterly report", "the numbers look splendid"),
    )
    conn.execute(
        "INSERT INTO outbox (account, message_id, raw, state, attempts, last_error, "
        "created_at, updated_at, maybe_delivered) VALUES (?, ?, ?, 'failed', 1, ?, ?, ?, 1)",
        (ACCOUNT, "<out@example.com>", b"Subject: queued\r\n\r\nhi", "cut", T0, T0 + 1),
    )
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.close()


if __name__ == "__main__":
    make(FIXTURE)
