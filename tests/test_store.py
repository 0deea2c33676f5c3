"""The local mail store: migrations, permissions, the message cache, paging, search,
outbox, drafts, and how environment failures surface.

Every test gets a throwaway home. Some checks look at the database with a second,
plain ``sqlite3`` connection, as another process would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inbox_app.errors import InboxError
from inbox_app.store import (
    STORE_FILE,
    FolderView,
    MailStore,
    MessageSummary,
    StoreError,
    StoreUnavailableError,
    fts_query,
    schema,
)
from inbox_app.store import mailstore as mailstore_module

FIXTURES = Path(__file__).resolve().parent / "store_fixtures"
ACCOUNT = "alice@example.com"
OTHER = "bob@example.org"
T0 = datetime(2025, 6, 15, 15, 6, 40, tzinfo=UTC)  # the fixture's epoch too


def message(
    uid: int,
    *,
    account: str = ACCOUNT,
    folder: str = "INBOX",
    uidvalidity: int = 7,
    date: datetime | None = T0,
    flags: tuple[str, ...] = (),
    subject: str = "",
    from_addr: str = "bob@example.com",
    security: str = "none",
    internaldate: datetime | None = None,
) -> MessageSummary:
    return MessageSummary(
        account=account,
        folder=folder,
        uid=uid,
        uidvalidity=uidvalidity,
        flags=flags,
        internaldate=internaldate,
        size=100 + uid,
        from_addr=from_addr,
        subject=subject or f"message {uid}",
        date=date,
        message_id=f"<{uid}@example.com>",
        security=security,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def store(home: Path) -> Iterator[MailStore]:
    with MailStore(home) as opened:
        opened.save_folder(
            ACCOUNT, "INBOX", role="inbox", uidvalidity=7, uidnext=1, highestmodseq=None
        )
        yield opened


@contextlib.contextmanager
def peek(path: Path) -> Iterator[sqlite3.Connection]:
    """A second connection to the database, as another process would open it."""
    conn = sqlite3.connect(path)
    try:
        yield conn
    finally:
        conn.close()


def scalar(path: Path, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with peek(path) as conn:
        return conn.execute(sql, params).fetchone()[0]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---------------------------------------------------------------- file, schema, migrations


def test_new_store_is_private_wal_and_current(home: Path) -> None:
    with MailStore(home) as store:
        store.enqueue(ACCOUNT, "<m@example.com>", b"x")  # a write, so the WAL exists
        path = home / STORE_FILE
        assert store.path == path
        assert scalar(path, "PRAGMA user_version") == schema.VERSION
        assert scalar(path, "PRAGMA journal_mode") == "wal"
        assert store._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        if os.name != "nt":
            assert mode(home) == 0o700
            assert mode(path) == 0o600
            assert mode(path.with_name(STORE_FILE + "-wal")) == 0o600


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_loose_permissions_are_tightened(home: Path) -> None:
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    (home / STORE_FILE).touch(mode=0o644)
    (home / STORE_FILE).chmod(0o644)
    with MailStore(home):
        pass
    assert mode(home) == 0o700
    assert mode(home / STORE_FILE) == 0o600


def test_reopening_keeps_data_and_version(home: Path) -> None:
    with MailStore(home) as store:
        store.save_folder(ACCOUNT, "INBOX", role="inbox", uidvalidity=7, uidnext=3, highestmodseq=9)
    with MailStore(home) as store:
        folder = store.folder(ACCOUNT, "INBOX")
        assert folder is not None
        assert (folder.uidnext, folder.highestmodseq) == (3, 9)
    assert scalar(home / STORE_FILE, "PRAGMA user_version") == schema.VERSION


def _schema_sql(path: Path) -> list[tuple[str, str, str]]:
    with peek(path) as conn:
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
        ).fetchall()
    return [(kind, name, " ".join(sql.split())) for kind, name, sql in rows]


def test_migration_1_still_builds_the_fixture_schema(tmp_path: Path) -> None:
    # Migrations are append-only: users' files were written by the released steps.
    fresh = tmp_path / "v1.sqlite3"
    with contextlib.closing(sqlite3.connect(fresh, isolation_level=None)) as conn:
        schema.migrate(conn, fresh, target=1)
        assert schema.version(conn) == 1
    assert _schema_sql(fresh) == _schema_sql(FIXTURES / "store-v1.sqlite3")


def test_upgrade_from_v1_keeps_everything(home: Path) -> None:
    home.mkdir()
    shutil.copyfile(FIXTURES / "store-v1.sqlite3", home / STORE_FILE)
    assert scalar(home / STORE_FILE, "PRAGMA user_version") == 1

    with MailStore(home) as store:
        assert scalar(home / STORE_FILE, "PRAGMA user_version") == schema.VERSION
        assert [f.name for f in store.folders(ACCOUNT)] == ["INBOX", "Sent"]
        inbox = store.folder(ACCOUNT, "INBOX")
        assert inbox is not None
        assert (inbox.role, inbox.uidvalidity, inbox.uidnext, inbox.highestmodseq) == (
            "inbox",
            7,
            4,
            100,
        )
        first = store.summary(ACCOUNT, "INBOX", 1)
        assert first == MessageSummary(
            account=ACCOUNT,
            folder="INBOX",
            uid=1,
            uidvalidity=7,
            flags=("\\Seen",),
            internaldate=T0 + timedelta(seconds=5),
            size=1200,
            from_addr="bob@example.com",
            subject="Quarterly report",
            date=T0,
            message_id="<1@example.com>",
            security="signed",
        )
        assert store.raw(ACCOUNT, "INBOX", 3) == (
            b"From: dave@example.com\r\nSubject: [...]\r\n\r\nopaque"
        )
        # Migration 2 backfilled sort_date: uid 2 has no Date and sorts by INTERNALDATE.
        assert [m.uid for m in store.page(ACCOUNT, "INBOX")] == [2, 3, 1]
        assert [m.uid for m in store.page(ACCOUNT, "INBOX", limit=1, before=(T0, 9))] == [1]
        assert [m.uid for m in store.search(ACCOUNT, "splendid")] == [1]
        [item] = store.outbox()
        assert (item.state, item.attempts, item.message_id) == ("sending", 1, "<out@example.com>")
        [draft] = store.drafts(ACCOUNT)
        assert draft.raw == b"Subject: draft\r\n\r\nunfinished"
        # The upgraded file takes new data like a new one.
        store.add_summaries([message(5, date=T0 + timedelta(days=1))])
        assert store.page(ACCOUNT, "INBOX", limit=1)[0].uid == 5


def test_migrations_1_to_3_still_build_the_v3_fixture_schema(tmp_path: Path) -> None:
    fresh = tmp_path / "v3.sqlite3"
    with contextlib.closing(sqlite3.connect(fresh, isolation_level=None)) as conn:
        schema.migrate(conn, fresh, target=3)
        assert schema.version(conn) == 3
    assert _schema_sql(fresh) == _schema_sql(FIXTURES / "store-v3.sqlite3")


def test_upgrade_from_v3_keeps_everything_and_counts_unread(home: Path) -> None:
    home.mkdir()
    shutil.copyfile(FIXTURES / "store-v3.sqlite3", home / STORE_FILE)
    assert scalar(home / STORE_FILE, "PRAGMA user_version") == 3

    with MailStore(home) as store:
        assert scalar(home / STORE_FILE, "PRAGMA user_version") == schema.VERSION
        # Migration 4 indexed the messages already there: unread means no \Seen flag
        # (a flag that merely contains the word does not count).
        assert store.folder_views(ACCOUNT) == [
            FolderView(ACCOUNT, "Empty", None, 0, 0),
            FolderView(ACCOUNT, "INBOX", "inbox", 5, 3),
            FolderView(ACCOUNT, "Sent", "sent", 1, 0),
        ]
        assert [m.uid for m in store.page(ACCOUNT, "INBOX")] == [2, 5, 4, 3, 1]
        assert [m.uid for m in store.search(ACCOUNT, "splendid")] == [1]
        [item] = store.outbox()
        assert (item.state, item.maybe_delivered) == ("failed", True)
        # The counts follow flag changes, new messages and removals.
        store.set_flags(ACCOUNT, "INBOX", {2: ("\\Seen",), 1: ()})
        store.add_summaries([message(9, flags=("\\Flagged",))])
        store.remove_uids(ACCOUNT, "INBOX", [5])
        inbox = [v for v in store.folder_views(ACCOUNT) if v.name == "INBOX"]
        assert inbox == [FolderView(ACCOUNT, "INBOX", "inbox", 5, 3)]


def test_a_newer_store_is_refused(home: Path) -> None:
    with MailStore(home):
        pass
    with peek(home / STORE_FILE) as conn:
        conn.execute(f"PRAGMA user_version = {schema.VERSION + 1}")
    with pytest.raises(StoreUnavailableError, match="newer version of Inbox"):
        MailStore(home)


# ---------------------------------------------------------------- folders and messages


def test_dates_round_trip_in_utc(store: MailStore) -> None:
    local = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))
    store.add_summaries([message(1, date=local, internaldate=local)])
    stored = store.summary(ACCOUNT, "INBOX", 1)
    assert stored is not None
    assert stored.date == local
    assert stored.date is not None
    assert stored.date.tzinfo == UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        message(2, date=datetime(2025, 1, 1))


def test_summaries_are_validated() -> None:
    with pytest.raises(ValueError, match="security"):
        message(1, security="trusted")
    with pytest.raises(ValueError, match="flag"):
        message(1, flags=("two words",))


def test_upsert_is_idempotent_and_keeps_raw_and_text(store: MailStore) -> None:
    batch = [message(uid) for uid in (1, 2, 3)]
    assert store.add_summaries(batch) == 3
    assert store.save_raw(ACCOUNT, "INBOX", 2, b"raw two")
    assert store.index_text(ACCOUNT, "INBOX", 2, headers="bob lemon", body_text=None)
    assert store.add_summaries(batch) == 3
    assert store.count(ACCOUNT, "INBOX") == 3
    changed = message(2, subject="edited", flags=("\\Seen",))
    assert store.add_summaries([changed]) == 1
    assert store.summary(ACCOUNT, "INBOX", 2) == changed
    assert store.raw(ACCOUNT, "INBOX", 2) == b"raw two"
    assert [m.uid for m in store.search(ACCOUNT, "lemon")] == [2]
    assert store.uids(ACCOUNT, "INBOX") == [1, 2, 3]


def test_stale_and_unknown_folders(store: MailStore) -> None:
    # Fetched under an old UIDVALIDITY: meaningless now, so not written.
    assert store.add_summaries([message(1, uidvalidity=6), message(2)]) == 1
    assert store.uids(ACCOUNT, "INBOX") == [2]
    with pytest.raises(LookupError, match="Nowhere"):
        store.add_summaries([message(3), message(1, folder="Nowhere")])
    assert store.uids(ACCOUNT, "INBOX") == [2]  # the whole batch rolled back


def test_flags(store: MailStore) -> None:
    store.add_summaries([message(1), message(2, flags=("\\Seen",))])
    store.set_flags(ACCOUNT, "INBOX", {1: ["\\Seen", "\\Flagged", "\\Seen"], 2: [], 99: []})
    first, second = store.summary(ACCOUNT, "INBOX", 1), store.summary(ACCOUNT, "INBOX", 2)
    assert first is not None
    assert second is not None
    assert first.flags == ("\\Flagged", "\\Seen")
    assert second.flags == ()
    with pytest.raises(ValueError, match="flag"):
        store.set_flags(ACCOUNT, "INBOX", {1: ["bad flag"]})
    with pytest.raises(TypeError):
        store.set_flags(ACCOUNT, "INBOX", {1: "\\Seen"})  # one string, not a list of flags


def test_remove_uids_takes_raw_and_text_along(store: MailStore) -> None:
    store.add_summaries([message(uid) for uid in (1, 2, 3)])
    store.save_raw(ACCOUNT, "INBOX", 2, b"raw")
    store.index_text(ACCOUNT, "INBOX", 2, headers="kumquat", body_text="secret words")
    store.remove_uids(ACCOUNT, "INBOX", [2, 42])
    assert store.uids(ACCOUNT, "INBOX") == [1, 3]
    assert store.summary(ACCOUNT, "INBOX", 2) is None
    assert store.raw(ACCOUNT, "INBOX", 2) is None
    assert store.search(ACCOUNT, "kumquat") == []
    assert scalar(store.path, "SELECT count(*) FROM message_text") == 0
    assert not store.save_raw(ACCOUNT, "INBOX", 2, b"late")
    assert not store.index_text(ACCOUNT, "INBOX", 2, headers="late", body_text=None)


def _fts_rows(store: MailStore, word: str) -> int:
    return int(
        scalar(store.path, "SELECT count(*) FROM message_fts WHERE message_fts MATCH ?", (word,))
    )


def test_reset_on_uidvalidity_change(store: MailStore) -> None:
    store.save_folder(ACCOUNT, "Sent", role="sent", uidvalidity=3, uidnext=2, highestmodseq=5)
    store.add_summaries([message(1), message(2), message(1, folder="Sent", uidvalidity=3)])
    store.index_text(ACCOUNT, "INBOX", 1, headers="walrus", body_text="tusk")
    store.index_text(ACCOUNT, "Sent", 1, headers="walrus", body_text=None)
    assert _fts_rows(store, "walrus") == 2

    store.reset_folder(ACCOUNT, "INBOX", uidvalidity=8)

    assert store.uids(ACCOUNT, "INBOX") == []
    assert _fts_rows(store, "walrus") == 1
    assert _fts_rows(store, "tusk") == 0
    assert [m.folder for m in store.search(ACCOUNT, "walrus")] == ["Sent"]
    inbox = store.folder(ACCOUNT, "INBOX")
    assert inbox is not None
    assert (inbox.uidvalidity, inbox.uidnext, inbox.highestmodseq) == (8, None, None)
    assert store.uids(ACCOUNT, "Sent") == [1]
    with pytest.raises(LookupError):
        store.reset_folder(ACCOUNT, "Nowhere", uidvalidity=1)


def test_saving_a_new_uidvalidity_drops_stale_messages(store: MailStore) -> None:
    store.add_summaries([message(1)])
    store.save_folder(ACCOUNT, "INBOX", role="inbox", uidvalidity=7, uidnext=2, highestmodseq=1)
    assert store.uids(ACCOUNT, "INBOX") == [1]
    store.save_folder(ACCOUNT, "INBOX", role="inbox", uidvalidity=8, uidnext=1, highestmodseq=1)
    assert store.uids(ACCOUNT, "INBOX") == []


def test_folders_and_delete_folder(store: MailStore) -> None:
    store.save_folder(OTHER, "INBOX", role="inbox", uidvalidity=1, uidnext=1, highestmodseq=None)
    store.save_folder(
        ACCOUNT, "Archive", role="archive", uidvalidity=2, uidnext=1, highestmodseq=None
    )
    store.add_summaries([message(1, folder="Archive", uidvalidity=2)])
    assert [f.name for f in store.folders(ACCOUNT)] == ["Archive", "INBOX"]
    store.delete_folder(ACCOUNT, "Archive")
    assert store.folder(ACCOUNT, "Archive") is None
    assert scalar(store.path, "SELECT count(*) FROM messages") == 0
    assert [f.account for f in store.folders(OTHER)] == [OTHER]
    with pytest.raises(ValueError, match="role"):
        store.save_folder(ACCOUNT, "X", role="spam", uidvalidity=1, uidnext=1, highestmodseq=None)


# ---------------------------------------------------------------- paging


def test_keyset_paging_returns_every_row_once_in_order(store: MailStore) -> None:
    # Many equal dates (ties broken by uid), and messages without a Date header.
    summaries = [
        message(
            uid,
            date=None if uid % 10 == 0 else T0 + timedelta(minutes=uid % 17),
            internaldate=T0 + timedelta(minutes=uid % 5) if uid % 20 == 0 else None,
        )
        for uid in range(1, 1001)
    ]
    store.add_summaries(summaries)
    expected = sorted(summaries, key=lambda m: m.sort_key, reverse=True)

    seen: list[MessageSummary] = []
    before = None
    while page := store.page(ACCOUNT, "INBOX", limit=37, before=before):
        assert len(page) <= 37
        seen.extend(page)
        before = page[-1].sort_key
    assert seen == expected
    assert store.page(ACCOUNT, "INBOX", limit=5, before=before) == []
    with pytest.raises(ValueError, match="limit"):
        store.page(ACCOUNT, "INBOX", limit=0)


def test_pages_of_a_100000_message_folder_use_the_index(store: MailStore) -> None:
    n = 100_000
    written = store.add_summaries(
        message(uid, date=T0 + timedelta(minutes=uid // 3)) for uid in range(1, n + 1)
    )
    assert written == n
    assert store.count(ACCOUNT, "INBOX") == n

    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    store.page(ACCOUNT, "INBOX", limit=100)
    store.page(ACCOUNT, "INBOX", limit=100, before=(T0, 0))
    store._conn.set_trace_callback(None)
    assert len(statements) == 2
    with peek(store.path) as conn:
        for sql in statements:
            plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
            assert "USING INDEX messages_page" in plan or "USING COVERING INDEX" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
            assert "SCAN" not in plan, plan

    newest = store.page(ACCOUNT, "INBOX", limit=3)
    assert [m.uid for m in newest] == [n, n - 1, n - 2]
    middle = store.summary(ACCOUNT, "INBOX", 50_000)
    assert middle is not None
    after = store.page(ACCOUNT, "INBOX", limit=4, before=middle.sort_key)
    assert [m.uid for m in after] == [49_999, 49_998, 49_997, 49_996]


def test_folder_views_count_with_one_indexed_query(store: MailStore) -> None:
    n = 100_000
    store.save_folder(ACCOUNT, "Sent", role="sent", uidvalidity=3, uidnext=1, highestmodseq=None)
    store.save_folder(OTHER, "INBOX", role="inbox", uidvalidity=1, uidnext=1, highestmodseq=None)
    store.add_summaries(
        message(uid, flags=("\\Seen",) if uid % 10 else ("\\Flagged",)) for uid in range(1, n + 1)
    )
    store.add_summaries([message(1, folder="Sent", uidvalidity=3, flags=("\\Seen",))])
    store.add_summaries([message(1, account=OTHER, uidvalidity=1)])
    assert store.folder_views(ACCOUNT) == [
        FolderView(ACCOUNT, "INBOX", "inbox", n, n // 10),
        FolderView(ACCOUNT, "Sent", "sent", 1, 0),
    ]
    assert store.folder_views("nobody@example.com") == []
    with peek(store.path) as conn:
        plan = [
            row[3]
            for row in conn.execute(
                "EXPLAIN QUERY PLAN " + mailstore_module._FOLDER_VIEWS, (ACCOUNT,)
            )
        ]
    searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert len(searches) == 3, plan
    assert "USING COVERING INDEX messages_page" in searches[1], plan
    assert "USING INDEX messages_unseen" in searches[2], plan
    assert not any("SCAN" in step or "TEMP B-TREE" in step for step in plan), plan


# ---------------------------------------------------------------- search


@pytest.fixture
def indexed(store: MailStore) -> MailStore:
    store.save_folder(ACCOUNT, "Sent", role="sent", uidvalidity=3, uidnext=1, highestmodseq=None)
    store.save_folder(OTHER, "INBOX", role="inbox", uidvalidity=7, uidnext=1, highestmodseq=None)
    later = T0 + timedelta(hours=1)
    rows = [
        (message(1, subject="Quarterly report", from_addr="carol@example.com"), "the figures"),
        (message(2, subject="Lunch", from_addr="dave@example.com", date=T0 + timedelta(1)), None),
        (
            message(1, folder="Sent", uidvalidity=3, subject="Re: report", date=later),
            "numbers attached",
        ),
        (message(1, account=OTHER, subject="Other report", from_addr="eve@evil.example"), "x"),
    ]
    store.add_summaries(summary for summary, _ in rows)
    for summary, body in rows:
        store.index_text(
            summary.account,
            summary.folder,
            summary.uid,
            headers=f"{summary.from_addr} {summary.subject}",
            body_text=body,
        )
    return store


def _found(store: MailStore, query: str, **kwargs: Any) -> list[tuple[str, int]]:
    return [(m.folder, m.uid) for m in store.search(ACCOUNT, query, **kwargs)]


def test_search_subject_from_and_body(indexed: MailStore) -> None:
    assert _found(indexed, "report") == [("Sent", 1), ("INBOX", 1)]
    assert _found(indexed, "Quarterly") == [("INBOX", 1)]
    assert _found(indexed, "dave@example.com") == [("INBOX", 2)]
    assert _found(indexed, "figures") == [("INBOX", 1)]
    assert _found(indexed, "report numbers") == [("Sent", 1)]  # every word must match
    assert _found(indexed, "quart*") == [("INBOX", 1)]
    assert _found(indexed, "report", folder="INBOX") == [("INBOX", 1)]
    assert _found(indexed, "report", limit=1) == [("Sent", 1)]
    assert _found(indexed, "nothing-like-this") == []


def test_search_is_scoped_to_the_account(indexed: MailStore) -> None:
    assert _found(indexed, "eve") == []
    assert [m.account for m in indexed.search(OTHER, "report")] == [OTHER]


def test_index_text_replaces_and_headers_only(indexed: MailStore) -> None:
    indexed.index_text(ACCOUNT, "INBOX", 1, headers="carol Quarterly report", body_text=None)
    assert _found(indexed, "figures") == []
    assert _found(indexed, "Quarterly") == [("INBOX", 1)]


@pytest.mark.parametrize(
    "query",
    ['"', '""', "AND OR", "*", "NEAR(", "NEAR(a b", "a OR", "NOT", "(", ")", "subject:x",
     "^start", "-x", "+", "'", "a\"b", '"*', "**report", "\\", "{a b}", ":", "\x00", ""],
)  # fmt: skip
def test_hostile_queries_do_not_raise(indexed: MailStore, query: str) -> None:
    assert isinstance(indexed.search(ACCOUNT, query), list)


def test_operators_are_plain_words(indexed: MailStore) -> None:
    indexed.add_summaries([message(9, subject="AND OR NOT NEAR")])
    indexed.index_text(ACCOUNT, "INBOX", 9, headers="AND OR NOT NEAR", body_text=None)
    assert _found(indexed, "and or") == [("INBOX", 9)]
    assert _found(indexed, 'report"') == [("Sent", 1), ("INBOX", 1)]


@given(query=st.text(max_size=40))
def test_no_query_raises(query: str) -> None:
    with contextlib.ExitStack() as stack:
        conn = stack.enter_context(contextlib.closing(sqlite3.connect(":memory:")))
        for statement in schema.MIGRATIONS[0]:
            conn.execute(statement)
        match = fts_query(query)
        if match is not None:
            conn.execute("SELECT rowid FROM message_fts WHERE message_fts MATCH ?", (match,))


def test_fts_query_quotes_every_word() -> None:
    assert fts_query("  ") is None
    assert fts_query("***") is None
    assert fts_query('a "b" c*') == '"a" """b""" "c"*'
    assert fts_query("NEAR(x") == '"NEAR(x"'
    assert fts_query("a\x00b") == '"a" "b"'


# ---------------------------------------------------------------- outbox and drafts


def test_outbox_state_transitions(store: MailStore) -> None:
    first = store.enqueue(ACCOUNT, "<1@example.com>", b"one")
    second = store.enqueue(OTHER, "<2@example.com>", b"two")
    assert [i.id for i in store.outbox()] == [first, second]
    assert [i.id for i in store.outbox(ACCOUNT)] == [first]
    item = store.outbox_item(first)
    assert item is not None
    assert (item.state, item.attempts, item.raw, item.last_error) == ("queued", 0, b"one", None)

    with pytest.raises(LookupError):
        store.mark_sent(first, "250 OK")  # not claimed
    assert store.mark_sending(first)
    assert not store.mark_sending(first)  # one sender at a time
    store.mark_failed(first, "421 try later")
    item = store.outbox_item(first)
    assert item is not None
    assert (item.state, item.attempts, item.last_error) == ("failed", 1, "421 try later")

    assert store.mark_sending(first)
    store.mark_sent(first, "250 2.0.0 queued as 1234")
    item = store.outbox_item(first)
    assert item is not None
    assert (item.state, item.attempts) == ("sent", 2)
    assert item.server_response == "250 2.0.0 queued as 1234"
    assert item.updated_at >= item.created_at
    assert not store.mark_sending(first)  # sent stays sent
    with pytest.raises(LookupError):
        store.mark_failed(first, "late")

    store.remove_outbox(first)
    assert store.outbox_item(first) is None
    assert not store.mark_sending(first)
    third = store.enqueue(ACCOUNT, "<3@example.com>", b"three")
    assert third > second  # ids are never reused


def test_outbox_survives_close_and_reopen(home: Path) -> None:
    with MailStore(home) as store:
        queued = store.enqueue(ACCOUNT, "<q@example.com>", b"q")
        sending = store.enqueue(ACCOUNT, "<s@example.com>", b"s")
        store.mark_sending(sending)
    with MailStore(home) as store:
        assert [(i.id, i.state) for i in store.outbox()] == [
            (queued, "queued"),
            (sending, "sending"),
        ]


def test_outbox_survives_a_crash_between_steps(home: Path) -> None:
    # The child process dies without closing anything: no checkpoint, no cleanup.
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from inbox_app.store import MailStore\n"
        "store = MailStore(Path(sys.argv[1]))\n"
        "store.enqueue('a', '<q@x>', b'queued')\n"
        "store.mark_sending(store.enqueue('a', '<s@x>', b'sending'))\n"
        "os._exit(3)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(home)], check=False)
    assert result.returncode == 3
    assert (home / (STORE_FILE + "-wal")).exists()  # the commits live in the WAL
    with MailStore(home) as store:
        assert [(i.raw, i.state, i.attempts) for i in store.outbox()] == [
            (b"queued", "queued", 0),
            (b"sending", "sending", 1),
        ]


def test_drafts(store: MailStore, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(1_750_000_000, 1_750_000_100))
    monkeypatch.setattr(mailstore_module, "_now", lambda: next(clock))
    first = store.save_draft(ACCOUNT, b"first")
    second = store.save_draft(ACCOUNT, b"second")
    store.save_draft(OTHER, b"theirs")
    assert [d.raw for d in store.drafts(ACCOUNT)] == [b"second", b"first"]
    assert store.save_draft(ACCOUNT, b"first, edited", first) == first
    drafts = store.drafts(ACCOUNT)
    assert [(d.id, d.raw) for d in drafts] == [(first, b"first, edited"), (second, b"second")]
    assert drafts[0].updated_at == datetime(2025, 6, 15, 15, 6, 43, tzinfo=UTC)
    with pytest.raises(LookupError):
        store.save_draft(OTHER, b"hijack", first)
    store.delete_draft(first)
    store.delete_draft(first)  # already gone: nothing to do
    assert [d.id for d in store.drafts(ACCOUNT)] == [second]
    with pytest.raises(LookupError):
        store.save_draft(ACCOUNT, b"resurrect", first)


# ---------------------------------------------------------------- failures


def test_error_tree() -> None:
    assert issubclass(StoreUnavailableError, StoreError)
    assert issubclass(StoreError, InboxError)
    assert issubclass(StoreError, OSError)


def _one_line(error: pytest.ExceptionInfo[StoreUnavailableError]) -> str:
    text = str(error.value)
    assert "\n" not in text
    assert isinstance(error.value.__cause__, sqlite3.Error)
    return text


def test_a_locked_database_is_unavailable(home: Path) -> None:
    with MailStore(home, busy_timeout=0.05) as store, peek(home / STORE_FILE) as other:
        other.isolation_level = None
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO drafts (account, raw, updated_at) VALUES ('x', x'00', 0)")
        with pytest.raises(StoreUnavailableError) as error:
            store.enqueue(ACCOUNT, "<m@example.com>", b"m")
        assert "locked by another program" in _one_line(error)
        assert store.outbox() == []  # readers go on in WAL mode
        other.execute("ROLLBACK")
        store.enqueue(ACCOUNT, "<m@example.com>", b"m")  # and it recovers


def test_a_read_only_database_is_unavailable(store: MailStore) -> None:
    store._conn.execute("PRAGMA query_only = ON")  # what a read-only file looks like to SQLite
    with pytest.raises(StoreUnavailableError) as error:
        store.enqueue(ACCOUNT, "<m@example.com>", b"m")
    assert "read-only" in _one_line(error)


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root ignores file modes")
def test_a_read_only_file_is_unavailable(home: Path) -> None:
    with MailStore(home):
        pass
    (home / STORE_FILE).chmod(0o400)
    home.chmod(0o500)
    try:
        with pytest.raises(StoreUnavailableError, match="mail store"):
            MailStore(home)
    finally:
        home.chmod(0o700)


def test_a_full_disk_is_unavailable(store: MailStore) -> None:
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreUnavailableError) as error:
        store.save_draft(ACCOUNT, os.urandom(64 * 1024))
    assert "disk is full" in _one_line(error)
    assert store.drafts(ACCOUNT) == []  # rolled back, still usable


def test_a_damaged_file_is_unavailable(home: Path) -> None:
    home.mkdir()
    (home / STORE_FILE).write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(StoreUnavailableError) as error:
        MailStore(home)
    assert "not a mail store database" in _one_line(error)


def test_bugs_keep_their_type(store: MailStore) -> None:
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        store._conn.execute("SELECT * FROM nowhere")
    store.add_summaries([message(1)])
    with pytest.raises(sqlite3.IntegrityError):
        # The schema backs the dataclass's check; a bypass is a bug, not an outage.
        store._conn.execute("UPDATE messages SET security = 'bogus'")
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):
        store.count(ACCOUNT, "INBOX")


# ---------------------------------------------------------------- sorted paging


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("order", ["date", "from", "subject"])
def test_every_sort_order_pages_through_a_folder_exactly_once(
    store: MailStore, order: str, descending: bool
) -> None:
    from inbox_app.store.mailstore import page_cursor

    senders = ["bob@example.com", "Alice@example.com", "alice@example.com", "carol@x.org"]
    store.add_summaries(
        message(uid, date=T0 + timedelta(hours=uid % 7), from_addr=senders[uid % 4],
                subject=f"Topic {uid % 5}")
        for uid in range(1, 58)
    )  # fmt: skip
    seen, before = [], None
    while page := store.page(ACCOUNT, "INBOX", limit=10, before=before, order=order,
                             descending=descending):  # fmt: skip
        seen.extend(page)
        before = page_cursor(page[-1], order)
    assert sorted(m.uid for m in seen) == list(range(1, 58))
    key = {
        "date": lambda m: m.sort_key,
        "from": lambda m: (m.from_addr.lower(), m.uid),
        "subject": lambda m: (m.subject.lower(), m.uid),
    }[order]
    assert seen == sorted(seen, key=key, reverse=descending)


def test_sorted_pages_seek_an_index(store: MailStore) -> None:
    from inbox_app.store import mailstore as module

    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    for order in ("from", "subject", "date"):
        for descending in (True, False):
            store.page(ACCOUNT, "INBOX", order=order, descending=descending, before=("m", 5)
                       if order != "date" else (T0, 5))  # fmt: skip
    store._conn.set_trace_callback(None)
    assert statements
    for sql in statements:
        plan = store._conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        text = " ".join(str(row[-1]) for row in plan)
        # A seek on the sort column (not a walk from the folder's start), no sorting step.
        assert "TEMP B-TREE" not in text, text
        assert ">" in text or "<" in text, text
    assert module.SORT_ORDERS


def test_an_unknown_order_is_refused(store: MailStore) -> None:
    with pytest.raises(ValueError, match="unknown order"):
        store.page(ACCOUNT, "INBOX", order="size")


def test_a_cursor_of_another_order_is_refused(store: MailStore) -> None:
    with pytest.raises(ValueError, match="cursor"):
        store.page(ACCOUNT, "INBOX", before=("alice", 1))
    with pytest.raises(ValueError, match="cursor"):
        store.page(ACCOUNT, "INBOX", order="from", before=(T0, 1))


def test_deleted_rows_are_overwritten(store: MailStore) -> None:
    # Set by the store itself: some SQLite builds (Debian's) default to it, others do not.
    assert store._conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    secret = b"PLAINTEXT-MARKER-7f3a"
    draft = store.save_draft(ACCOUNT, b"Subject: x\r\n\r\n" + secret)
    store.delete_draft(draft)
    store.close()
    for path in store.path.parent.glob(store.path.name + "*"):
        assert secret not in path.read_bytes(), path.name
